// Secrets Manager's CreateSecret, PutSecretValue, GetSecretValue, DescribeSecret, ListSecrets and
// DeleteSecret over the secret store, answered and worded as AWS answers them.
#include <algorithm>

#include "base/crypto.h"
#include "base/strings.h"
#include "engine/secret_store.h"

namespace slipway::engine {

using nlohmann::json;

namespace {

/// Bounds on what one engine keeps, so no client can grow the database without limit.
constexpr int64_t kMaxSecrets = 10'000;
constexpr int64_t kMaxVersionsPerSecret = 100;  // AWS's own cap on kept versions
constexpr size_t kMaxTags = 50;                 // AWS's cap on tags per secret
constexpr int64_t kDayMs = 86'400'000;

constexpr const char* kMarkedForDeletion =
    "You can't perform this operation on the secret because it was marked for deletion.";

ApiError NotFound() {
  return {"ResourceNotFoundException", "Secrets Manager can't find the specified secret.", 400};
}
ApiError InvalidParameter(std::string m) {
  return {"InvalidParameterException", std::move(m), 400};
}
ApiError InvalidRequest(std::string m) { return {"InvalidRequestException", std::move(m), 400}; }
ApiError Internal(std::string m) { return {"InternalServiceError", std::move(m), 500}; }

double Seconds(int64_t ms) { return static_cast<double>(ms) / 1000.0; }

// Secrets Manager's name rule: letters, digits and -/_+=.@! (so never ':', which keeps names and
// ARNs apart).
bool ValidName(const std::string& name) {
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("-/_+=.@!").find(c) != std::string_view::npos;
  });
}

// A random (version 4) UUID, the form Secrets Manager gives version ids.
std::string NewVersionId() {
  std::string hex = RandomHex(32);
  hex[12] = '4';
  hex[16] = "89ab"[hex[16] % 4];
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

/// A request's new secret value: its SecretString, or its SecretBinary decoded.
struct NewValue {
  bool binary = false;
  std::string bytes;
};

tl::expected<std::optional<NewValue>, ApiError> ValueOf(const json& r) {
  const bool has_string = r.contains("SecretString"), has_binary = r.contains("SecretBinary");
  if (has_string && has_binary) {
    return tl::unexpected(
        InvalidParameter("You can't specify both a binary secret value and a string secret value "
                         "in the same secret."));
  }
  if (has_string) return NewValue{false, r["SecretString"].get<std::string>()};
  if (!has_binary) return std::nullopt;
  auto bytes = Base64Decode(r["SecretBinary"].get<std::string>());  // validated as base64 already
  if (!bytes) return tl::unexpected(InvalidParameter("SecretBinary is not base64."));
  return NewValue{true, std::move(*bytes)};
}

bool Exec(sqlite3* db, const char* sql, const std::vector<std::string>& args) {
  auto s = Prepare(db, sql);
  if (!s) return false;
  for (size_t i = 0; i < args.size(); ++i) Bind(s->get(), static_cast<int>(i + 1), args[i]);
  return sqlite3_step(s->get()) == SQLITE_DONE;
}

/// Whether `secret` passes one ListSecrets filter: any of its values matches by prefix, and a
/// value starting with '!' matches when the prefix does not.
bool PassesFilter(const std::string& key, const json& values, const std::string& name,
                  const std::string& description, const json& tags) {
  auto texts = [&]() {
    std::vector<std::string> out;
    if (key == "name" || key == "all") out.push_back(name);
    if (key == "description" || key == "all") out.push_back(description);
    for (const auto& t : tags) {
      if (key == "tag-key" || key == "all") out.push_back(t.value("Key", ""));
      if (key == "tag-value" || key == "all") out.push_back(t.value("Value", ""));
    }
    return out;
  }();
  for (const auto& v : values) {
    std::string prefix = v.get<std::string>();
    const bool negated = prefix.starts_with("!");
    if (negated) prefix.erase(0, 1);
    const bool any = std::any_of(texts.begin(), texts.end(),
                                 [&](const std::string& t) { return t.starts_with(prefix); });
    if (any != negated) return true;
  }
  return false;
}

}  // namespace

ApiResult SecretStore::HandleSecretsManager(const std::string& op, const json& r) {
  std::lock_guard lock(mu_);
  PurgeExpired();
  try {
    if (op == "CreateSecret") return CreateSecret(r);
    if (op == "PutSecretValue") return PutSecretValue(r);
    if (op == "GetSecretValue") return GetSecretValue(r);
    if (op == "DescribeSecret") return DescribeSecret(r);
    if (op == "ListSecrets") return ListSecrets(r);
    if (op == "DeleteSecret") return DeleteSecret(r);
  } catch (const json::exception&) {  // last resort, as in LogService::Handle: no library text
    return tl::unexpected(
        ApiError{"SerializationException", "A member of the request has an unexpected type.", 400});
  }
  return tl::unexpected(
      ApiError{"UnknownOperationException",
               "The engine does not implement Secrets Manager operation " + op + ".", 400});
}

tl::expected<void, ApiError> SecretStore::AddVersion(const Secret& secret,
                                                     const std::string& version_id, bool binary,
                                                     const std::string& value,
                                                     const std::vector<std::string>& stages) {
  sqlite3* db = db_.get();
  auto insert =
      Prepare(db,
              "INSERT INTO secret_versions(secret, version_id, created, is_binary, sealed) "
              "VALUES(?1, ?2, ?3, ?4, ?5)");
  if (!insert) return tl::unexpected(Internal(insert.error().message));
  Bind(insert->get(), 1, secret.name);
  Bind(insert->get(), 2, version_id);
  Bind(insert->get(), 3, NowMs());
  Bind(insert->get(), 4, int64_t{binary ? 1 : 0});
  BindBlob(insert->get(), 5, Seal(key_, value, SecretContext(secret.arn, version_id)));
  if (sqlite3_step(insert->get()) != SQLITE_DONE)
    return tl::unexpected(Internal(sqlite3_errmsg(db)));
  for (const auto& stage : stages) {
    if (stage == "AWSCURRENT") {
      // The version losing AWSCURRENT becomes AWSPREVIOUS, as in Secrets Manager.
      if (!Exec(db,
                "INSERT OR REPLACE INTO secret_stages(secret, stage, version_id) SELECT secret, "
                "'AWSPREVIOUS', version_id FROM secret_stages WHERE secret = ?1 AND stage = "
                "'AWSCURRENT' AND version_id != ?2",
                {secret.name, version_id})) {
        return tl::unexpected(Internal(sqlite3_errmsg(db)));
      }
    }
    if (!Exec(db,
              "INSERT OR REPLACE INTO secret_stages(secret, stage, version_id) VALUES(?1, ?2, ?3)",
              {secret.name, stage, version_id})) {
      return tl::unexpected(Internal(sqlite3_errmsg(db)));
    }
  }
  auto prune =
      Prepare(db,
              "DELETE FROM secret_versions WHERE secret = ?1 AND version_id NOT IN (SELECT "
              "version_id FROM secret_stages WHERE secret = ?1) AND version_id NOT IN (SELECT "
              "version_id FROM secret_versions WHERE secret = ?1 ORDER BY created DESC LIMIT ?2)");
  auto changed = Prepare(db, "UPDATE secrets SET changed = ?2 WHERE name = ?1");
  if (!prune || !changed) return tl::unexpected(Internal(sqlite3_errmsg(db)));
  Bind(prune->get(), 1, secret.name);
  Bind(prune->get(), 2, kMaxVersionsPerSecret);
  Bind(changed->get(), 1, secret.name);
  Bind(changed->get(), 2, NowMs());
  if (sqlite3_step(prune->get()) != SQLITE_DONE || sqlite3_step(changed->get()) != SQLITE_DONE) {
    return tl::unexpected(Internal(sqlite3_errmsg(db)));
  }
  return {};
}

ApiResult SecretStore::CreateSecret(const json& r) {
  const std::string name = r.at("Name").get<std::string>();
  if (!ValidName(name)) {
    return tl::unexpected(ApiError{"ValidationException",
                                   "Invalid name. Must be a valid name containing alphanumeric "
                                   "characters, or any of the following: -/_+=.@!",
                                   400});
  }
  if (r.contains("AddReplicaRegions")) {
    return tl::unexpected(
        InvalidParameter("The engine serves one region and does not replicate secrets."));
  }
  if (r.value("Tags", json::array()).size() > kMaxTags) {
    return tl::unexpected(InvalidParameter("A secret can have at most 50 tags."));
  }
  auto value = ValueOf(r);
  if (!value) return tl::unexpected(value.error());
  const std::string token = r.value("ClientRequestToken", "");
  if (auto existing = FindSecret(name)) {
    if (existing->deletion_ms) {
      return tl::unexpected(
          InvalidRequest("You can't create this secret because a secret with this name is already "
                         "scheduled for deletion."));
    }
    if (token.empty()) {
      return tl::unexpected(
          ApiError{"ResourceExistsException",
                   "The operation failed because the secret " + name + " already exists.", 400});
    }
    // A retried CreateSecret (same token, same value) answers as the first one did.
    auto version = ReadVersion(*existing, token, "");
    if (version && *value && version->binary == (*value)->binary &&
        version->value == (*value)->bytes) {
      return json{{"ARN", existing->arn}, {"Name", existing->name}, {"VersionId", token}};
    }
    return tl::unexpected(
        ApiError{"ResourceExistsException",
                 version ? "You can't use ClientRequestToken " + token +
                               " because that value is already in use for a version of secret " +
                               existing->arn + "."
                         : "The operation failed because the secret " + name + " already exists.",
                 400});
  }
  auto count = Prepare(db_.get(), "SELECT COUNT(*) FROM secrets");
  if (!count || sqlite3_step(count->get()) != SQLITE_ROW)
    return tl::unexpected(Internal("secret store unavailable"));
  if (sqlite3_column_int64(count->get(), 0) >= kMaxSecrets) {
    return tl::unexpected(
        ApiError{"LimitExceededException",
                 "The engine holds at most " + std::to_string(kMaxSecrets) + " secrets.", 400});
  }
  Secret secret;
  secret.name = name;
  secret.arn = ArnPrefix("secretsmanager") + "secret:" + name + "-" +
               RandomFrom("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 6);
  Transaction tx(db_.get());
  auto insert =
      Prepare(db_.get(),
              "INSERT INTO secrets(name, arn, description, kms_key_id, tags, created, changed) "
              "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?6)");
  if (!tx.began() || !insert) return tl::unexpected(Internal("secret store unavailable"));
  Bind(insert->get(), 1, name);
  Bind(insert->get(), 2, secret.arn);
  Bind(insert->get(), 3, r.value("Description", ""));
  Bind(insert->get(), 4, r.value("KmsKeyId", ""));
  Bind(insert->get(), 5, r.value("Tags", json::array()).dump());
  Bind(insert->get(), 6, NowMs());
  if (sqlite3_step(insert->get()) != SQLITE_DONE)
    return tl::unexpected(Internal(sqlite3_errmsg(db_.get())));
  json out{{"ARN", secret.arn}, {"Name", name}};
  if (*value) {
    const std::string version_id = token.empty() ? NewVersionId() : token;
    if (auto added =
            AddVersion(secret, version_id, (*value)->binary, (*value)->bytes, {"AWSCURRENT"});
        !added) {
      return tl::unexpected(added.error());
    }
    out["VersionId"] = version_id;
  }
  if (auto committed = tx.Commit(); !committed)
    return tl::unexpected(Internal(committed.error().message));
  return out;
}

ApiResult SecretStore::PutSecretValue(const json& r) {
  auto secret = FindSecret(r.at("SecretId").get<std::string>());
  if (!secret) return tl::unexpected(NotFound());
  if (secret->deletion_ms) return tl::unexpected(InvalidRequest(kMarkedForDeletion));
  auto value = ValueOf(r);
  if (!value) return tl::unexpected(value.error());
  if (!*value)
    return tl::unexpected(
        InvalidParameter("You must provide either SecretString or SecretBinary."));
  const std::string token = r.value("ClientRequestToken", "");
  const std::vector<std::string> stages =
      r.value("VersionStages", std::vector<std::string>{"AWSCURRENT"});
  if (!token.empty()) {
    if (auto version = ReadVersion(*secret, token, ""); version) {
      if (version->binary != (*value)->binary || version->value != (*value)->bytes) {
        return tl::unexpected(
            ApiError{"ResourceExistsException",
                     "You can't use ClientRequestToken " + token +
                         " because that value is already in use for a version of secret " +
                         secret->arn + ".",
                     400});
      }
      return json{{"ARN", secret->arn},
                  {"Name", secret->name},
                  {"VersionId", token},
                  {"VersionStages", version->stages}};
    }
  }
  const std::string version_id = token.empty() ? NewVersionId() : token;
  Transaction tx(db_.get());
  if (!tx.began()) return tl::unexpected(Internal("secret store unavailable"));
  if (auto added = AddVersion(*secret, version_id, (*value)->binary, (*value)->bytes, stages);
      !added) {
    return tl::unexpected(added.error());
  }
  if (auto committed = tx.Commit(); !committed)
    return tl::unexpected(Internal(committed.error().message));
  return json{{"ARN", secret->arn},
              {"Name", secret->name},
              {"VersionId", version_id},
              {"VersionStages", stages}};
}

ApiResult SecretStore::GetSecretValue(const json& r) {
  auto secret = FindSecret(r.at("SecretId").get<std::string>());
  if (!secret) return tl::unexpected(NotFound());
  if (secret->deletion_ms) return tl::unexpected(InvalidRequest(kMarkedForDeletion));
  const std::string version_id = r.value("VersionId", ""), stage = r.value("VersionStage", "");
  auto version =
      ReadVersion(*secret, version_id, version_id.empty() && stage.empty() ? "AWSCURRENT" : stage);
  if (!version) return tl::unexpected(version.error());
  // Secrets Manager records the day of the last access, not the moment.
  if (auto touch = Prepare(db_.get(), "UPDATE secrets SET accessed = ?2 WHERE name = ?1")) {
    Bind(touch->get(), 1, secret->name);
    Bind(touch->get(), 2, NowMs() / kDayMs * kDayMs);
    sqlite3_step(touch->get());
  }
  json out{{"ARN", secret->arn},
           {"Name", secret->name},
           {"VersionId", version->id},
           {"VersionStages", version->stages},
           {"CreatedDate", Seconds(version->created_ms)}};
  if (version->binary) {
    out["SecretBinary"] = Base64Encode(version->value);
  } else {
    out["SecretString"] = version->value;
  }
  return out;
}

json SecretStore::VersionsToStages(const std::string& name) {
  json out = json::object();
  auto s = Prepare(db_.get(),
                   "SELECT version_id, stage FROM secret_stages WHERE secret = ?1 ORDER BY stage");
  if (!s) return out;
  Bind(s->get(), 1, name);
  while (sqlite3_step(s->get()) == SQLITE_ROW)
    out[ColumnText(s->get(), 0)].push_back(ColumnText(s->get(), 1));
  return out;
}

ApiResult SecretStore::DescribeSecret(const json& r) {
  auto secret = FindSecret(r.at("SecretId").get<std::string>());
  if (!secret) return tl::unexpected(NotFound());
  json out{{"ARN", secret->arn},
           {"Name", secret->name},
           {"LastChangedDate", Seconds(secret->changed_ms)},
           {"VersionIdsToStages", VersionsToStages(secret->name)},
           {"CreatedDate", Seconds(secret->created_ms)}};
  if (!secret->description.empty()) out["Description"] = secret->description;
  if (!secret->kms_key_id.empty()) out["KmsKeyId"] = secret->kms_key_id;
  if (!secret->tags.empty()) out["Tags"] = secret->tags;
  if (secret->accessed_ms) out["LastAccessedDate"] = Seconds(*secret->accessed_ms);
  if (secret->deletion_ms) out["DeletedDate"] = Seconds(*secret->deletion_ms);
  return out;
}

ApiResult SecretStore::ListSecrets(const json& r) {
  const bool include_deleted = r.value("IncludePlannedDeletion", false);
  const int64_t max_results = IntField(r, "MaxResults", int64_t{100});
  int64_t offset = 0;
  if (r.contains("NextToken")) {
    const std::string token = r["NextToken"].get<std::string>();
    if (token.empty() || token.size() > 9 ||
        token.find_first_not_of("0123456789") != std::string::npos) {
      return tl::unexpected(
          ApiError{"InvalidNextTokenException", "The NextToken value is invalid.", 400});
    }
    offset = std::stoll(token);
  }
  const std::string sort_by = r.value("SortBy", "created-date");
  const char* order = sort_by == "name"                 ? "name"
                      : sort_by == "last-changed-date"  ? "changed"
                      : sort_by == "last-accessed-date" ? "COALESCE(accessed, 0)"
                                                        : "created";
  const std::string sql =
      std::string("SELECT name FROM secrets WHERE ?1 OR deletion IS NULL ORDER BY ") + order +
      (r.value("SortOrder", "desc") == "asc" ? " ASC" : " DESC") + ", name";
  auto s = Prepare(db_.get(), sql.c_str());
  if (!s) return tl::unexpected(Internal(s.error().message));
  Bind(s->get(), 1, int64_t{include_deleted ? 1 : 0});
  const json filters = r.value("Filters", json::array());
  json list = json::array();
  int64_t matched = 0;
  bool more = false;
  while (sqlite3_step(s->get()) == SQLITE_ROW) {
    auto secret = FindSecret(ColumnText(s->get(), 0));
    if (!secret) continue;
    const bool passes = std::all_of(filters.begin(), filters.end(), [&](const json& f) {
      return PassesFilter(f.value("Key", ""), f.value("Values", json::array()), secret->name,
                          secret->description, secret->tags);
    });
    if (!passes || matched++ < offset) continue;
    if (static_cast<int64_t>(list.size()) == max_results) {
      more = true;
      break;
    }
    json entry{{"ARN", secret->arn},
               {"Name", secret->name},
               {"LastChangedDate", Seconds(secret->changed_ms)},
               {"SecretVersionsToStages", VersionsToStages(secret->name)},
               {"CreatedDate", Seconds(secret->created_ms)}};
    if (!secret->description.empty()) entry["Description"] = secret->description;
    if (!secret->kms_key_id.empty()) entry["KmsKeyId"] = secret->kms_key_id;
    if (!secret->tags.empty()) entry["Tags"] = secret->tags;
    if (secret->accessed_ms) entry["LastAccessedDate"] = Seconds(*secret->accessed_ms);
    if (secret->deletion_ms) entry["DeletedDate"] = Seconds(*secret->deletion_ms);
    list.push_back(std::move(entry));
  }
  json out{{"SecretList", list}};
  if (more) out["NextToken"] = std::to_string(offset + max_results);
  return out;
}

ApiResult SecretStore::DeleteSecret(const json& r) {
  const bool force = r.value("ForceDeleteWithoutRecovery", false);
  if (force && r.contains("RecoveryWindowInDays")) {
    return tl::unexpected(InvalidParameter(
        "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays."));
  }
  const int64_t window = IntField(r, "RecoveryWindowInDays", int64_t{30});
  if (window < 7 || window > 30) {
    return tl::unexpected(InvalidParameter(
        "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive)."));
  }
  auto secret = FindSecret(r.at("SecretId").get<std::string>());
  if (!secret) return tl::unexpected(NotFound());
  if (secret->deletion_ms && !force) return tl::unexpected(InvalidRequest(kMarkedForDeletion));
  const int64_t deletion = force ? NowMs() : NowMs() + window * kDayMs;
  Transaction tx(db_.get());
  if (!tx.began()) return tl::unexpected(Internal("secret store unavailable"));
  const std::string deletion_text = std::to_string(deletion);
  const bool ok =
      force ? Exec(db_.get(), "DELETE FROM secret_versions WHERE secret = ?1", {secret->name}) &&
                  Exec(db_.get(), "DELETE FROM secret_stages WHERE secret = ?1", {secret->name}) &&
                  Exec(db_.get(), "DELETE FROM secrets WHERE name = ?1", {secret->name})
            : Exec(db_.get(), "UPDATE secrets SET deletion = CAST(?2 AS INTEGER) WHERE name = ?1",
                   {secret->name, deletion_text});
  if (!ok) return tl::unexpected(Internal(sqlite3_errmsg(db_.get())));
  if (auto committed = tx.Commit(); !committed)
    return tl::unexpected(Internal(committed.error().message));
  return json{{"ARN", secret->arn}, {"Name", secret->name}, {"DeletionDate", Seconds(deletion)}};
}

}  // namespace slipway::engine
