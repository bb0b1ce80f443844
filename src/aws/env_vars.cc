// Reading the process environment once, for the credential chain and endpoint resolution.
#include "aws/env_vars.h"

#include <pwd.h>
#include <unistd.h>

extern char** environ;

namespace slipway::aws {

EnvVars ProcessEnv() {
  EnvVars env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    const size_t eq = entry.find('=');
    if (eq != std::string::npos) env.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  return env;
}

std::string HomeDir(const EnvVars& env) {
  std::string home = EnvValue(env, "HOME");
  if (!home.empty()) return home;
  if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr && pw->pw_dir != nullptr)
    return pw->pw_dir;
  return "";
}

}  // namespace slipway::aws
