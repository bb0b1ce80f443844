// STS's AssumeRole (signed with the source credentials) and AssumeRoleWithWebIdentity (unsigned).
#pragma once

#include <string>

#include "aws/credential_provider.h"
#include "aws/http_transport.h"

namespace slipway::aws {

/// Where STS is reached and the region its signatures are scoped to.
struct StsEndpoint {
  std::string url;  ///< e.g. "https://sts.eu-west-1.amazonaws.com" or AWS_ENDPOINT_URL_STS
  std::string region;
};

/// The role to assume and how.
struct RoleRequest {
  std::string role_arn;
  std::string session_name;
  std::string external_id;   ///< AssumeRole only; empty: not sent
  int duration_seconds = 0;  ///< 0: STS's default (one hour)
};

/// STS AssumeRole signed with `source`. Errors read "sts AssumeRole <arn>: <Code>: <message>".
[[nodiscard]] Result<IssuedCredentials> AssumeRole(HttpTransport& transport, const StsEndpoint& sts,
                                                   const Credentials& source,
                                                   const RoleRequest& role, WallTime now);

/// STS AssumeRoleWithWebIdentity with the OIDC `token`; the request is not signed.
[[nodiscard]] Result<IssuedCredentials> AssumeRoleWithWebIdentity(HttpTransport& transport,
                                                                  const StsEndpoint& sts,
                                                                  const RoleRequest& role,
                                                                  const std::string& token);

/// The default session name for an assumed role: "slipway-<unix seconds>".
std::string DefaultSessionName(WallTime now);

}  // namespace slipway::aws
