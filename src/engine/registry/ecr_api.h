// The engine's ECR subset (JSON 1.1, target prefix AmazonEC2ContainerRegistry_V20150921):
// repositories and their tags in SQLite, images in the engine's docker-registry.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "aws/http_transport.h"
#include "engine/api_types.h"
#include "engine/registry/registry.h"
#include "engine/registry/registry_client.h"
#include "engine/registry/repositories.h"

namespace slipway::engine {

/// One image of a repository: a manifest, the tags on it and when it was pushed.
struct ImageEntry {
  std::string digest;
  std::vector<std::string> tags;
  double pushed_at = 0;
};

/// The offset a request's nextToken names (0 without one), or the error for a token the engine
/// never gave.
tl::expected<size_t, ApiError> PageStart(const nlohmann::json& r);
/// The request's maxResults, 100 when absent.
int PageSize(const nlohmann::json& r);

/// ECR's API over a Registry. Thread-safe (one request at a time); requests that change the
/// registry wait while its maintenance window runs.
class EcrService {
 public:
  /// Opens the repository database at `db_path`; ARNs carry `region` and `account`.
  [[nodiscard]] static Result<std::unique_ptr<EcrService>> Open(const std::string& db_path, Registry& registry,
                                                                std::string region, std::string account);

  /// Serves one ECR operation (its input already checked against the model) at epoch second `now`.
  ApiResult Handle(const std::string& op, const nlohmann::json& request, double now);

 private:
  EcrService(std::unique_ptr<RepositoryStore> repos, Registry& registry, std::string region, std::string account);

  ApiResult CreateRepository(const nlohmann::json& r, double now);
  ApiResult DescribeRepositories(const nlohmann::json& r, double now);
  ApiResult DeleteRepository(const nlohmann::json& r, double now);
  ApiResult GetAuthorizationToken(const nlohmann::json& r, double now);
  ApiResult TagResource(const nlohmann::json& r, double now);
  ApiResult UntagResource(const nlohmann::json& r, double now);
  ApiResult ListTagsForResource(const nlohmann::json& r, double now);
  ApiResult ListImages(const nlohmann::json& r, double now);
  ApiResult DescribeImages(const nlohmann::json& r, double now);
  ApiResult BatchGetImage(const nlohmann::json& r, double now);
  ApiResult BatchDeleteImage(const nlohmann::json& r, double now);

  nlohmann::json RepositoryJson(const RepositoryRecord& r) const;
  /// The repository the request names (repositoryName, and registryId when given).
  tl::expected<RepositoryRecord, ApiError> ExistingRepository(const nlohmann::json& r);
  /// The repository a resourceArn names.
  tl::expected<RepositoryRecord, ApiError> RepositoryByArn(const nlohmann::json& r);
  ApiError NotFound(const std::string& name) const;
  /// Every image of `repo`, by digest: manifests from the storage, tags from the registry.
  tl::expected<std::vector<ImageEntry>, ApiError> Inventory(const std::string& repo);
  /// Deletes `entry`'s manifest, or only `tag` when the image keeps other tags.
  tl::expected<void, ApiError> DeleteImage(const std::string& repo, const ImageEntry& entry, const std::string& tag);

  std::mutex mu_;
  std::unique_ptr<RepositoryStore> repos_;
  Registry& registry_;
  aws::CurlTransport http_;
  RegistryClient client_;
  std::string region_, account_;
};

}  // namespace slipway::engine
