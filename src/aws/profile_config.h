// Profiles of the shared config and credentials files, merged as the AWS SDKs merge them.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "aws/config_file.h"
#include "aws/env_vars.h"
#include "base/result.h"

namespace slipway::aws {

/// A profile's settings by key, e.g. {"region", "eu-west-1"}, {"role_arn", "arn:aws:iam::…"}.
using ProfileSettings = std::map<std::string, std::string>;

/// The shared config file ($AWS_CONFIG_FILE, default ~/.aws/config) and shared credentials file
/// ($AWS_SHARED_CREDENTIALS_FILE, default ~/.aws/credentials). Either may be missing.
class ProfileFiles {
 public:
  /// Reads both files; a missing file is empty, a malformed one is an error naming file and line.
  [[nodiscard]] static Result<ProfileFiles> Load(const EnvVars& env);

  /// Profile `name`: the config file's [profile name] (or [default] for "default") overlaid by
  /// the credentials file's [name]. nullopt when neither file has it.
  std::optional<ProfileSettings> Profile(const std::string& name) const;
  /// The config file's [sso-session name], or nullptr.
  const IniSection* SsoSession(const std::string& name) const;
  /// The config file's [services name], or nullptr.
  const IniSection* Services(const std::string& name) const;

  /// Where each file is read from, and whether it exists, for messages.
  std::string config_path, credentials_path;
  bool config_exists = false, credentials_exists = false;

 private:
  IniFile config_, credentials_;
};

/// The profile to use: `flag` (--profile) when set, else $AWS_PROFILE, else "default".
std::string ChosenProfile(const std::string& flag, const EnvVars& env);

}  // namespace slipway::aws
