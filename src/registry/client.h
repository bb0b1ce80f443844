// A client of the OCI distribution API (what docker-registry, ECR and Docker Hub serve), enough
// to resolve a tag to a digest and read an image's manifest and config.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "aws/http_transport.h"
#include "base/result.h"
#include "registry/reference.h"

namespace slipway::registry {

/// A user and password for a registry's basic auth (ECR: "AWS" and the token's password).
struct Credentials {
  std::string user, password;
};

/// Credentials for a registry host, or nullopt to go anonymous.
using CredentialSource = std::function<std::optional<Credentials>(const std::string& registry)>;

/// Reads manifests and blobs. Basic auth is sent to registries that have credentials; a Bearer
/// challenge (Docker Hub and most public registries) is answered with a pull token. Every body
/// is checked against its digest and bounded in size.
class RegistryClient {
 public:
  RegistryClient(aws::HttpTransport& http, CredentialSource credentials);

  /// A manifest and the digest that names it.
  struct Fetched {
    std::string body, digest;
  };
  /// The manifest `reference` (a tag or a digest) names in `image`'s repository.
  [[nodiscard]] Result<Fetched> GetManifest(const ImageReference& image, const std::string& reference);
  /// A blob (an image config) of `image`'s repository.
  [[nodiscard]] Result<std::string> GetBlob(const ImageReference& image, const std::string& digest);

 private:
  [[nodiscard]] Result<aws::HttpResponse> Get(const ImageReference& image, const std::string& path,
                                              const std::string& accept, size_t max_bytes);
  [[nodiscard]] Result<std::string> BearerToken(const ImageReference& image, const std::string& challenge);

  aws::HttpTransport& http_;
  CredentialSource credentials_;
  std::map<std::string, std::string> tokens_;  ///< "registry/repository" -> bearer token
};

/// The value of `key` in a WWW-Authenticate challenge (`Bearer realm="…",service="…"`).
std::string ChallengeParam(const std::string& challenge, const std::string& key);

}  // namespace slipway::registry
