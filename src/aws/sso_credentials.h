// Credentials for an IAM Identity Center (SSO) role, from the token `aws sso login` caches.
#pragma once

#include <string>

#include "aws/credential_provider.h"
#include "aws/http_transport.h"

namespace slipway::aws {

/// A profile's SSO settings.
struct SsoRole {
  std::string profile;  ///< for the `aws sso login --profile` hint
  std::string
      session_name;  ///< sso_session; empty for the legacy form with sso_start_url in the profile
  std::string start_url;
  std::string region;  ///< sso_region
  std::string account_id;
  std::string role_name;
};

/// The token cache file: <cache_dir>/<sha1 of the session name, or of the start URL>.json.
std::string SsoCacheFile(const SsoRole& role, const std::string& cache_dir);

/// Reads the cached access token (an expired one is an error saying to run `aws sso login`), then
/// GETs <portal_url>/federation/credentials for the account and role.
[[nodiscard]] Result<IssuedCredentials> FetchSsoCredentials(HttpTransport& transport,
                                                            const SsoRole& role,
                                                            const std::string& cache_dir,
                                                            const std::string& portal_url,
                                                            WallTime now);

/// https://portal.sso.<region>.amazonaws.com
std::string DefaultSsoPortal(const std::string& region);

}  // namespace slipway::aws
