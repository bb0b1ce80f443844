// The AWS SDKs' default credential chain: which source applies, and a provider that asks it.
#pragma once

#include <memory>
#include <string>

#include "aws/credential_provider.h"
#include "aws/endpoints.h"
#include "aws/env_vars.h"
#include "aws/http_transport.h"
#include "aws/profile_config.h"

namespace slipway::aws {

/// What the chain reads and whom it may call. The transport and clock must outlive the provider.
struct ChainContext {
  EnvVars env;
  std::string profile_flag;  ///< --profile; empty: $AWS_PROFILE, else "default"
  const ProfileFiles* files = nullptr;
  const EndpointConfig* endpoints = nullptr;  ///< STS and SSO endpoint URLs
  std::string region;                         ///< scopes STS and SSO calls; may be empty
  HttpTransport* transport = nullptr;
  const Clock* clock = nullptr;
};

/// Finds credentials in the SDKs' order: environment variables (AWS_ACCESS_KEY_ID,
/// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN); web identity (AWS_WEB_IDENTITY_TOKEN_FILE,
/// AWS_ROLE_ARN, AWS_ROLE_SESSION_NAME); the chosen profile of the shared config and credentials
/// files (role_arn with source_profile, credential_source or web_identity_token_file; SSO; static
/// keys; credential_process); the ECS container endpoint; EC2 instance metadata (IMDSv2).
/// The first source that applies is used, and has already been asked once: a profile that is
/// broken is an error rather than a reason to try the next source. When none applies, the error
/// lists each source with why it did not.
[[nodiscard]] Result<std::shared_ptr<CredentialProvider>> ResolveCredentialChain(
    const ChainContext& ctx);

}  // namespace slipway::aws
