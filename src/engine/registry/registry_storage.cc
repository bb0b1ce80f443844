// Reads of distribution's storage paths (registry/storage/paths.go in distribution 2.8):
//   <root>/docker/registry/v2/repositories/<name>/_manifests/revisions/sha256/<hex>/link
//   <root>/docker/registry/v2/repositories/<name>/_manifests/tags/<tag>/
#include "engine/registry/registry_storage.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "engine/registry/ecr_rules.h"

namespace slipway::engine {

namespace fs = std::filesystem;

namespace {

std::string RepositoryDir(const std::string& storage_root, const std::string& repo) {
  return storage_root + "/docker/registry/v2/repositories/" + repo;
}

}  // namespace

std::vector<ManifestRevision> ListManifestRevisions(const std::string& storage_root, const std::string& repo) {
  std::vector<ManifestRevision> out;
  if (!ValidRepositoryName(repo)) return out;
  std::error_code ec;
  const fs::path dir = RepositoryDir(storage_root, repo) + "/_manifests/revisions/sha256";
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::string digest = "sha256:" + it->path().filename().string();
    if (!ValidImageDigest(digest)) continue;
    std::error_code link_ec;
    const auto written = fs::last_write_time(it->path() / "link", link_ec);
    if (link_ec) continue;  // a deleted manifest keeps its directory, not its link
    const auto since_epoch = fs::file_time_type::clock::to_sys(written).time_since_epoch();
    out.push_back({digest, std::chrono::duration<double>(since_epoch).count()});
    if (out.size() == kMaxManifestsPerRepository) break;
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.digest < b.digest; });
  return out;
}

std::optional<std::string> TagDigest(const std::string& storage_root, const std::string& repo, const std::string& tag) {
  if (!ValidRepositoryName(repo) || !ValidImageTag(tag)) return std::nullopt;
  std::ifstream in(RepositoryDir(storage_root, repo) + "/_manifests/tags/" + tag + "/current/link");
  std::string digest;
  if (!std::getline(in, digest) || !ValidImageDigest(digest)) return std::nullopt;
  return digest;
}

Result<void> RemoveTag(const std::string& storage_root, const std::string& repo, const std::string& tag) {
  if (!ValidRepositoryName(repo) || !ValidImageTag(tag)) return Fail("invalid repository or tag");
  std::error_code ec;
  fs::remove_all(RepositoryDir(storage_root, repo) + "/_manifests/tags/" + tag, ec);
  if (ec) return Fail("remove tag " + tag + " of " + repo + ": " + ec.message());
  return {};
}

}  // namespace slipway::engine
