// Credentials printed by a profile's credential_process command.
#pragma once

#include <string>

#include "aws/credential_provider.h"

namespace slipway::aws {

/// Runs `command` with /bin/sh -c and parses what it prints to stdout: JSON with "Version": 1,
/// AccessKeyId, SecretAccessKey, and optionally SessionToken and Expiration. A non-zero exit is an
/// error carrying the command's stderr.
[[nodiscard]] Result<IssuedCredentials> RunCredentialProcess(const std::string& command);

/// Parses credential_process output (see RunCredentialProcess).
[[nodiscard]] Result<IssuedCredentials> ParseProcessCredentials(const std::string& output);

}  // namespace slipway::aws
