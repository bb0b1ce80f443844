// The engine's Secrets Manager (target prefix secretsmanager) and SSM Parameter Store (AmazonSSM)
// subsets over one SQLite database, and the resolver that hands a task its secrets[].valueFrom.
// Values are sealed with AES-256-GCM under a key in its own file: the database never holds one
// in clear text.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "engine/api_types.h"
#include "engine/sqlite_util.h"

namespace slipway::engine {

/// Secrets and parameters, their versions and their sealed values. Thread-safe: one lock guards
/// the database, and the store never calls out while holding it, so the control plane may call
/// Resolve under its own lock while API threads serve requests.
class SecretStore {
 public:
  /// Opens (creating if needed) the database at `db_path` and the sealing key at `key_path`. On
  /// first start the key is 32 random bytes written to a new 0600 file. A key file that is not a
  /// 32-byte regular file, or one that is missing while the database holds sealed values, is an
  /// error: a new key could open none of them. ARNs carry `region`; times come from `clock`.
  [[nodiscard]] static Result<std::unique_ptr<SecretStore>> Open(const std::string& db_path,
                                                                 const std::string& key_path,
                                                                 const std::string& region,
                                                                 Clock& clock);

  /// Serves one Secrets Manager operation on a request ParseJsonRequest has validated.
  ApiResult HandleSecretsManager(const std::string& op, const nlohmann::json& request);
  /// Serves one SSM operation on a request ParseJsonRequest has validated.
  ApiResult HandleSsm(const std::string& op, const nlohmann::json& request);

  /// The plain value that an ECS container definition's `secrets[].valueFrom` names:
  /// - a Secrets Manager ARN (full, or without the random suffix), optionally followed by
  ///   `:json-key:version-stage:version-id` (each may be empty; the stage defaults to AWSCURRENT);
  ///   with a json-key the secret string must be a JSON object holding that key;
  /// - an SSM parameter name, or its ARN `arn:aws:ssm:<region>:<account>:parameter/<name>`;
  ///   SecureString parameters come back decrypted.
  /// A failure's message is the stopped reason ECS gives the task, starting
  /// "ResourceInitializationError: unable to pull secrets or registry auth: ...".
  [[nodiscard]] Result<std::string> Resolve(const std::string& value_from);

 private:
  /// A secret's metadata (never its values).
  struct Secret {
    std::string name, arn, description, kms_key_id;
    nlohmann::json tags = nlohmann::json::array();
    int64_t created_ms = 0, changed_ms = 0;
    std::optional<int64_t> accessed_ms, deletion_ms;  ///< deletion: when it will be purged
  };
  /// One version of a secret with its value opened.
  struct SecretVersion {
    std::string id;
    bool binary = false;
    std::string value;
    int64_t created_ms = 0;
    std::vector<std::string> stages;
  };
  /// A parameter's current version with its value still sealed.
  struct Parameter {
    std::string name, type, description, key_id, tier, data_type;
    int64_t version = 0, modified_ms = 0;
    std::string sealed;
  };

  SecretStore(Database db, std::string key, std::string region, Clock& clock)
      : db_(std::move(db)), key_(std::move(key)), region_(std::move(region)), clock_(clock) {}

  /// What a sealed value is bound to, so it opens only in its own row.
  static std::string SecretContext(const std::string& arn, const std::string& version_id);
  static std::string ParameterContext(const std::string& name, int64_t version);

  int64_t NowMs() const;
  std::string ArnPrefix(const std::string& service) const;

  // Secrets Manager (secrets_manager_api.cc).
  ApiResult CreateSecret(const nlohmann::json& r);
  ApiResult PutSecretValue(const nlohmann::json& r);
  ApiResult GetSecretValue(const nlohmann::json& r);
  ApiResult DescribeSecret(const nlohmann::json& r);
  ApiResult ListSecrets(const nlohmann::json& r);
  ApiResult DeleteSecret(const nlohmann::json& r);
  /// Adds version `version_id` of `secret` holding `value` (sealed) and moves `stages` to it; a
  /// version that loses AWSCURRENT gets AWSPREVIOUS. Unlabelled versions past the newest 100 go.
  /// The caller holds a transaction.
  tl::expected<void, ApiError> AddVersion(const Secret& secret, const std::string& version_id,
                                          bool binary, const std::string& value,
                                          const std::vector<std::string>& stages);
  nlohmann::json VersionsToStages(const std::string& name);

  // SSM Parameter Store (parameter_store_api.cc).
  ApiResult PutParameter(const nlohmann::json& r);
  ApiResult GetParameter(const nlohmann::json& r);
  ApiResult GetParameters(const nlohmann::json& r);
  ApiResult GetParametersByPath(const nlohmann::json& r);
  ApiResult DeleteParameter(const nlohmann::json& r);
  /// The parameter as GetParameter shows it; `selector` is a requested ":version" suffix.
  tl::expected<nlohmann::json, ApiError> ParameterJson(const Parameter& p, bool decrypt,
                                                       const std::string& selector);

  // Storage (secret_store.cc). Callers hold mu_.
  /// Removes secrets whose recovery window has passed.
  void PurgeExpired();
  /// The secret a SecretId names (name, ARN, or ARN without its random suffix), deleted or not.
  std::optional<Secret> FindSecret(const std::string& secret_id);
  /// The version `version_id`, or the one `stage` labels when `version_id` is empty, opened;
  /// ResourceNotFoundException or InvalidRequestException (a mismatch) as Secrets Manager words
  /// them.
  tl::expected<SecretVersion, ApiError> ReadVersion(const Secret& secret,
                                                    const std::string& version_id,
                                                    const std::string& stage);
  std::optional<Parameter> FindParameter(const std::string& name);
  /// `sealed` opened; DecryptionFailure-style errors never say what the bytes were.
  tl::expected<std::string, ApiError> Unseal(const std::string& sealed, const std::string& context);
  Result<std::string> ResolveSecret(const std::string& value_from);
  Result<std::string> ResolveParameter(const std::string& value_from);

  std::mutex mu_;
  Database db_;
  const std::string key_;
  const std::string region_;
  Clock& clock_;
};

}  // namespace slipway::engine
