// Choosing the credential source and building its (refreshing) provider.
#include "aws/credential_chain.h"

#include <fstream>
#include <set>
#include <sstream>

#include "aws/metadata_credentials.h"
#include "aws/process_credentials.h"
#include "aws/sso_credentials.h"
#include "aws/sts.h"
#include "base/strings.h"

namespace slipway::aws {

namespace {

using ProviderPtr = std::shared_ptr<CredentialProvider>;
// A source that applies (a provider), does not apply (nullopt), or is broken (an error).
using Applies = Result<std::optional<ProviderPtr>>;

std::string Get(const ProfileSettings& s, const std::string& key) {
  auto it = s.find(key);
  return it == s.end() ? "" : it->second;
}

StsEndpoint StsFor(const ChainContext& ctx) {
  std::string url = ctx.endpoints ? ctx.endpoints->UrlFor("STS") : "";
  const std::string region = ctx.region.empty() ? "us-east-1" : ctx.region;
  if (url.empty())
    url = ctx.region.empty() ? "https://sts.amazonaws.com"
                             : "https://sts." + region + ".amazonaws.com";
  return {url, region};
}

Result<std::string> ReadToken(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Fail("cannot read web identity token file " + path);
  std::stringstream text;
  text << in.rdbuf();
  return Trim(text.str());
}

ProviderPtr Refreshing(const ChainContext& ctx, std::string source,
                       RefreshingCredentialProvider::Fetch fetch) {
  return std::make_shared<RefreshingCredentialProvider>(std::move(source), std::move(fetch),
                                                        *ctx.clock);
}

ProviderPtr WebIdentity(const ChainContext& ctx, std::string source, RoleRequest role,
                        std::string token_file) {
  if (role.session_name.empty()) role.session_name = DefaultSessionName(ctx.clock->WallNow());
  return Refreshing(ctx, std::move(source),
                    [transport = ctx.transport, sts = StsFor(ctx), role,
                     token_file]() -> Result<IssuedCredentials> {
                      auto token = ReadToken(token_file);
                      if (!token) return tl::unexpected(token.error());
                      return AssumeRoleWithWebIdentity(*transport, sts, role, *token);
                    });
}

ProviderPtr Imds(const ChainContext& ctx) {
  return Refreshing(ctx, "EC2 instance metadata",
                    [transport = ctx.transport, url = ImdsEndpoint(ctx.env)] {
                      return FetchImdsCredentials(*transport, url);
                    });
}

ProviderPtr Container(const ChainContext& ctx, const ContainerEndpoint& endpoint) {
  return Refreshing(ctx, "container credentials " + endpoint.url,
                    [transport = ctx.transport, endpoint] {
                      return FetchContainerCredentials(*transport, endpoint);
                    });
}

Applies FromProfile(const ChainContext& ctx, const std::string& name,
                    std::set<std::string>& visited);

// The credentials a role_arn profile assumes the role with.
Result<ProviderPtr> RoleSource(const ChainContext& ctx, const std::string& name,
                               const ProfileSettings& s, std::set<std::string>& visited) {
  const std::string source_profile = Get(s, "source_profile"),
                    credential_source = Get(s, "credential_source");
  const std::string where = "profile " + name + ": ";
  if (!source_profile.empty() && !credential_source.empty()) {
    return Fail(where + "has both source_profile and credential_source; keep one");
  }
  if (!source_profile.empty()) {
    // A profile that names itself uses its own static keys as the source (as the SDKs do).
    if (source_profile == name && !Get(s, "aws_access_key_id").empty()) {
      return ProviderPtr(std::make_shared<StaticCredentialProvider>(
          Credentials{Get(s, "aws_access_key_id"), Get(s, "aws_secret_access_key"),
                      Get(s, "aws_session_token")},
          "profile " + name));
    }
    auto source = FromProfile(ctx, source_profile, visited);
    if (!source)
      return tl::unexpected(Wrap(where + "source_profile " + source_profile, source.error()));
    if (!*source) return Fail(where + "source_profile " + source_profile + " has no credentials");
    return **source;
  }
  if (credential_source == "Environment") {
    const std::string id = EnvValue(ctx.env, "AWS_ACCESS_KEY_ID"),
                      secret = EnvValue(ctx.env, "AWS_SECRET_ACCESS_KEY");
    if (id.empty() || secret.empty())
      return Fail(
          where +
          "credential_source Environment: AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY is not set");
    return ProviderPtr(std::make_shared<StaticCredentialProvider>(
        Credentials{id, secret, EnvValue(ctx.env, "AWS_SESSION_TOKEN")}, "environment variables"));
  }
  if (credential_source == "Ec2InstanceMetadata") return Imds(ctx);
  if (credential_source == "EcsContainer") {
    auto endpoint = ContainerEndpointFromEnv(ctx.env);
    if (!endpoint)
      return tl::unexpected(Wrap(where + "credential_source EcsContainer", endpoint.error()));
    if (!*endpoint) {
      return Fail(where +
                  "credential_source EcsContainer: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or "
                  "_FULL_URI is not set");
    }
    return Container(ctx, **endpoint);
  }
  if (!credential_source.empty()) {
    return Fail(where + "credential_source " + credential_source +
                " is not one of Environment, Ec2InstanceMetadata, EcsContainer");
  }
  return Fail(where +
              "role_arn needs source_profile, credential_source or web_identity_token_file");
}

Result<ProviderPtr> AssumeRoleProfile(const ChainContext& ctx, const std::string& name,
                                      const ProfileSettings& s, std::set<std::string>& visited) {
  RoleRequest role{Get(s, "role_arn"), Get(s, "role_session_name"), Get(s, "external_id"), 0};
  if (const std::string d = Get(s, "duration_seconds"); !d.empty()) {
    role.duration_seconds = std::atoi(d.c_str());
    if (role.duration_seconds < 900 || role.duration_seconds > 43200 ||
        std::to_string(role.duration_seconds) != d) {
      return Fail("profile " + name + ": duration_seconds '" + d +
                  "' is not a number from 900 to 43200");
    }
  }
  const std::string source_name = "profile " + name + " (role " + role.role_arn + ")";
  if (const std::string token_file = Get(s, "web_identity_token_file"); !token_file.empty()) {
    return WebIdentity(ctx, source_name, role, token_file);
  }
  auto source = RoleSource(ctx, name, s, visited);
  if (!source) return tl::unexpected(source.error());
  if (role.session_name.empty()) role.session_name = DefaultSessionName(ctx.clock->WallNow());
  return Refreshing(ctx, source_name,
                    [transport = ctx.transport, clock = ctx.clock, sts = StsFor(ctx), role,
                     source = *source]() -> Result<IssuedCredentials> {
                      auto creds = source->Get();
                      if (!creds) return tl::unexpected(creds.error());
                      return AssumeRole(*transport, sts, *creds, role, clock->WallNow());
                    });
}

Result<ProviderPtr> SsoProfile(const ChainContext& ctx, const std::string& name,
                               const ProfileSettings& s) {
  SsoRole role{name,
               Get(s, "sso_session"),
               Get(s, "sso_start_url"),
               Get(s, "sso_region"),
               Get(s, "sso_account_id"),
               Get(s, "sso_role_name")};
  if (!role.session_name.empty()) {
    const IniSection* session = ctx.files->SsoSession(role.session_name);
    if (session == nullptr)
      return Fail("profile " + name + ": no [sso-session " + role.session_name + "] in " +
                  ctx.files->config_path);
    auto value = [session](const char* key) {
      auto it = session->values.find(key);
      return it == session->values.end() ? std::string() : it->second;
    };
    role.start_url = value("sso_start_url");
    role.region = value("sso_region");
  }
  if (role.start_url.empty() || role.region.empty() || role.account_id.empty() ||
      role.role_name.empty()) {
    return Fail("profile " + name +
                ": SSO needs sso_start_url, sso_region, sso_account_id and sso_role_name");
  }
  std::string portal = ctx.endpoints ? ctx.endpoints->UrlFor("SSO") : "";
  if (portal.empty()) portal = DefaultSsoPortal(role.region);
  return Refreshing(ctx,
                    "profile " + name + " (SSO " + role.account_id + "/" + role.role_name + ")",
                    [transport = ctx.transport, clock = ctx.clock, role, portal,
                     cache = HomeDir(ctx.env) + "/.aws/sso/cache"] {
                      return FetchSsoCredentials(*transport, role, cache, portal, clock->WallNow());
                    });
}

Applies FromProfile(const ChainContext& ctx, const std::string& name,
                    std::set<std::string>& visited) {
  if (!visited.insert(name).second)
    return Fail("profile " + name + ": source_profile chain loops back to it");
  const std::optional<ProfileSettings> found = ctx.files->Profile(name);
  if (!found) {
    return Fail("no profile " + name + " in " + ctx.files->config_path + " or " +
                ctx.files->credentials_path);
  }
  const ProfileSettings& s = *found;
  if (!Get(s, "role_arn").empty()) return AssumeRoleProfile(ctx, name, s, visited);
  if (!Get(s, "sso_session").empty() || !Get(s, "sso_start_url").empty())
    return SsoProfile(ctx, name, s);
  const std::string id = Get(s, "aws_access_key_id"), secret = Get(s, "aws_secret_access_key");
  if (!id.empty() || !secret.empty()) {
    if (id.empty() || secret.empty())
      return Fail("profile " + name +
                  ": has only one of aws_access_key_id and aws_secret_access_key");
    return ProviderPtr(std::make_shared<StaticCredentialProvider>(
        Credentials{id, secret, Get(s, "aws_session_token")}, "profile " + name));
  }
  if (const std::string command = Get(s, "credential_process"); !command.empty()) {
    return Refreshing(ctx, "profile " + name + " (credential_process)",
                      [command] { return RunCredentialProcess(command); });
  }
  return std::optional<ProviderPtr>();
}

// Asks a provider that applies once, so that a broken source is reported now, naming it.
Result<ProviderPtr> Checked(ProviderPtr provider) {
  if (auto first = provider->Get(); !first) return tl::unexpected(first.error());
  return provider;
}

}  // namespace

Result<std::shared_ptr<CredentialProvider>> ResolveCredentialChain(const ChainContext& ctx) {
  std::vector<std::string> tried;
  const EnvVars& env = ctx.env;
  const std::string id = EnvValue(env, "AWS_ACCESS_KEY_ID"),
                    secret = EnvValue(env, "AWS_SECRET_ACCESS_KEY");
  if (!id.empty() && !secret.empty()) {
    return ProviderPtr(std::make_shared<StaticCredentialProvider>(
        Credentials{id, secret, EnvValue(env, "AWS_SESSION_TOKEN")}, "environment variables"));
  }
  tried.push_back("environment variables: " +
                  std::string(id.empty() && secret.empty()
                                  ? "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are"
                              : id.empty() ? "AWS_ACCESS_KEY_ID is"
                                           : "AWS_SECRET_ACCESS_KEY is") +
                  " not set");

  const std::string token_file = EnvValue(env, "AWS_WEB_IDENTITY_TOKEN_FILE"),
                    role_arn = EnvValue(env, "AWS_ROLE_ARN");
  if (!token_file.empty() && !role_arn.empty()) {
    return Checked(WebIdentity(ctx, "web identity (role " + role_arn + ")",
                               {role_arn, EnvValue(env, "AWS_ROLE_SESSION_NAME"), "", 0},
                               token_file));
  }
  tried.push_back("web identity: " +
                  std::string(token_file.empty() ? "AWS_WEB_IDENTITY_TOKEN_FILE" : "AWS_ROLE_ARN") +
                  " is not set");

  const std::string profile = ChosenProfile(ctx.profile_flag, env);
  const bool chosen = !ctx.profile_flag.empty() || !EnvValue(env, "AWS_PROFILE").empty();
  if (ctx.files->Profile(profile) || chosen) {
    // A profile asked for by name must work; only the implicit default may be absent.
    std::set<std::string> visited;
    auto from_profile = FromProfile(ctx, profile, visited);
    if (!from_profile) return tl::unexpected(from_profile.error());
    if (*from_profile) return Checked(**from_profile);
    tried.push_back("profile " + profile +
                    ": has no credentials (no aws_access_key_id, role_arn, sso_session, "
                    "sso_start_url or credential_process)");
  } else {
    auto state = [](const std::string& path, bool exists) {
      return path + (exists ? "" : " (no such file)");
    };
    tried.push_back("profile default: not in " +
                    state(ctx.files->config_path, ctx.files->config_exists) + " or " +
                    state(ctx.files->credentials_path, ctx.files->credentials_exists));
  }

  auto container = ContainerEndpointFromEnv(env);
  if (!container) return tl::unexpected(container.error());
  if (*container) return Checked(Container(ctx, **container));
  tried.push_back(
      "container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and "
      "AWS_CONTAINER_CREDENTIALS_FULL_URI are not set");

  if (ImdsDisabled(env)) {
    tried.push_back("EC2 instance metadata: disabled by AWS_EC2_METADATA_DISABLED=true");
  } else {
    ProviderPtr imds = Imds(ctx);
    auto first = imds->Get();
    if (first) return imds;
    tried.push_back(first.error().message);
  }
  std::string message = "no AWS credentials found; tried:";
  for (const std::string& t : tried) message += "\n  - " + t;
  return Fail(message);
}

}  // namespace slipway::aws
