// Reading, checking and rendering listener rule conditions. Limits and wording follow the ALB
// (quotas page, ValidationError messages clients have reported); where the ALB's wording is not
// known, messages name the field and the limit in the same style.
#include "engine/rule_conditions.h"

#include <algorithm>
#include <cstring>

#include "base/strings.h"
#include "engine/elb_wire.h"
#include "engine/ip_cidr.h"

namespace slipway::engine {

namespace {

/// A condition field, the config member that carries its values, and whether the legacy
/// top-level Values may carry them instead.
struct FieldSpec {
  const char* field;
  const char* config;
  bool legacy_values;
  bool served;
};

constexpr FieldSpec kFields[] = {
    {"http-header", "HttpHeaderConfig", false, true},
    {"http-request-method", "HttpRequestMethodConfig", false, false},
    {"host-header", "HostHeaderConfig", true, true},
    {"path-pattern", "PathPatternConfig", true, true},
    {"query-string", "QueryStringConfig", false, false},
    {"source-ip", "SourceIpConfig", false, true},
};

const FieldSpec* FindField(const std::string& field) {
  for (const auto& f : kFields) {
    if (field == f.field) return &f;
  }
  return nullptr;
}

bool HasKeyUnder(const QueryParams& item, const std::string& prefix) {
  auto it = item.lower_bound(prefix);
  return it != item.end() && it->first.starts_with(prefix);
}

bool IsTokenChar(char c) {  // RFC 9110 tchar
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

// The characters the ALB documents for each kind of pattern.
bool PathChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::strchr("_-.$/~\"'@:+&*?", c) != nullptr;
}
bool HostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::strchr("-.*?", c) != nullptr;
}
bool HeaderValueChar(char c) { return c >= 0x20 && c <= 0x7e; }

size_t Wildcards(const std::string& v) {
  return static_cast<size_t>(
      std::count_if(v.begin(), v.end(), [](char c) { return c == '*' || c == '?'; }));
}

tl::expected<void, ApiError> CheckPattern(const std::string& field, const std::string& value) {
  if (value.size() > kMaxConditionValueLength) {
    return tl::unexpected(ElbValidation("The '" + field + "' value is too long; the limit is '" +
                                        std::to_string(kMaxConditionValueLength) + "'"));
  }
  bool (*allowed)(char) = field == "path-pattern"  ? PathChar
                          : field == "host-header" ? HostChar
                                                   : HeaderValueChar;
  if (value.empty() || !std::all_of(value.begin(), value.end(), allowed)) {
    return tl::unexpected(ElbValidation("The '" + field + "' value '" + Quotable(value) +
                                        "' contains characters that are not allowed"));
  }
  return {};
}

tl::expected<void, ApiError> CheckSourceIp(const std::string& value) {
  auto block = ParseCidr(value);
  if (!block) {
    return tl::unexpected(ElbValidation(
        "The 'source-ip' value '" + Quotable(value) +
        "' is not a valid CIDR block; use an IPv4 or IPv6 address with a prefix length"));
  }
  if (value.starts_with("255.255.255.255/")) {
    return tl::unexpected(
        ElbValidation("The 'source-ip' value '" + Quotable(value) + "' is not allowed"));
  }
  return {};
}

tl::expected<RuleCondition, ApiError> ParseCondition(const QueryParams& item) {
  RuleCondition c;
  c.field = Get(item, "Field");
  if (c.field.empty()) return tl::unexpected(ElbValidation("A condition field must be specified"));
  const FieldSpec* spec = FindField(c.field);
  if (spec == nullptr) {
    return tl::unexpected(
        ElbValidation("Condition field '" + Quotable(c.field) +
                      "' must be one of '[http-header, http-request-method, host-header, "
                      "path-pattern, query-string, source-ip]'"));
  }
  if (!spec->served) {
    return tl::unexpected(ElbValidation("The engine does not serve '" + c.field + "' conditions"));
  }
  for (const auto& [key, value] : item) {
    if (key.find("RegexValues") != std::string::npos) {
      return tl::unexpected(
          ElbValidation("The engine does not serve regular-expression condition values"));
    }
    const std::string member = key.substr(0, key.find('.'));
    if (member != "Field" && member != "Values" && member != spec->config) {
      return tl::unexpected(ElbValidation("'" + Quotable(member) +
                                          "' cannot be specified for a condition of type '" +
                                          c.field + "'"));
    }
  }
  const std::string config = spec->config;
  const bool has_config = HasKeyUnder(item, config + ".");
  const bool has_legacy = HasKeyUnder(item, "Values.");
  if (has_legacy && !spec->legacy_values) {
    return tl::unexpected(
        ElbValidation("The 'Values' field is not compatible with '" + c.field + "'"));
  }
  if (has_legacy && has_config) {
    return tl::unexpected(ElbValidation("You cannot provide both Values and '" + config +
                                        "' for a condition of type '" + c.field + "'"));
  }
  c.values = ListParam(item, has_legacy ? "Values" : config + ".Values");
  if (has_legacy && c.values.size() > 1) {
    return tl::unexpected(
        ElbValidation("The '" + c.field + "' field contains too many values; the limit is '1'"));
  }
  if (!has_legacy && !has_config && !spec->legacy_values) {
    return tl::unexpected(
        ElbValidation("A '" + config + "' must be specified with '" + c.field + "'"));
  }
  if (c.field == "http-header") {
    c.header_name = Get(item, config + ".HttpHeaderName");
    if (c.header_name.empty())
      return tl::unexpected(
          ElbValidation("A 'HttpHeaderName' must be specified with 'http-header'"));
    if (c.header_name.size() > kMaxHeaderNameLength) {
      return tl::unexpected(ElbValidation("The 'HttpHeaderName' value is too long; the limit is '" +
                                          std::to_string(kMaxHeaderNameLength) + "'"));
    }
    // RFC 9110 token characters, without the wildcard the ALB refuses in names.
    if (!std::all_of(c.header_name.begin(), c.header_name.end(), IsTokenChar) ||
        c.header_name.find('*') != std::string::npos) {
      return tl::unexpected(ElbValidation("The 'HttpHeaderName' value '" + Quotable(c.header_name) +
                                          "' is not a valid HTTP header name"));
    }
  }
  if (c.field == "http-header" && Lower(c.header_name) == "host") {
    return tl::unexpected(ElbValidation(
        "An 'http-header' condition cannot match the host header; use 'host-header'"));
  }
  if (c.values.empty()) {
    return tl::unexpected(ElbValidation(spec->legacy_values
                                            ? "A condition value must be specified"
                                            : "A '" + c.field + "' value must be specified"));
  }
  for (const auto& v : c.values) {
    auto ok = c.field == "source-ip" ? CheckSourceIp(v) : CheckPattern(c.field, v);
    if (!ok) return tl::unexpected(ok.error());
  }
  return c;
}

}  // namespace

tl::expected<std::vector<RuleCondition>, ApiError> ParseConditions(const QueryParams& p,
                                                                   const std::string& prefix) {
  std::vector<RuleCondition> out;
  size_t values = 0, wildcards = 0;
  for (const auto& item : StructListParam(p, prefix)) {
    auto c = ParseCondition(item);
    if (!c) return tl::unexpected(c.error());
    const bool once = c->field != "http-header";
    if (once && std::any_of(out.begin(), out.end(),
                            [&](const RuleCondition& o) { return o.field == c->field; })) {
      return tl::unexpected(ElbValidation("A rule can only have one '" + c->field + "' condition"));
    }
    values += c->values.size();
    if (values > kMaxConditionValues) {
      return tl::unexpected(ElbValidation(
          "A rule can only have '" + std::to_string(kMaxConditionValues) + "' condition values"));
    }
    if (c->field != "source-ip") {
      for (const auto& v : c->values) wildcards += Wildcards(v);
    }
    if (wildcards > kMaxConditionWildcards) {
      return tl::unexpected(ElbValidation("A rule can only have '" +
                                          std::to_string(kMaxConditionWildcards) + "' wildcards"));
    }
    out.push_back(std::move(*c));
  }
  return out;
}

std::string ConditionsXml(const std::vector<RuleCondition>& conditions) {
  Xml x;
  auto values = [&x](const std::vector<std::string>& vs) {
    x.Open("Values");
    for (const auto& v : vs) x.Leaf("member", v);
    x.Close("Values");
  };
  for (const auto& c : conditions) {
    const FieldSpec* spec = FindField(c.field);
    if (spec == nullptr) continue;  // stored by no handler
    x.Open("member").Leaf("Field", c.field);
    if (spec->legacy_values) values(c.values);
    x.Open(spec->config);
    if (c.field == "http-header") x.Leaf("HttpHeaderName", c.header_name);
    values(c.values);
    x.Close(spec->config).Close("member");
  }
  return x.str();
}

}  // namespace slipway::engine
