// The environment's ECR: where its registry is and how to sign in to it, asked once.
#pragma once

#include <optional>
#include <string>

#include "aws/aws_client.h"
#include "base/result.h"
#include "registry/client.h"

namespace slipway::deploy {

/// What ECR's GetAuthorizationToken hands out: the registry's host[:port] (its proxyEndpoint
/// without scheme) and the user and password its token decodes to.
struct EcrLogin {
  std::string registry;
  registry::Credentials credentials;
};

/// Asks ECR for a login. An error when the call fails or its answer holds no usable token.
[[nodiscard]] Result<EcrLogin> LoginToEcr(aws::AwsClient& c);

/// Credentials for `login`'s registry; every other registry (all of them without a login) is read
/// anonymously.
registry::CredentialSource EcrCredentials(std::optional<EcrLogin> login);

/// The repository name of `image` when it lives in `registry` ("host:port/shop/api@sha256:…" in
/// "host:port" is "shop/api"); "" for an image elsewhere.
std::string EcrRepositoryOf(const std::string& image, const std::string& registry);

}  // namespace slipway::deploy
