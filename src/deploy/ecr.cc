// ECR sign-in, shared by the build, pin and cleanup stages.
#include "deploy/ecr.h"

#include "aws/ecr.h"
#include "base/strings.h"
#include "registry/reference.h"

namespace slipway::deploy {

Result<EcrLogin> LoginToEcr(aws::AwsClient& c) {
  auto token = aws::Ecr(c).GetAuthorizationToken();
  if (!token) return tl::unexpected(token.error());
  EcrLogin login;
  login.registry = token->proxy_endpoint;
  if (size_t scheme = login.registry.find("://"); scheme != std::string::npos) login.registry.erase(0, scheme + 3);
  if (!login.registry.empty() && login.registry.back() == '/') login.registry.pop_back();
  if (login.registry.empty()) return Fail("ecr GetAuthorizationToken: the reply names no proxyEndpoint");
  auto decoded = Base64Decode(token->token);
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
