// Image pinning and the platform preflight.
#include "deploy/images.h"

#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "registry/resolve.h"

namespace slipway::deploy {

using nlohmann::json;

Result<void> PinImages(registry::RegistryClient& client, std::map<std::string, json>& definitions,
                       const std::function<void(const std::string&)>& progress) {
  for (auto& [service, td] : definitions) {
    const json platform = td.value("runtimePlatform", json::object());
    auto need = registry::PlatformForTask(platform.is_object() ? platform.value("operatingSystemFamily", "") : "",
                                          platform.is_object() ? platform.value("cpuArchitecture", "") : "");
    if (!need) return Fail(service + ": " + need.error().message);
    if (!td.contains("containerDefinitions") || !td["containerDefinitions"].is_array()) continue;
    for (auto& container : td["containerDefinitions"]) {
      if (!container.is_object() || !container.contains("image") || !container["image"].is_string()) continue;
      const std::string image = container["image"].get<std::string>();
      const std::string what = service + "/" + container.value("name", "?");
      auto ref = registry::ParseImageReference(image);
      if (!ref) return Fail(what + ": " + ref.error().message);
      auto resolved = registry::ResolveImage(client, *ref, *need);
      if (!resolved) return Fail(what + ": " + resolved.error().message, resolved.error().code);
      container["image"] = resolved->pinned;
      progress("image " + what + ": " + image + " -> " + resolved->digest.substr(0, 19) + "… (" +
               need->ToString() + ")");
    }
  }
  return {};
}

}  // namespace slipway::deploy
