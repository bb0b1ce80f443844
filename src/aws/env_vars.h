// The process environment as a value, so credential and endpoint resolution can be tested without
// setenv.
#pragma once

#include <map>
#include <string>

namespace slipway::aws {

/// Environment variables by name.
using EnvVars = std::map<std::string, std::string>;

/// This process's environment.
EnvVars ProcessEnv();

/// The value of `name` in `env`, or empty when unset.
inline std::string EnvValue(const EnvVars& env, const std::string& name) {
  auto it = env.find(name);
  return it == env.end() ? std::string() : it->second;
}

/// $HOME, or the passwd entry's home directory when HOME is unset.
std::string HomeDir(const EnvVars& env);

}  // namespace slipway::aws
