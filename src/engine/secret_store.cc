// Opening the secret store, its sealing key, lookups shared by both APIs, and the resolver that
// gives a starting task its secrets in ECS's words.
#include "engine/secret_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/crypto.h"
#include "base/strings.h"
#include "base/unique_fd.h"
#include "engine/model.h"

namespace slipway::engine {

using nlohmann::json;

namespace {

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, arn TEXT NOT NULL UNIQUE,"
    "  description TEXT NOT NULL DEFAULT '', kms_key_id TEXT NOT NULL DEFAULT '',"
    "  tags TEXT NOT NULL DEFAULT '[]', created INTEGER NOT NULL, changed INTEGER NOT NULL,"
    "  accessed INTEGER, deletion INTEGER);"
    "CREATE TABLE IF NOT EXISTS secret_versions (secret TEXT NOT NULL, version_id TEXT NOT NULL,"
    "  created INTEGER NOT NULL, is_binary INTEGER NOT NULL, sealed BLOB NOT NULL,"
    "  PRIMARY KEY (secret, version_id));"
    "CREATE TABLE IF NOT EXISTS secret_stages (secret TEXT NOT NULL, stage TEXT NOT NULL,"
    "  version_id TEXT NOT NULL, PRIMARY KEY (secret, stage));"
    "CREATE TABLE IF NOT EXISTS parameters (name TEXT PRIMARY KEY, type TEXT NOT NULL,"
    "  version INTEGER NOT NULL, modified INTEGER NOT NULL, description TEXT NOT NULL DEFAULT '',"
    "  key_id TEXT NOT NULL DEFAULT '', tier TEXT NOT NULL, data_type TEXT NOT NULL,"
    "  sealed BLOB NOT NULL);";

constexpr const char* kResolveFailed =
    "ResourceInitializationError: unable to pull secrets or registry auth: execution resource "
    "retrieval failed: ";

bool HoldsSealedValues(sqlite3* db) {
  auto s = Prepare(db, "SELECT 1 FROM secret_versions UNION ALL SELECT 1 FROM parameters LIMIT 1");
  return s && sqlite3_step(s->get()) == SQLITE_ROW;
}

// The key file is created once, exclusively, 0600; afterwards it must still be exactly a key.
Result<std::string> LoadOrCreateKey(const std::string& path, bool must_exist) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid() && errno == ENOENT) {
    if (must_exist) {
      return Fail(path +
                  " is missing, but the secret store holds values sealed with it; restore "
                  "the file, or remove the secret store's database to start empty");
    }
    UniqueFd out(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!out.valid()) return Fail("create " + path + ": " + std::strerror(errno));
    const std::string key = RandomBytes(kSealKeyBytes);
    if (::write(out.get(), key.data(), key.size()) != static_cast<ssize_t>(key.size()) ||
        ::fsync(out.get()) != 0) {
      const std::string why = std::strerror(errno);
      ::unlink(path.c_str());
      return Fail("write " + path + ": " + why);
    }
    return key;
  }
  if (!fd.valid()) return Fail("open " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) ||
      st.st_size != static_cast<off_t>(kSealKeyBytes)) {
    return Fail(path + " is not a " + std::to_string(kSealKeyBytes) + "-byte key file");
  }
  if ((st.st_mode & 077) != 0) return Fail(path + " is readable by others; it must be mode 0600");
  std::string key(kSealKeyBytes, '\0');
  if (::read(fd.get(), key.data(), key.size()) != static_cast<ssize_t>(key.size())) {
    return Fail("read " + path + ": " + std::strerror(errno));
  }
  return key;
}

ApiError Internal(const std::string& message) { return {"InternalServiceError", message, 500}; }

}  // namespace

Result<std::unique_ptr<SecretStore>> SecretStore::Open(const std::string& db_path,
                                                       const std::string& key_path,
                                                       const std::string& region, Clock& clock) {
  auto db = OpenDatabase(db_path, kSchema);
  if (!db) return tl::unexpected(db.error());
  auto key = LoadOrCreateKey(key_path, HoldsSealedValues(db->get()));
  if (!key) return tl::unexpected(key.error());
  return std::unique_ptr<SecretStore>(
      new SecretStore(std::move(*db), std::move(*key), region, clock));
}

std::string SecretStore::SecretContext(const std::string& arn, const std::string& version_id) {
  return "secretsmanager\n" + arn + "\n" + version_id;
}

std::string SecretStore::ParameterContext(const std::string& name, int64_t version) {
  return "ssm\n" + name + "\n" + std::to_string(version);
}

int64_t SecretStore::NowMs() const {
  return std::chrono::duration_cast<Millis>(clock_.WallNow().time_since_epoch()).count();
}

std::string SecretStore::ArnPrefix(const std::string& service) const {
  return "arn:aws:" + service + ":" + region_ + ":" + kAccount + ":";
}

void SecretStore::PurgeExpired() {
  // Cheap when nothing expired: one indexed probe per statement.
  Transaction tx(db_.get());
  for (const char* sql :
       {"DELETE FROM secret_versions WHERE secret IN (SELECT name FROM secrets WHERE deletion <= "
        "?1)",
        "DELETE FROM secret_stages WHERE secret IN (SELECT name FROM secrets WHERE deletion <= ?1)",
        "DELETE FROM secrets WHERE deletion <= ?1"}) {
    auto s = Prepare(db_.get(), sql);
    if (!s) return;
    Bind(s->get(), 1, NowMs());
    if (sqlite3_step(s->get()) != SQLITE_DONE) return;
  }
  (void)tx.Commit();  // a failed purge is retried on the next request
}

std::optional<SecretStore::Secret> SecretStore::FindSecret(const std::string& secret_id) {
  // A name never contains ':', so an id starting with the ARN prefix is an ARN; AWS also takes
  // the ARN without the random suffix, and an exact ARN wins over such a partial one.
  const std::string prefix = ArnPrefix("secretsmanager") + "secret:";
  const std::string name =
      secret_id.starts_with(prefix) ? secret_id.substr(prefix.size()) : secret_id;
  auto s =
      Prepare(db_.get(),
              "SELECT name, arn, description, kms_key_id, tags, created, changed, accessed, "
              "deletion FROM secrets WHERE arn = ?1 OR name = ?2 ORDER BY arn = ?1 DESC LIMIT 1");
  if (!s) return std::nullopt;
  Bind(s->get(), 1, secret_id);
  Bind(s->get(), 2, name);
  if (sqlite3_step(s->get()) != SQLITE_ROW) return std::nullopt;
  Secret out;
  out.name = ColumnText(s->get(), 0);
  out.arn = ColumnText(s->get(), 1);
  out.description = ColumnText(s->get(), 2);
  out.kms_key_id = ColumnText(s->get(), 3);
  out.tags = json::parse(ColumnText(s->get(), 4), nullptr, false);
  if (!out.tags.is_array()) out.tags = json::array();
  out.created_ms = sqlite3_column_int64(s->get(), 5);
  out.changed_ms = sqlite3_column_int64(s->get(), 6);
  if (sqlite3_column_type(s->get(), 7) != SQLITE_NULL)
    out.accessed_ms = sqlite3_column_int64(s->get(), 7);
  if (sqlite3_column_type(s->get(), 8) != SQLITE_NULL)
    out.deletion_ms = sqlite3_column_int64(s->get(), 8);
  return out;
}

tl::expected<SecretStore::SecretVersion, ApiError> SecretStore::ReadVersion(
    const Secret& secret, const std::string& version_id, const std::string& stage) {
  std::string id = version_id;
  if (id.empty()) {
    auto s =
        Prepare(db_.get(), "SELECT version_id FROM secret_stages WHERE secret = ?1 AND stage = ?2");
    if (!s) return tl::unexpected(Internal(s.error().message));
    Bind(s->get(), 1, secret.name);
    Bind(s->get(), 2, stage);
    if (sqlite3_step(s->get()) != SQLITE_ROW) {
      return tl::unexpected(ApiError{
          "ResourceNotFoundException",
          "Secrets Manager can't find the specified secret value for staging label: " + stage,
          400});
    }
    id = ColumnText(s->get(), 0);
  }
  auto s = Prepare(db_.get(),
                   "SELECT created, is_binary, sealed FROM secret_versions WHERE secret = ?1 AND "
                   "version_id = ?2");
  if (!s) return tl::unexpected(Internal(s.error().message));
  Bind(s->get(), 1, secret.name);
  Bind(s->get(), 2, id);
  if (sqlite3_step(s->get()) != SQLITE_ROW) {
    return tl::unexpected(ApiError{
        "ResourceNotFoundException",
        "Secrets Manager can't find the specified secret value for VersionId: " + id, 400});
  }
  SecretVersion out;
  out.id = id;
  out.created_ms = sqlite3_column_int64(s->get(), 0);
  out.binary = sqlite3_column_int64(s->get(), 1) != 0;
  auto value = Unseal(ColumnBlob(s->get(), 2), SecretContext(secret.arn, id));
  if (!value) return tl::unexpected(value.error());
  out.value = std::move(*value);
  auto stages = Prepare(
      db_.get(),
      "SELECT stage FROM secret_stages WHERE secret = ?1 AND version_id = ?2 ORDER BY stage");
  if (!stages) return tl::unexpected(Internal(stages.error().message));
  Bind(stages->get(), 1, secret.name);
  Bind(stages->get(), 2, id);
  while (sqlite3_step(stages->get()) == SQLITE_ROW)
    out.stages.push_back(ColumnText(stages->get(), 0));
  if (!version_id.empty() && !stage.empty() &&
      std::find(out.stages.begin(), out.stages.end(), stage) == out.stages.end()) {
    return tl::unexpected(ApiError{
        "InvalidRequestException",
        "You provided a VersionStage that is not associated to the provided VersionId.", 400});
  }
  return out;
}

std::optional<SecretStore::Parameter> SecretStore::FindParameter(const std::string& name) {
  auto s =
      Prepare(db_.get(),
              "SELECT name, type, description, key_id, tier, data_type, version, modified, sealed "
              "FROM parameters WHERE name = ?1");
  if (!s) return std::nullopt;
  Bind(s->get(), 1, name);
  if (sqlite3_step(s->get()) != SQLITE_ROW) return std::nullopt;
  Parameter p;
  p.name = ColumnText(s->get(), 0);
  p.type = ColumnText(s->get(), 1);
  p.description = ColumnText(s->get(), 2);
  p.key_id = ColumnText(s->get(), 3);
  p.tier = ColumnText(s->get(), 4);
  p.data_type = ColumnText(s->get(), 5);
  p.version = sqlite3_column_int64(s->get(), 6);
  p.modified_ms = sqlite3_column_int64(s->get(), 7);
  p.sealed = ColumnBlob(s->get(), 8);
  return p;
}

tl::expected<std::string, ApiError> SecretStore::Unseal(const std::string& sealed,
                                                        const std::string& context) {
  auto plain = slipway::Open(key_, sealed, context);
  if (!plain) {
    return tl::unexpected(
        ApiError{"DecryptionFailure",
                 "The stored value cannot be decrypted with the engine's key: the "
                 "database or its key file was changed or replaced.",
                 400});
  }
  return std::move(*plain);
}

// ---- The resolver ----

Result<std::string> SecretStore::Resolve(const std::string& value_from) {
  std::lock_guard lock(mu_);
  PurgeExpired();
  if (value_from.starts_with("arn:aws:secretsmanager:")) return ResolveSecret(value_from);
  return ResolveParameter(value_from);
}

Result<std::string> SecretStore::ResolveSecret(const std::string& value_from) {
  // arn:aws:secretsmanager:<region>:<account>:secret:<name>[:json-key[:version-stage[:version-id]]]
  const std::vector<std::string> parts = Split(value_from, ':');
  auto fail = [&](const std::string& arn, const std::string& why) {
    return Fail(std::string(kResolveFailed) +
                    "unable to retrieve secret from asm: service call has been retried 1 time(s): "
                    "failed to fetch secret " +
                    arn + " from secrets manager: " + why,
                "ResourceInitializationError");
  };
  constexpr const char* kNotFound =
      "ResourceNotFoundException: Secrets Manager can't find the specified secret.";
  if (parts.size() < 7 || parts.size() > 10 || parts[5] != "secret")
    return fail(value_from, kNotFound);
  const std::string arn = Join({parts.begin(), parts.begin() + 7}, ":");
  const std::string json_key = parts.size() > 7 ? parts[7] : "";
  const std::string stage = parts.size() > 8 && !parts[8].empty() ? parts[8] : "";
  const std::string version_id = parts.size() > 9 ? parts[9] : "";
  auto secret = FindSecret(arn);
  if (!secret) return fail(arn, kNotFound);
  if (secret->deletion_ms) {
    return fail(
        arn,
        "InvalidRequestException: You can't perform this operation on the secret because it "
        "was marked for deletion.");
  }
  auto version =
      ReadVersion(*secret, version_id, version_id.empty() && stage.empty() ? "AWSCURRENT" : stage);
  if (!version) return fail(arn, version.error().code + ": " + version.error().message);
  if (version->binary)
    return fail(arn, "the secret holds SecretBinary; ECS injects only SecretString values");
  if (json_key.empty()) return version->value;
  const json object = json::parse(version->value, nullptr, false);
  if (!object.is_object()) {
    return fail(arn, "the secret string is not a JSON object, so it has no json key " + json_key);
  }
  auto it = object.find(json_key);
  if (it == object.end()) {
    return fail(arn, "retrieved secret from Secrets Manager did not contain json key " + json_key);
  }
  return it->is_string() ? it->get<std::string>() : it->dump();
}

Result<std::string> SecretStore::ResolveParameter(const std::string& value_from) {
  std::string name = value_from;
  const std::string arn_prefix = ArnPrefix("ssm") + "parameter";
  if (value_from.starts_with(arn_prefix)) {
    // parameter/app/db names "/app/db"; parameter/db names "db" (AWS adds the slash to plain
    // names).
    name = value_from.substr(arn_prefix.size());
    if (name.size() > 1 && !FindParameter(name)) name = name.substr(1);
  }
  auto invalid = [&] {
    return Fail(std::string(kResolveFailed) +
                    "unable to retrieve secrets from ssm: service call has been retried 1 time(s): "
                    "invalid ssm parameters: " +
                    value_from,
                "ResourceInitializationError");
  };
  auto parameter = name.empty() || name.starts_with("arn:") ? std::nullopt : FindParameter(name);
  if (!parameter) return invalid();
  auto value = Unseal(parameter->sealed, ParameterContext(parameter->name, parameter->version));
  if (!value) {
    return Fail(
        std::string(kResolveFailed) +
            "unable to retrieve secrets from ssm: service call has been retried 1 time(s): " +
            value.error().code + ": " + value.error().message,
        "ResourceInitializationError");
  }
  return std::move(*value);
}

}  // namespace slipway::engine
