// ECR's image operations: an image is a manifest in the registry, named by digest and tags.
#include <algorithm>
#include <map>
#include <set>

#include "engine/registry/ecr_api.h"
#include "engine/registry/ecr_rules.h"
#include "engine/registry/manifest.h"
#include "engine/registry/registry_storage.h"

namespace slipway::engine {

using nlohmann::json;

namespace {

ApiError ServerError(const std::string& message) { return {"ServerException", message, 500}; }

/// Where an image identifier leads: an image, or the failure ECR reports for it.
struct Resolved {
  const ImageEntry* image = nullptr;
  std::string failure_code, failure_reason;
};

// An identifier as ECR echoes it in failures and results: only the members it had.
json ImageId(const json& id) {
  json out = json::object();
  if (id.contains("imageDigest")) out["imageDigest"] = id["imageDigest"];
  if (id.contains("imageTag")) out["imageTag"] = id["imageTag"];
  return out;
}

json Failure(const json& id, const std::string& code, const std::string& reason) {
  return {{"imageId", ImageId(id)}, {"failureCode", code}, {"failureReason", reason}};
}

Resolved Resolve(const json& id, const std::vector<ImageEntry>& images) {
  const std::string digest = id.value("imageDigest", ""), tag = id.value("imageTag", "");
  if (digest.empty() && tag.empty()) return {nullptr, "MissingDigestAndTag", "Missing image digest and tag"};
  if (!digest.empty() && !ValidImageDigest(digest)) return {nullptr, "InvalidImageDigest", "Invalid image digest"};
  const ImageEntry* by_digest = nullptr;
  const ImageEntry* by_tag = nullptr;
  for (const auto& image : images) {
    if (!digest.empty() && image.digest == digest) by_digest = &image;
    if (!tag.empty() && std::find(image.tags.begin(), image.tags.end(), tag) != image.tags.end()) by_tag = &image;
  }
  if (!digest.empty() && !tag.empty() && by_digest != by_tag) {
    if (by_digest != nullptr && by_tag != nullptr) {
      return {nullptr, "ImageTagDoesNotMatchDigest", "Invalid tag and digest combination"};
    }
    return {nullptr, "ImageNotFound", "Requested image not found"};
  }
  const ImageEntry* found = digest.empty() ? by_tag : by_digest;
  if (found == nullptr) return {nullptr, "ImageNotFound", "Requested image not found"};
  return {found, "", ""};
}

bool MatchesTagStatus(const ImageEntry& image, const json& r) {
  const std::string status = r.value("filter", json::object()).value("tagStatus", "ANY");
  if (status == "TAGGED") return !image.tags.empty();
  if (status == "UNTAGGED") return image.tags.empty();
  return true;
}

}  // namespace

tl::expected<std::vector<ImageEntry>, ApiError> EcrService::Inventory(const std::string& repo) {
  const std::string root = registry_.StorageRoot();
  std::map<std::string, ImageEntry> by_digest;
  for (auto& rev : ListManifestRevisions(root, repo)) by_digest[rev.digest] = {rev.digest, {}, rev.pushed_at};
  auto tags = client_.Tags(repo);
  if (!tags) return tl::unexpected(ServerError(tags.error().message));
  for (const auto& tag : *tags) {
    auto digest = TagDigest(root, repo, tag);
    if (!digest) continue;
    auto it = by_digest.find(*digest);
    if (it != by_digest.end()) it->second.tags.push_back(tag);  // else a tag on a deleted manifest
  }
  std::vector<ImageEntry> out;
  out.reserve(by_digest.size());
  for (auto& [digest, image] : by_digest) out.push_back(std::move(image));
  return out;
}

ApiResult EcrService::ListImages(const json& r, double) {
  auto repo = ExistingRepository(r);
  if (!repo) return tl::unexpected(repo.error());
  auto start = PageStart(r);
  if (!start) return tl::unexpected(start.error());
  auto images = Inventory(repo->name);
  if (!images) return tl::unexpected(images.error());
  // One identifier per tag, and one for an untagged image.
  std::vector<json> ids;
  for (const auto& image : *images) {
    if (!MatchesTagStatus(image, r)) continue;
    if (image.tags.empty()) ids.push_back({{"imageDigest", image.digest}});
    for (const auto& tag : image.tags) ids.push_back({{"imageDigest", image.digest}, {"imageTag", tag}});
  }
  const size_t size = static_cast<size_t>(PageSize(r));
  json out{{"imageIds", json::array()}};
  for (size_t i = *start; i < ids.size() && i < *start + size; ++i) out["imageIds"].push_back(ids[i]);
  if (*start + size < ids.size()) out["nextToken"] = std::to_string(*start + size);
  return out;
}

ApiResult EcrService::DescribeImages(const json& r, double) {
  auto repo = ExistingRepository(r);
  if (!repo) return tl::unexpected(repo.error());
  auto images = Inventory(repo->name);
  if (!images) return tl::unexpected(images.error());
  std::vector<const ImageEntry*> selected;
  size_t start = 0, size = images->size();
  if (r.contains("imageIds")) {
    if (r.contains("maxResults") || r.contains("nextToken")) {
      return tl::unexpected(ApiError{"InvalidParameterException",
                                     "maxResults and nextToken cannot be used with imageIds.", 400});
    }
    for (const auto& id : r["imageIds"]) {
      Resolved found = Resolve(id, *images);
      if (found.image == nullptr) {
        return tl::unexpected(ApiError{"ImageNotFoundException",
                                       "The image with imageId {imageDigest:'" + id.value("imageDigest", "null") +
                                           "', imageTag:'" + id.value("imageTag", "null") +
                                           "'} does not exist within the repository with name '" + repo->name +
                                           "' in the registry with id '" + account_ + "'",
                                       400});
      }
      if (std::find(selected.begin(), selected.end(), found.image) == selected.end()) selected.push_back(found.image);
    }
  } else {
    for (const auto& image : *images) {
      if (MatchesTagStatus(image, r)) selected.push_back(&image);
    }
    auto page_start = PageStart(r);
    if (!page_start) return tl::unexpected(page_start.error());
    start = *page_start;
    size = static_cast<size_t>(PageSize(r));
  }
  json out{{"imageDetails", json::array()}};
  for (size_t i = start; i < selected.size() && i < start + size; ++i) {
    const ImageEntry& image = *selected[i];
    json detail{{"registryId", account_},
                {"repositoryName", repo->name},
                {"imageDigest", image.digest},
                {"imagePushedAt", image.pushed_at}};
    if (!image.tags.empty()) detail["imageTags"] = image.tags;
    auto manifest = client_.Manifest(repo->name, image.digest, ManifestAcceptHeader());
    if (!manifest) return tl::unexpected(ServerError(manifest.error().message));
    if (!*manifest) continue;  // deleted since the inventory
    if (auto summary = SummarizeManifest(**manifest)) {
      detail["imageSizeInBytes"] = summary->size_bytes;
      detail["imageManifestMediaType"] = summary->media_type;
      if (!summary->artifact_media_type.empty()) detail["artifactMediaType"] = summary->artifact_media_type;
    }
    out["imageDetails"].push_back(std::move(detail));
  }
  if (!r.contains("imageIds") && start + size < selected.size()) out["nextToken"] = std::to_string(start + size);
  return out;
}

ApiResult EcrService::BatchGetImage(const json& r, double) {
  auto repo = ExistingRepository(r);
  if (!repo) return tl::unexpected(repo.error());
  auto images = Inventory(repo->name);
  if (!images) return tl::unexpected(images.error());
  const std::vector<std::string> accepted = r.value("acceptedMediaTypes", std::vector<std::string>{});
  json out{{"images", json::array()}, {"failures", json::array()}};
  for (const auto& id : r["imageIds"]) {
    Resolved found = Resolve(id, *images);
    if (found.image == nullptr) {
      out["failures"].push_back(Failure(id, found.failure_code, found.failure_reason));
      continue;
    }
    auto manifest = client_.Manifest(repo->name, found.image->digest, ManifestAcceptHeader());
    if (!manifest) return tl::unexpected(ServerError(manifest.error().message));
    auto summary = *manifest ? SummarizeManifest(**manifest) : Fail("gone");
    if (!summary) {
      out["failures"].push_back(Failure(id, "ImageNotFound", "Requested image not found"));
      continue;
    }
    if (!accepted.empty() && std::find(accepted.begin(), accepted.end(), summary->media_type) == accepted.end()) {
      out["failures"].push_back(Failure(id, "ImageNotFound",
                                        "The image's manifest is " + summary->media_type +
                                            ", which is not among acceptedMediaTypes"));
      continue;
    }
    json image_id{{"imageDigest", found.image->digest}};
    if (id.contains("imageTag")) image_id["imageTag"] = id["imageTag"];
    out["images"].push_back({{"registryId", account_},
                             {"repositoryName", repo->name},
                             {"imageId", image_id},
                             {"imageManifest", std::move(**manifest)},
                             {"imageManifestMediaType", summary->media_type}});
  }
  return out;
}

tl::expected<void, ApiError> EcrService::DeleteImage(const std::string& repo, const ImageEntry& image,
                                                     const std::string& tag) {
  // ECR untags an image that keeps other tags; the registry can only delete a manifest with all of
  // its tags, so a single tag goes the way the registry's own untag removes it.
  if (!tag.empty() && image.tags.size() > 1) {
    if (auto t = RemoveTag(registry_.StorageRoot(), repo, tag); !t) return tl::unexpected(ServerError(t.error().message));
    return {};
  }
  auto deleted = client_.DeleteManifest(repo, image.digest);
  if (!deleted) return tl::unexpected(ServerError(deleted.error().message));
  return {};
}

ApiResult EcrService::BatchDeleteImage(const json& r, double) {
  auto repo = ExistingRepository(r);
  if (!repo) return tl::unexpected(repo.error());
  auto writable = registry_.HoldWritable();
  auto images = Inventory(repo->name);
  if (!images) return tl::unexpected(images.error());
  // The manifests an index of this repository lists: deleting one would leave the index dangling.
  std::set<std::string> referenced;
  for (const auto& image : *images) {
    auto manifest = client_.Manifest(repo->name, image.digest, ManifestAcceptHeader());
    if (!manifest) return tl::unexpected(ServerError(manifest.error().message));
    if (!*manifest) continue;
    if (auto summary = SummarizeManifest(**manifest)) referenced.insert(summary->children.begin(), summary->children.end());
  }
  json out{{"imageIds", json::array()}, {"failures", json::array()}};
  bool deleted_manifest = false;
  for (const auto& id : r["imageIds"]) {
    Resolved found = Resolve(id, *images);
    if (found.image == nullptr) {
      out["failures"].push_back(Failure(id, found.failure_code, found.failure_reason));
      continue;
    }
    const std::string tag = id.contains("imageDigest") ? "" : id.value("imageTag", "");
    const bool whole = tag.empty() || found.image->tags.size() <= 1;
    if (whole && referenced.count(found.image->digest)) {
      out["failures"].push_back(Failure(id, "ImageReferencedByManifestList",
                                        "Requested image is referenced by an image index"));
      continue;
    }
    if (auto d = DeleteImage(repo->name, *found.image, tag); !d) return tl::unexpected(d.error());
    auto it = std::find_if(images->begin(), images->end(), [&](const auto& i) { return i.digest == found.image->digest; });
    if (whole) {
      deleted_manifest = true;
      if (it->tags.empty()) out["imageIds"].push_back({{"imageDigest", it->digest}});
      for (const auto& t : it->tags) out["imageIds"].push_back({{"imageDigest", it->digest}, {"imageTag", t}});
      images->erase(it);
    } else {
      out["imageIds"].push_back({{"imageDigest", it->digest}, {"imageTag", tag}});
      it->tags.erase(std::find(it->tags.begin(), it->tags.end(), tag));
    }
  }
  if (deleted_manifest) registry_.CollectGarbage();
  return out;
}

}  // namespace slipway::engine
