// The local engine's credentials file: one profile with a static key pair (the deployer's chain is
// in credential_chain.h).
#pragma once

#include <string>

#include "aws/sigv4.h"
#include "base/result.h"

namespace slipway::aws {

/// Reads `profile` from an AWS shared-credentials file (INI: [profile] key = value).
[[nodiscard]] Result<Credentials> LoadCredentialsFile(const std::string& path,
                                                      const std::string& profile);

/// Writes `creds` as `profile` in a new shared-credentials file with mode 0600.
[[nodiscard]] Result<void> WriteCredentialsFile(const std::string& path, const std::string& profile,
                                                const Credentials& creds);

}  // namespace slipway::aws
