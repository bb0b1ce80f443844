// ECR sign-in, shared by the build, pin and cleanup stages.
#include "deploy/ecr.h"

#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "registry/reference.h"

namespace slipway::deploy {

using nlohmann::json;

Result<EcrLogin> LoginToEcr(aws::AwsClient& c) {
  auto r = c.Json(aws::kEcr, "GetAuthorizationToken", json::object());
  if (!r) return tl::unexpected(r.error());
  const json list = r->value("authorizationData", json::array());
  if (!list.is_array() || list.empty() || !list[0].is_object()) {
    return Fail("ecr GetAuthorizationToken: the reply has no authorizationData");
  }
  const json& data = list[0];
  EcrLogin login;
  login.registry = data.value("proxyEndpoint", "");
  if (size_t scheme = login.registry.find("://"); scheme != std::string::npos) login.registry.erase(0, scheme + 3);
  if (!login.registry.empty() && login.registry.back() == '/') login.registry.pop_back();
  if (login.registry.empty()) return Fail("ecr GetAuthorizationToken: the reply names no proxyEndpoint");
  auto decoded = Base64Decode(data.value("authorizationToken", ""));
  const size_t colon = decoded ? decoded->find(':') : std::string::npos;
  if (colon == std::string::npos) return Fail("ecr GetAuthorizationToken: the token is not user:password");
  login.credentials = {decoded->substr(0, colon), decoded->substr(colon + 1)};
  return login;
}

registry::CredentialSource EcrCredentials(std::optional<EcrLogin> login) {
  return [login = std::move(login)](const std::string& registry) -> std::optional<registry::Credentials> {
    if (!login || registry != login->registry) return std::nullopt;
    return login->credentials;
  };
}

std::string EcrRepositoryOf(const std::string& image, const std::string& registry) {
  auto ref = registry::ParseImageReference(image);
  if (!ref || registry.empty() || ref->registry != registry) return "";
  return ref->repository;
}

}  // namespace slipway::deploy
