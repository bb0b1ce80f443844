// Image references as Docker and ECS read them: [registry/]repository[:tag][@digest].
#pragma once

#include <string>

#include "base/result.h"

namespace slipway::registry {

/// An image reference split into the parts the distribution API needs.
struct ImageReference {
  /// How the user wrote the name, without tag or digest ("nginx", "127.0.0.1:5000/shop/api").
  std::string name;
  /// host[:port] the API is served on; Docker Hub's names use "registry-1.docker.io".
  std::string registry;
  /// The repository path on that registry ("library/nginx" for "nginx").
  std::string repository;
  std::string tag;     ///< empty when only a digest was given
  std::string digest;  ///< "sha256:<64 hex>", or empty

  /// The tag or the digest, as the manifest endpoint takes it (the digest when both are given).
  const std::string& Reference() const { return digest.empty() ? tag : digest; }
  /// `name@digest`: the same image, pinned.
  std::string Pinned(const std::string& manifest_digest) const { return name + "@" + manifest_digest; }
  /// Whether the registry is on this machine, so plain HTTP is used (as `--tls-verify=false`).
  bool Loopback() const;
};

/// Parses an image reference; a missing tag means "latest", as Docker reads it.
[[nodiscard]] Result<ImageReference> ParseImageReference(const std::string& image);

/// Whether `digest` is "sha256:" followed by 64 lowercase hex digits.
bool IsSha256Digest(const std::string& digest);

/// Whether `tag` is a valid image tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.
bool IsValidTag(const std::string& tag);

}  // namespace slipway::registry
