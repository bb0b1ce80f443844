// Credentials from the machine the deployer runs on: the ECS container endpoint and EC2's IMDSv2.
#pragma once

#include <optional>
#include <string>

#include "aws/credential_provider.h"
#include "aws/env_vars.h"
#include "aws/http_transport.h"

namespace slipway::aws {

/// The container credentials endpoint named by the environment, and how to authorize to it.
struct ContainerEndpoint {
  std::string url;
  std::string token;  ///< AWS_CONTAINER_AUTHORIZATION_TOKEN
  std::string
      token_file;  ///< AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, read at each fetch; wins over token
};

/// From AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on http://169.254.170.2) or
/// AWS_CONTAINER_CREDENTIALS_FULL_URI, which must be https or an http URL on a loopback address
/// (or ECS's and EKS's link-local agents). nullopt when neither is set; an error for a FULL_URI
/// that is not allowed.
[[nodiscard]] Result<std::optional<ContainerEndpoint>> ContainerEndpointFromEnv(const EnvVars& env);

/// GETs credentials from the container endpoint.
[[nodiscard]] Result<IssuedCredentials> FetchContainerCredentials(
    HttpTransport& transport, const ContainerEndpoint& endpoint);

/// The IMDS base URL: $AWS_EC2_METADATA_SERVICE_ENDPOINT or http://169.254.169.254.
std::string ImdsEndpoint(const EnvVars& env);
/// True when AWS_EC2_METADATA_DISABLED is "true" (in any case).
bool ImdsDisabled(const EnvVars& env);

/// IMDSv2: PUT a session token, GET the instance role's name, then GET its credentials.
[[nodiscard]] Result<IssuedCredentials> FetchImdsCredentials(HttpTransport& transport,
                                                             const std::string& endpoint);

/// Parses the JSON credential document both endpoints (and credential_process, with other key
/// names) return: AccessKeyId, SecretAccessKey, Token, Expiration. `what` prefixes errors.
[[nodiscard]] Result<IssuedCredentials> ParseCredentialDocument(const std::string& body,
                                                                const std::string& what);

}  // namespace slipway::aws
