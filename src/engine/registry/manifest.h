// What ECR reports about an image, read from its manifest: media type, size and the manifests an
// index lists. Pure: parses bytes the registry returned (which any pusher chose).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace slipway::engine {

inline constexpr const char* kOciIndexType = "application/vnd.oci.image.index.v1+json";
inline constexpr const char* kDockerManifestListType =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr const char* kOciManifestType = "application/vnd.oci.image.manifest.v1+json";
inline constexpr const char* kDockerManifestType =
    "application/vnd.docker.distribution.manifest.v2+json";

/// The largest manifest ECR stores (the model's ImageManifest max), and so the most read.
inline constexpr size_t kMaxManifestBytes = 4 * 1024 * 1024;

/// The Accept header that asks the registry for any of the four manifest types it serves. Without
/// the OCI types an OCI index or manifest answers 404.
std::string ManifestAcceptHeader();

/// One manifest as ECR describes it.
struct ManifestSummary {
  /// One of the four types above.
  std::string media_type;
  /// The config blob's media type (an image's), empty for an index.
  std::string artifact_media_type;
  /// An image: its config plus its layers, as the manifest declares them. An index: the sum of
  /// the sizes of the manifests it lists, as its own blobs belong to them.
  int64_t size_bytes = 0;
  /// An index's manifests, by digest; empty for an image.
  std::vector<std::string> children;
  bool is_index() const { return !children.empty() || media_type == kOciIndexType ||
                                 media_type == kDockerManifestListType; }
};

/// Reads a manifest of one of the four types. A document with no mediaType is typed by its shape
/// (OCI allows leaving it out). Fails on anything else: not JSON, nesting or sizes out of range,
/// a schema 1 manifest, more than 10000 entries.
[[nodiscard]] Result<ManifestSummary> SummarizeManifest(std::string_view body);

/// "sha256:<hex>" of `body`, the digest the registry names the manifest by.
std::string ManifestDigest(std::string_view body);

}  // namespace slipway::engine
