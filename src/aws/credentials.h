// Where the deployer's AWS credentials come from: environment, then shared credentials file.
#pragma once

#include <string>

#include "aws/sigv4.h"
#include "base/result.h"

namespace slipway::aws {

/// Reads `profile` from an AWS shared-credentials file (INI: [profile] key = value).
[[nodiscard]] Result<Credentials> LoadCredentialsFile(const std::string& path,
                                                      const std::string& profile);

/// The usual chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, then
/// $AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials) with $AWS_PROFILE (default "default").
[[nodiscard]] Result<Credentials> DefaultCredentials();

/// Writes `creds` as `profile` in a new shared-credentials file with mode 0600.
[[nodiscard]] Result<void> WriteCredentialsFile(const std::string& path, const std::string& profile,
                                                const Credentials& creds);

}  // namespace slipway::aws
