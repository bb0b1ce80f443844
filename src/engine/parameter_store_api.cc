// SSM Parameter Store's PutParameter, GetParameter, GetParameters, GetParametersByPath and
// DeleteParameter over the secret store, answered and worded as AWS answers them.
#include <re2/re2.h>

#include <algorithm>

#include "base/crypto.h"
#include "base/strings.h"
#include "engine/secret_store.h"

namespace slipway::engine {

using nlohmann::json;

namespace {

/// AWS's standard-tier cap on parameters per account and region, and the engine's.
constexpr int64_t kMaxParameters = 10'000;
constexpr size_t kStandardValueChars = 4096;
constexpr size_t kAdvancedValueChars = 8192;
constexpr size_t kMaxNameChars = 1011;
constexpr size_t kMaxHierarchyLevels = 15;

constexpr const char* kNameRules =
    "The parameter doesn't meet the parameter name requirements. The parameter name must begin "
    "with "
    "a forward slash \"/\". It can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). It "
    "must "
    "use only letters, numbers, or the following symbols: . (period), - (hyphen), _ (underscore). "
    "Special characters are not allowed. All sub-paths, if specified, must use the forward slash "
    "symbol \"/\". Valid example: /get/parameters2-/by1./path0_.";

ApiError Validation(std::string m) { return {"ValidationException", std::move(m), 400}; }
ApiError Internal(std::string m) { return {"InternalServerError", std::move(m), 500}; }
ApiError NotFound(const std::string& name) {
  return {"ParameterNotFound", "Parameter " + name + " not found.", 400};
}

double Seconds(int64_t ms) { return static_cast<double>(ms) / 1000.0; }

size_t Characters(const std::string& s) {
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool NameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-' || c == '/';
}

/// Why `name` cannot name a new parameter, or nullopt.
std::optional<ApiError> NameProblem(const std::string& name) {
  if (!std::all_of(name.begin(), name.end(), NameChar)) return Validation(kNameRules);
  const std::string bare = Lower(name.substr(name.starts_with("/") ? 1 : 0));
  if (bare.starts_with("aws") || bare.starts_with("ssm")) {
    return Validation(
        "Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive).");
  }
  if (name.find('/') != std::string::npos &&
      (!name.starts_with("/") || name.ends_with("/") || name.find("//") != std::string::npos)) {
    return Validation("Parameter name must be a fully qualified name.");
  }
  if (name.size() > kMaxNameChars) {
    return Validation("Parameter name: can't be longer than " + std::to_string(kMaxNameChars) +
                      " characters.");
  }
  if (static_cast<size_t>(std::count(name.begin(), name.end(), '/')) > kMaxHierarchyLevels) {
    return ApiError{
        "HierarchyLevelLimitExceededException",
        "A hierarchy can have a maximum of 15 levels. For more information, see Requirements and "
        "constraints for parameter names in the AWS Systems Manager User Guide.",
        400};
  }
  return std::nullopt;
}

/// Why the request's value does not fit its tier, or nullopt. Sizes count characters, as AWS does.
std::optional<ApiError> ValueProblem(const std::string& value, const std::string& tier) {
  const size_t chars = Characters(value);
  if (chars == 0) {
    return Validation(
        "1 validation error detected: Value at 'value' failed to satisfy constraint: Member must "
        "have "
        "length greater than or equal to 1.");
  }
  if (chars > kAdvancedValueChars) {
    return Validation(
        "1 validation error detected: Value at 'value' failed to satisfy constraint: Member must "
        "have "
        "length less than or equal to 8192.");
  }
  if (tier == "Standard" && chars > kStandardValueChars) {
    return Validation(
        "Standard tier parameters support a maximum parameter value of 4096 characters. To create "
        "a "
        "larger parameter value, upgrade the parameter to use the advanced-parameter tier. For "
        "more "
        "information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/"
        "parameter-store-advanced-parameters.html");
  }
  return std::nullopt;
}

/// Whether `value` matches the request's AllowedPattern (RE2: linear time on any input).
std::optional<ApiError> PatternProblem(const json& r, const std::string& value, bool secure) {
  if (!r.contains("AllowedPattern")) return std::nullopt;
  const std::string pattern = r["AllowedPattern"].get<std::string>();
  RE2::Options options;
  options.set_log_errors(false);
  const RE2 regex(pattern, options);
  if (!regex.ok()) {
    return ApiError{"InvalidAllowedPatternException",
                    "The allowed pattern is not a valid regular expression.", 400};
  }
  if (RE2::FullMatch(value, regex)) return std::nullopt;
  return ApiError{"ParameterPatternMismatchException",
                  (secure ? std::string("Parameter value") : "Parameter value, " + value + ",") +
                      " failed to satisfy constraint specified by allowed pattern: " + pattern,
                  400};
}

}  // namespace

ApiResult SecretStore::HandleSsm(const std::string& op, const json& r) {
  std::lock_guard lock(mu_);
  try {
    if (op == "PutParameter") return PutParameter(r);
    if (op == "GetParameter") return GetParameter(r);
    if (op == "GetParameters") return GetParameters(r);
    if (op == "GetParametersByPath") return GetParametersByPath(r);
    if (op == "DeleteParameter") return DeleteParameter(r);
  } catch (const json::exception&) {  // last resort, as in LogService::Handle: no library text
    return tl::unexpected(
        ApiError{"SerializationException", "A member of the request has an unexpected type.", 400});
  }
  return tl::unexpected(ApiError{"UnknownOperationException",
                                 "The engine does not implement SSM operation " + op + ".", 400});
}

ApiResult SecretStore::PutParameter(const json& r) {
  const std::string name = r.at("Name").get<std::string>();
  const std::string value = r.at("Value").get<std::string>();
  if (auto bad = NameProblem(name)) return tl::unexpected(*bad);
  const bool overwrite = r.value("Overwrite", false);
  if (overwrite && r.contains("Tags")) {
    return tl::unexpected(
        Validation("Invalid request: tags and overwrite can't be used together. To create a "
                   "parameter with tags, please "
                   "remove overwrite flag. To update tags for an existing parameter, please use "
                   "AddTagsToResource or "
                   "RemoveTagsFromResource."));
  }
  if (r.contains("Policies")) {
    return tl::unexpected(ApiError{"InvalidPolicyTypeException",
                                   "The engine does not apply parameter policies.", 400});
  }
  auto existing = FindParameter(name);
  if (existing && !overwrite) {
    return tl::unexpected(ApiError{"ParameterAlreadyExists",
                                   "The parameter already exists. To overwrite this value, set the "
                                   "overwrite option in the request to true.",
                                   400});
  }
  if (!existing && !r.contains("Type")) {
    return tl::unexpected(Validation("A parameter type is required when you create a parameter."));
  }
  const std::string type = r.value("Type", existing ? existing->type : "");
  std::string tier = r.value("Tier", existing ? existing->tier : "Standard");
  if (tier == "Intelligent-Tiering")
    tier = Characters(value) > kStandardValueChars ? "Advanced" : "Standard";
  if (existing && existing->tier == "Advanced" && tier == "Standard") {
    return tl::unexpected(Validation(
        "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the "
        "advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the "
        "advanced "
        "parameter and recreate it as a standard parameter."));
  }
  if (auto bad = ValueProblem(value, tier)) return tl::unexpected(*bad);
  if (r.contains("KeyId") && type != "SecureString") {
    return tl::unexpected(Validation("KeyId is required for SecureString type parameter only."));
  }
  const std::string data_type = r.value("DataType", existing ? existing->data_type : "text");
  if (data_type != "text" && data_type != "aws:ec2:image" && data_type != "aws:ssm:integration") {
    return tl::unexpected(Validation("The following data type is not supported: " + data_type +
                                     " (Data type names are all lowercase.)"));
  }
  if (auto bad = PatternProblem(r, value, type == "SecureString")) return tl::unexpected(*bad);
  if (!existing) {
    auto count = Prepare(db_.get(), "SELECT COUNT(*) FROM parameters");
    if (!count || sqlite3_step(count->get()) != SQLITE_ROW)
      return tl::unexpected(Internal("parameter store unavailable"));
    if (sqlite3_column_int64(count->get(), 0) >= kMaxParameters) {
      return tl::unexpected(
          ApiError{"ParameterLimitExceeded",
                   "You have exceeded the number of parameters for this AWS account. Delete "
                   "unnecessary parameters and try again.",
                   400});
    }
  }
  const int64_t version = existing ? existing->version + 1 : 1;
  const std::string key_id = type != "SecureString"                  ? ""
                             : r.contains("KeyId")                   ? r["KeyId"].get<std::string>()
                             : existing && !existing->key_id.empty() ? existing->key_id
                                                                     : "alias/aws/ssm";
  auto s = Prepare(
      db_.get(),
      "INSERT OR REPLACE INTO parameters(name, type, version, modified, description, key_id, tier, "
      "data_type, sealed) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  if (!s) return tl::unexpected(Internal(s.error().message));
  Bind(s->get(), 1, name);
  Bind(s->get(), 2, type);
  Bind(s->get(), 3, version);
  Bind(s->get(), 4, NowMs());
  Bind(s->get(), 5, r.value("Description", existing ? existing->description : ""));
  Bind(s->get(), 6, key_id);
  Bind(s->get(), 7, tier);
  Bind(s->get(), 8, data_type);
  BindBlob(s->get(), 9, Seal(key_, value, ParameterContext(name, version)));
  if (sqlite3_step(s->get()) != SQLITE_DONE)
    return tl::unexpected(Internal(sqlite3_errmsg(db_.get())));
  return json{{"Version", version}, {"Tier", tier}};
}

tl::expected<json, ApiError> SecretStore::ParameterJson(const Parameter& p, bool decrypt,
                                                        const std::string& selector) {
  std::string value;
  if (p.type == "SecureString" && !decrypt) {
    // AWS returns the encrypted blob; the engine's is its sealed bytes, useless without the key.
    value = Base64Encode(p.sealed);
  } else {
    auto plain = Unseal(p.sealed, ParameterContext(p.name, p.version));
    if (!plain) return tl::unexpected(plain.error());
    value = std::move(*plain);
  }
  json out{{"Name", p.name},
           {"Type", p.type},
           {"Value", value},
           {"Version", p.version},
           {"LastModifiedDate", Seconds(p.modified_ms)},
           {"ARN", ArnPrefix("ssm") + "parameter" + (p.name.starts_with("/") ? "" : "/") + p.name},
           {"DataType", p.data_type}};
  if (!selector.empty()) out["Selector"] = selector;
  return out;
}

namespace {

/// A GetParameter name: a name or ARN, optionally followed by ":version" (a selector).
struct NameAndSelector {
  std::string name, selector;
};

NameAndSelector SplitSelector(const std::string& id, const std::string& arn_prefix) {
  std::string rest = id.starts_with(arn_prefix) ? id.substr(arn_prefix.size()) : id;
  const size_t colon = rest.find(':');
  if (colon == std::string::npos) return {rest, ""};
  return {rest.substr(0, colon), rest.substr(colon)};
}

}  // namespace

ApiResult SecretStore::GetParameter(const json& r) {
  const std::string id = r.at("Name").get<std::string>();
  auto [name, selector] = SplitSelector(id, ArnPrefix("ssm") + "parameter");
  auto p = FindParameter(name);
  // parameter/db in an ARN names "db" as well as "/db".
  if (!p && id.starts_with("arn:") && name.starts_with("/")) p = FindParameter(name.substr(1));
  if (!p) return tl::unexpected(NotFound(id));
  if (!selector.empty() && selector != ":" + std::to_string(p->version)) {
    return tl::unexpected(ApiError{"ParameterVersionNotFound",
                                   "Systems Manager could not find version " + selector.substr(1) +
                                       " of " + p->name + ". Verify the version and try again.",
                                   400});
  }
  auto out = ParameterJson(*p, r.value("WithDecryption", false), selector);
  if (!out) return tl::unexpected(out.error());
  return json{{"Parameter", *out}};
}

ApiResult SecretStore::GetParameters(const json& r) {
  json found = json::array(), invalid = json::array();
  std::vector<std::string> seen;
  for (const auto& n : r.at("Names")) {
    const std::string id = n.get<std::string>();
    if (std::find(seen.begin(), seen.end(), id) != seen.end()) continue;
    seen.push_back(id);
    auto one = GetParameter({{"Name", id}, {"WithDecryption", r.value("WithDecryption", false)}});
    if (one) {
      found.push_back((*one)["Parameter"]);
    } else if (one.error().code == "ParameterNotFound" ||
               one.error().code == "ParameterVersionNotFound") {
      invalid.push_back(id);
    } else {
      return tl::unexpected(one.error());
    }
  }
  return json{{"Parameters", found}, {"InvalidParameters", invalid}};
}

ApiResult SecretStore::GetParametersByPath(const json& r) {
  const std::string path = r.at("Path").get<std::string>();
  if (!path.starts_with("/") || path.find("//") != std::string::npos ||
      !std::all_of(path.begin(), path.end(), NameChar)) {
    return tl::unexpected(Validation(kNameRules));
  }
  const std::string base = path.ends_with("/") ? path : path + "/";
  const bool recursive = r.value("Recursive", false), decrypt = r.value("WithDecryption", false);
  const json filters = r.value("ParameterFilters", json::array());
  for (const auto& f : filters) {
    const std::string key = f.value("Key", "");
    if (key != "Type" && key != "KeyId") {
      return tl::unexpected(ApiError{"InvalidFilterKey",
                                     "The following filter key is not valid: " + key +
                                         ". Valid filter keys include: [Type, KeyId].",
                                     400});
    }
    if (f.value("Option", "Equals") != "Equals") {
      return tl::unexpected(
          ApiError{"InvalidFilterOption",
                   "The following filter option is not valid: " + f.value("Option", "") +
                       ". Valid options include: [Equals].",
                   400});
    }
  }
  const int64_t max_results = IntField(r, "MaxResults", int64_t{10});
  std::string after;
  if (r.contains("NextToken")) {
    auto decoded = Base64Decode(r["NextToken"].get<std::string>());
    if (!decoded || !decoded->starts_with(base)) {
      return tl::unexpected(ApiError{"InvalidNextToken", "The specified token is not valid.", 400});
    }
    after = *decoded;
  }
  auto s = Prepare(db_.get(),
                   "SELECT name FROM parameters WHERE substr(name, 1, length(?1)) = ?1 AND name > "
                   "?2 ORDER BY name");
  if (!s) return tl::unexpected(Internal(s.error().message));
  Bind(s->get(), 1, base);
  Bind(s->get(), 2, after);
  json list = json::array();
  std::string last;
  bool more = false;
  while (sqlite3_step(s->get()) == SQLITE_ROW) {
    const std::string name = ColumnText(s->get(), 0);
    if (!recursive && name.find('/', base.size()) != std::string::npos) continue;
    auto p = FindParameter(name);
    if (!p) continue;
    const bool passes = std::all_of(filters.begin(), filters.end(), [&](const json& f) {
      const std::string& field = f.value("Key", "") == "Type" ? p->type : p->key_id;
      const json values = f.value("Values", json::array());
      return std::any_of(values.begin(), values.end(), [&](const json& v) { return v == field; });
    });
    if (!passes) continue;
    if (static_cast<int64_t>(list.size()) == max_results) {
      more = true;
      break;
    }
    auto one = ParameterJson(*p, decrypt, "");
    if (!one) return tl::unexpected(one.error());
    list.push_back(std::move(*one));
    last = name;
  }
  json out{{"Parameters", list}};
  if (more) out["NextToken"] = Base64Encode(last);
  return out;
}

ApiResult SecretStore::DeleteParameter(const json& r) {
  const std::string name = r.at("Name").get<std::string>();
  auto s = Prepare(db_.get(), "DELETE FROM parameters WHERE name = ?1");
  if (!s) return tl::unexpected(Internal(s.error().message));
  Bind(s->get(), 1, name);
  if (sqlite3_step(s->get()) != SQLITE_DONE)
    return tl::unexpected(Internal(sqlite3_errmsg(db_.get())));
  if (sqlite3_changes(db_.get()) == 0) return tl::unexpected(NotFound(name));
  return json::object();
}

}  // namespace slipway::engine
