// Region and endpoint URLs, resolved from slipway.yaml, flags, environment and profile as the SDKs
// do.
#pragma once

#include <optional>
#include <string>

#include "aws/env_vars.h"
#include "aws/profile_config.h"
#include "base/result.h"

namespace slipway::aws {

/// A region and where it was found, e.g. {"eu-west-1", "AWS_REGION"}.
struct ResolvedRegion {
  std::string region;
  std::string from;
};

/// The first of: the environment's `region` in slipway.yaml, --region, AWS_REGION,
/// AWS_DEFAULT_REGION, the profile's `region`. The error names each place to set one.
[[nodiscard]] Result<ResolvedRegion> ResolveRegion(const std::string& config_region,
                                                   const std::string& flag_region,
                                                   const EnvVars& env,
                                                   const std::optional<ProfileSettings>& profile,
                                                   const std::string& profile_name);

/// "Elastic Load Balancing v2" -> "ELASTIC_LOAD_BALANCING_V2", the suffix of AWS_ENDPOINT_URL_<…>.
std::string EndpointEnvSuffix(const std::string& service_id);
/// "Elastic Load Balancing v2" -> "elastic_load_balancing_v2", the key in a [services] section.
std::string EndpointConfigKey(const std::string& service_id);

/// Endpoint URLs configured for services, by botocore service id ("ECS", "STS", "CloudWatch Logs").
class EndpointConfig {
 public:
  /// `profile` is the chosen profile's settings (nullopt: none); `files` supplies its services
  /// section.
  EndpointConfig(EnvVars env, const std::optional<ProfileSettings>& profile,
                 const ProfileFiles* files);

  /// The configured URL for `service_id`, or "" for AWS's own. First of: AWS_ENDPOINT_URL_<ID>,
  /// AWS_ENDPOINT_URL, the profile's `services` section's `<id> = endpoint_url = …`, the profile's
  /// `endpoint_url`. AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true (or the profile's
  /// ignore_configured_endpoint_urls = true) ignores all of them.
  std::string UrlFor(const std::string& service_id) const;

 private:
  EnvVars env_;
  bool ignore_ = false;
  std::string profile_url_;
  std::map<std::string, std::map<std::string, std::string>> services_;
};

}  // namespace slipway::aws
