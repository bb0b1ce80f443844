// Manifest reading for ECR's image details. Sizes are summed with overflow checks: every number
// in a manifest is whatever its pusher wrote.
#include "engine/registry/manifest.h"

#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "engine/registry/ecr_rules.h"

namespace slipway::engine {

namespace {

using nlohmann::json;

constexpr size_t kMaxEntries = 10'000;
/// The largest size a descriptor may declare: what a JSON number holds exactly.
constexpr int64_t kMaxDescriptorSize = int64_t{1} << 53;
constexpr int kMaxDepth = 16;

bool IsKnownType(const std::string& type) {
  return type == kOciIndexType || type == kDockerManifestListType || type == kOciManifestType ||
         type == kDockerManifestType;
}

// The `size` of one descriptor, when it is an integer in range.
Result<int64_t> DescriptorSize(const json& descriptor) {
  if (!descriptor.is_object()) return Fail("a descriptor is not an object");
  auto it = descriptor.find("size");
  if (it == descriptor.end() || !it->is_number_integer()) return Fail("a descriptor has no integer size");
  if (it->is_number_unsigned() ? it->get<uint64_t>() > static_cast<uint64_t>(kMaxDescriptorSize)
                               : (it->get<int64_t>() < 0 || it->get<int64_t>() > kMaxDescriptorSize)) {
    return Fail("a descriptor's size is out of range");
  }
  return it->get<int64_t>();
}

bool NestsTooDeep(std::string_view body) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : body) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxDepth) return true;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return false;
}

// Adds `size` to `total`, failing instead of overflowing.
Result<void> AddSize(int64_t& total, int64_t size) {
  if (__builtin_add_overflow(total, size, &total)) return Fail("the manifest's sizes add up past 2^63");
  return {};
}

}  // namespace

std::string ManifestAcceptHeader() {
  return std::string(kOciIndexType) + ", " + kDockerManifestListType + ", " + kOciManifestType + ", " +
         kDockerManifestType;
}

std::string ManifestDigest(std::string_view body) { return "sha256:" + Sha256Hex(body); }

Result<ManifestSummary> SummarizeManifest(std::string_view body) {
  if (body.size() > kMaxManifestBytes) return Fail("the manifest is larger than 4 MiB");
  if (NestsTooDeep(body)) return Fail("the manifest nests too deeply");
  const json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return Fail("the manifest is not a JSON object");
  if (doc.contains("schemaVersion") && doc["schemaVersion"] != 2) {
    return Fail("the manifest is not schema version 2");
  }
  ManifestSummary out;
  if (auto t = doc.find("mediaType"); t != doc.end() && t->is_string()) out.media_type = t->get<std::string>();
  const bool has_list = doc.contains("manifests");
  if (out.media_type.empty()) out.media_type = has_list ? kOciIndexType : kOciManifestType;
  if (!IsKnownType(out.media_type)) return Fail("unknown manifest media type " + out.media_type);
  const bool index = out.media_type == kOciIndexType || out.media_type == kDockerManifestListType;
  if (index) {
    const json& list = has_list ? doc["manifests"] : json();
    if (!list.is_array() || list.size() > kMaxEntries) return Fail("the index has no manifests list in range");
    for (const auto& m : list) {
      auto size = DescriptorSize(m);
      if (!size) return tl::unexpected(size.error());
      const json& digest = m.value("digest", json());
      if (!digest.is_string() || !ValidImageDigest(digest.get<std::string>())) {
        return Fail("an index entry has no sha256 digest");
      }
      if (auto sum = AddSize(out.size_bytes, *size); !sum) return tl::unexpected(sum.error());
      out.children.push_back(digest.get<std::string>());
    }
    return out;
  }
  auto config = doc.find("config");
  if (config == doc.end()) return Fail("the manifest has no config");
  auto config_size = DescriptorSize(*config);
  if (!config_size) return tl::unexpected(config_size.error());
  out.size_bytes = *config_size;
  if (auto t = config->find("mediaType"); t != config->end() && t->is_string()) {
    out.artifact_media_type = t->get<std::string>();
  }
  auto layers = doc.find("layers");
  if (layers != doc.end()) {
    if (!layers->is_array() || layers->size() > kMaxEntries) return Fail("the manifest's layers are not a list in range");
    for (const auto& layer : *layers) {
      auto size = DescriptorSize(layer);
      if (!size) return tl::unexpected(size.error());
      if (auto sum = AddSize(out.size_bytes, *size); !sum) return tl::unexpected(sum.error());
    }
  }
  return out;
}

}  // namespace slipway::engine
