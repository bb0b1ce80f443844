// Manifest and image-config parsing for the platform preflight.
#include "registry/manifest.h"

#include <nlohmann/json.hpp>

#include "registry/reference.h"

namespace slipway::registry {

using nlohmann::json;

namespace {
constexpr const char* kOciIndex = "application/vnd.oci.image.index.v1+json";
constexpr const char* kDockerList = "application/vnd.docker.distribution.manifest.list.v2+json";
constexpr const char* kOciManifest = "application/vnd.oci.image.manifest.v1+json";
constexpr const char* kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";

std::string String(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}
}  // namespace

const char* const kManifestAccept =
    "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

std::string Platform::ToString() const {
  return os + "/" + architecture + (variant.empty() ? "" : "/" + variant);
}

Result<Platform> PlatformForTask(const std::string& operating_system_family, const std::string& cpu_architecture) {
  Platform p;
  const std::string family = operating_system_family.empty() ? "LINUX" : operating_system_family;
  if (family == "LINUX") p.os = "linux";
  else if (family.starts_with("WINDOWS_SERVER_")) p.os = "windows";
  else return Fail("runtimePlatform.operatingSystemFamily '" + family + "' is not one ECS knows");
  const std::string arch = cpu_architecture.empty() ? "X86_64" : cpu_architecture;
  if (arch == "X86_64") p.architecture = "amd64";
  else if (arch == "ARM64") p.architecture = "arm64";
  else return Fail("runtimePlatform.cpuArchitecture '" + arch + "' is not X86_64 or ARM64");
  return p;
}

Result<Manifest> ParseManifest(const std::string& body) {
  const json j = json::parse(body, nullptr, false);
  if (!j.is_object()) return Fail("the manifest is not a JSON object");
  // Read only as a number: value() throws on any other type, and the body is the registry's.
  const auto version = j.find("schemaVersion");
  if (version != j.end() && version->is_number_integer() && *version == 1) return Fail("the manifest is Docker schema 1, which no current registry serves for new images");
  const std::string type = String(j, "mediaType");
  Manifest m;
  if (type == kOciIndex || type == kDockerList || (type.empty() && j.contains("manifests"))) {
    m.is_index = true;
    const json list = j.value("manifests", json::array());
    if (!list.is_array()) return Fail("the index's manifests is not a list");
    for (const auto& entry : list) {
      if (!entry.is_object()) return Fail("an index entry is not an object");
      Manifest::Child child;
      child.digest = String(entry, "digest");
      if (!IsSha256Digest(child.digest)) return Fail("an index entry has no sha256 digest");
      if (auto p = entry.find("platform"); p != entry.end() && p->is_object()) {
        child.platform = {String(*p, "os"), String(*p, "architecture"), String(*p, "variant")};
      }
      m.children.push_back(std::move(child));
    }
    return m;
  }
  if (type == kOciManifest || type == kDockerManifest || (type.empty() && j.contains("config"))) {
    const auto config = j.find("config");
    if (config == j.end() || !config->is_object()) return Fail("the manifest has no config");
    m.config_digest = String(*config, "digest");
    if (!IsSha256Digest(m.config_digest)) return Fail("the manifest's config has no sha256 digest");
    return m;
  }
  return Fail("the manifest's media type '" + type.substr(0, 100) + "' is not an image manifest or index");
}

Result<Platform> ParseConfigPlatform(const std::string& body) {
  const json j = json::parse(body, nullptr, false);
  if (!j.is_object()) return Fail("the image config is not a JSON object");
  Platform p{String(j, "os"), String(j, "architecture"), String(j, "variant")};
  if (p.os.empty() || p.architecture.empty()) return Fail("the image config names no os and architecture");
  return p;
}

bool Runs(const Platform& have, const Platform& need) {
  if (have.os != need.os || have.architecture != need.architecture) return false;
  if (need.variant.empty()) return true;
  const std::string variant = have.variant.empty() && have.architecture == "arm64" ? "v8" : have.variant;
  return variant == need.variant;
}

std::string SelectChild(const Manifest& index, const Platform& need) {
  for (const auto& child : index.children) {
    if (Runs(child.platform, need)) return child.digest;
  }
  return "";
}

}  // namespace slipway::registry
