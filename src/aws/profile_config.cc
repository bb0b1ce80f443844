// Locating and merging the shared config and credentials files.
#include "aws/profile_config.h"

namespace slipway::aws {

Result<ProfileFiles> ProfileFiles::Load(const EnvVars& env) {
  ProfileFiles files;
  const std::string home = HomeDir(env);
  files.config_path = EnvValue(env, "AWS_CONFIG_FILE");
  if (files.config_path.empty()) files.config_path = home + "/.aws/config";
  files.credentials_path = EnvValue(env, "AWS_SHARED_CREDENTIALS_FILE");
  if (files.credentials_path.empty()) files.credentials_path = home + "/.aws/credentials";
  auto config = ReadIniFile(files.config_path);
  if (!config) return tl::unexpected(config.error());
  auto credentials = ReadIniFile(files.credentials_path);
  if (!credentials) return tl::unexpected(credentials.error());
  files.config_exists = config->has_value();
  files.credentials_exists = credentials->has_value();
  if (*config) files.config_ = std::move(**config);
  if (*credentials) files.credentials_ = std::move(**credentials);
  return files;
}

std::optional<ProfileSettings> ProfileFiles::Profile(const std::string& name) const {
  std::optional<ProfileSettings> out;
  // The config file names profiles "[profile x]"; only the default profile may be plain
  // "[default]".
  auto take = [&out](const IniFile& file, const std::string& header) {
    auto it = file.find(header);
    if (it == file.end()) return;
    if (!out) out.emplace();
    for (const auto& [k, v] : it->second.values) (*out)[k] = v;
  };
  if (name == "default") take(config_, "default");
  take(config_, "profile " + name);
  take(credentials_, name);
  return out;
}

const IniSection* ProfileFiles::SsoSession(const std::string& name) const {
  auto it = config_.find("sso-session " + name);
  return it == config_.end() ? nullptr : &it->second;
}

const IniSection* ProfileFiles::Services(const std::string& name) const {
  auto it = config_.find("services " + name);
  return it == config_.end() ? nullptr : &it->second;
}

std::string ChosenProfile(const std::string& flag, const EnvVars& env) {
  if (!flag.empty()) return flag;
  std::string profile = EnvValue(env, "AWS_PROFILE");
  return profile.empty() ? "default" : profile;
}

}  // namespace slipway::aws
