// Release-time image resolution: a tag becomes the digest it names now, and the image must have
// a variant for the platform the task runs on.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "registry/client.h"
#include "registry/manifest.h"
#include "registry/reference.h"

namespace slipway::registry {

/// Error code: the image has no variant for the task definition's runtimePlatform.
inline constexpr const char* kPlatformMismatch = "PlatformMismatch";

/// An image as a release registers it.
struct ResolvedImage {
  std::string pinned;  ///< `name@sha256:…`
  std::string digest;  ///< the manifest (or index) digest the reference names
  /// The platforms the image offers (one for a single-platform image).
  std::vector<Platform> platforms;
};

/// Reads `image`'s manifest (and, for a single-platform image, its config) and checks that it
/// runs on `need`. Fails with kPlatformMismatch naming the image, what it has and what is needed.
[[nodiscard]] Result<ResolvedImage> ResolveImage(RegistryClient& client, const ImageReference& image,
                                                 const Platform& need);

/// "linux/arm64, linux/arm/v7": platforms for a message (attestations left out).
std::string DescribePlatforms(const std::vector<Platform>& platforms);

}  // namespace slipway::registry
