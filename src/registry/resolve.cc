// Resolves an image reference to a pinned digest and checks its platform.
#include "registry/resolve.h"

namespace slipway::registry {

std::string DescribePlatforms(const std::vector<Platform>& platforms) {
  std::string out;
  for (const auto& p : platforms) {
    if (p.os == "unknown" || p.os.empty()) continue;  // attestation manifests
    out += (out.empty() ? "" : ", ") + p.ToString();
  }
  return out.empty() ? "none" : out;
}

Result<ResolvedImage> ResolveImage(RegistryClient& client, const ImageReference& image, const Platform& need) {
  auto fetched = client.GetManifest(image, image.Reference());
  if (!fetched) return tl::unexpected(fetched.error());
  const std::string what = image.name + (image.digest.empty() ? ":" + image.tag : "@" + image.digest);
  auto manifest = ParseManifest(fetched->body);
  if (!manifest) return Fail(what + ": " + manifest.error().message);
  ResolvedImage out{image.Pinned(fetched->digest), fetched->digest, {}};
  bool runs = false;
  if (manifest->is_index) {
    for (const auto& child : manifest->children) out.platforms.push_back(child.platform);
    runs = !SelectChild(*manifest, need).empty();
  } else {
    auto config = client.GetBlob(image, manifest->config_digest);
    if (!config) return tl::unexpected(config.error());
    auto platform = ParseConfigPlatform(*config);
    if (!platform) return Fail(what + ": " + platform.error().message);
    out.platforms.push_back(*platform);
    runs = Runs(*platform, need);
  }
  if (!runs) {
    return Fail("image " + what + " is built for " + DescribePlatforms(out.platforms) + ", but the task definition's "
                "runtimePlatform needs " + need.ToString() + "; build it with --platform " + need.ToString() +
                " (nothing was registered or changed)", kPlatformMismatch);
  }
  return out;
}

}  // namespace slipway::registry
