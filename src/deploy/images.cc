// Image pinning and the platform preflight.
#include "deploy/images.h"

#include <memory>
#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "registry/resolve.h"

namespace slipway::deploy {

using nlohmann::json;

registry::CredentialSource EcrCredentials(aws::AwsClient& c) {
  struct Token {
    bool asked = false;
    std::string registry;
    registry::Credentials credentials;
  };
  auto token = std::make_shared<Token>();
  return [&c, token](const std::string& registry) -> std::optional<registry::Credentials> {
    if (!token->asked) {
      token->asked = true;
      // Without ECR (an engine without a registry, or no permission) images are read anonymously.
      auto r = c.Json(aws::kEcr, "GetAuthorizationToken", json::object());
      if (r && (*r).contains("authorizationData") && (*r)["authorizationData"].is_array() &&
          !(*r)["authorizationData"].empty() && (*r)["authorizationData"][0].is_object()) {
        const json& data = (*r)["authorizationData"][0];
        std::string endpoint = data.value("proxyEndpoint", "");
        if (size_t scheme = endpoint.find("://"); scheme != std::string::npos) endpoint = endpoint.substr(scheme + 3);
        if (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
        auto decoded = Base64Decode(data.value("authorizationToken", ""));
        if (decoded && decoded->find(':') != std::string::npos) {
          token->registry = endpoint;
          token->credentials = {decoded->substr(0, decoded->find(':')), decoded->substr(decoded->find(':') + 1)};
        }
      }
    }
    if (token->registry.empty() || registry != token->registry) return std::nullopt;
    return token->credentials;
  };
}

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
