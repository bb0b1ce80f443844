// What the registry's HTTP API does not tell, read from its storage layout (distribution's
// filesystem driver): every manifest of a repository, tagged or not, and when it was pushed; and
// the one change the API lacks, removing a single tag.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace slipway::engine {

/// The most manifests of one repository the handlers read; past it a listing is cut short.
inline constexpr size_t kMaxManifestsPerRepository = 10'000;

/// One manifest a repository holds.
struct ManifestRevision {
  std::string digest;  ///< "sha256:<hex>"
  double pushed_at = 0;  ///< epoch seconds: when its link in the repository was written
};

/// The manifests of repository `repo` (a valid repository name) under `storage_root`, by digest.
std::vector<ManifestRevision> ListManifestRevisions(const std::string& storage_root, const std::string& repo);

/// The digest tag `tag` (valid) of `repo` points at, or nullopt when there is no such tag.
std::optional<std::string> TagDigest(const std::string& storage_root, const std::string& repo, const std::string& tag);

/// Removes tag `tag` (valid) of `repo`, as the registry's own untag does, leaving the manifest.
/// Call only while no maintenance window runs (Registry::HoldWritable).
[[nodiscard]] Result<void> RemoveTag(const std::string& storage_root, const std::string& repo, const std::string& tag);

}  // namespace slipway::engine
