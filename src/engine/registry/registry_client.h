// The registry's HTTP API (distribution 2.8) as ECR's handlers use it: tags, manifests, deletes,
// authenticated as the registry's one user.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "aws/http_transport.h"
#include "base/result.h"

namespace slipway::engine {

/// The most tags of one repository the handlers read; past it a listing is cut short.
inline constexpr size_t kMaxTagsPerRepository = 10'000;

/// Talks to the registry at `endpoint` ("127.0.0.1:<port>"). Requests that find nothing listening
/// (the registry restarting for maintenance) are retried for a few seconds. Not thread-safe, as
/// its transport is not.
class RegistryClient {
 public:
  RegistryClient(aws::HttpTransport& http, std::string endpoint, const std::string& password);

  /// The tags of `repo` in the registry's order (lexical); empty when it has none or is unknown.
  [[nodiscard]] Result<std::vector<std::string>> Tags(const std::string& repo);
  /// The manifest `reference` (a valid tag or digest) of `repo`, asked for with `accept`;
  /// nullopt when the registry has no such manifest (or none of an accepted type).
  [[nodiscard]] Result<std::optional<std::string>> Manifest(const std::string& repo, const std::string& reference,
                                                            const std::string& accept);
  /// Deletes manifest `digest` of `repo` with the tags that point at it; false when unknown.
  [[nodiscard]] Result<bool> DeleteManifest(const std::string& repo, const std::string& digest);

 private:
  [[nodiscard]] Result<aws::HttpResponse> Send(aws::HttpRequest request);

  aws::HttpTransport& http_;
  std::string base_url_;
  std::string authorization_;
};

}  // namespace slipway::engine
