// Region and endpoint resolution (SDK "service-specific endpoints" conventions).
#include "aws/endpoints.h"

#include <cctype>

#include "base/strings.h"

namespace slipway::aws {

namespace {

std::string Setting(const std::optional<ProfileSettings>& profile, const std::string& key) {
  if (!profile) return "";
  auto it = profile->find(key);
  return it == profile->end() ? "" : it->second;
}

}  // namespace

Result<ResolvedRegion> ResolveRegion(const std::string& config_region,
                                     const std::string& flag_region, const EnvVars& env,
                                     const std::optional<ProfileSettings>& profile,
                                     const std::string& profile_name) {
  if (!config_region.empty()) return ResolvedRegion{config_region, "slipway.yaml"};
  if (!flag_region.empty()) return ResolvedRegion{flag_region, "--region"};
  for (const char* name : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    if (std::string v = EnvValue(env, name); !v.empty()) return ResolvedRegion{v, name};
  }
  if (std::string v = Setting(profile, "region"); !v.empty())
    return ResolvedRegion{v, "profile " + profile_name};
  return Fail(
      "no AWS region: set the environment's `region` in slipway.yaml, pass --region, set "
      "AWS_REGION or "
      "AWS_DEFAULT_REGION, or set `region` in profile " +
      profile_name);
}

std::string EndpointEnvSuffix(const std::string& service_id) {
  std::string out;
  for (char c : service_id)
    out +=
        c == ' ' || c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string EndpointConfigKey(const std::string& service_id) {
  return Lower(EndpointEnvSuffix(service_id));
}

EndpointConfig::EndpointConfig(EnvVars env, const std::optional<ProfileSettings>& profile,
                               const ProfileFiles* files)
    : env_(std::move(env)) {
  ignore_ = Lower(EnvValue(env_, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) == "true" ||
            Lower(Setting(profile, "ignore_configured_endpoint_urls")) == "true";
  profile_url_ = Setting(profile, "endpoint_url");
  if (const std::string name = Setting(profile, "services"); !name.empty() && files != nullptr) {
    if (const IniSection* section = files->Services(name)) services_ = section->nested;
  }
}

std::string EndpointConfig::UrlFor(const std::string& service_id) const {
  if (ignore_) return "";
  if (std::string v = EnvValue(env_, "AWS_ENDPOINT_URL_" + EndpointEnvSuffix(service_id));
      !v.empty())
    return v;
  if (std::string v = EnvValue(env_, "AWS_ENDPOINT_URL"); !v.empty()) return v;
  if (auto it = services_.find(EndpointConfigKey(service_id)); it != services_.end()) {
    if (auto url = it->second.find("endpoint_url"); url != it->second.end() && !url->second.empty())
      return url->second;
  }
  return profile_url_;
}

}  // namespace slipway::aws
