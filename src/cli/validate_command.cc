// `slipway validate`: the config and every template checked as a release would, contacting nothing.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/session.h"
#include "deploy/template_check.h"

namespace slipway::cli {

namespace {

struct ValidateFlags {
  std::string env;  ///< empty: every environment
  std::string config = "slipway.yaml";
  std::string output = "text";
};

int Validate(const ValidateFlags& f) {
  const bool json_out = f.output == "json";
  auto fail = [&](const std::string& message) {
    if (json_out) {
      std::printf("%s\n", nlohmann::json{{"valid", false}, {"error", message}}.dump(2).c_str());
    } else {
      std::fprintf(stderr, "error: %s\n", message.c_str());
    }
    return kExitUsage;
  };
  auto cfg = config::LoadConfig(f.config);
  if (!cfg) return fail(cfg.error().message);
  if (!f.env.empty() && !cfg->environments.count(f.env)) {
    return fail(f.config + ": no environment '" + f.env + "'");
  }
  const auto vars = TemplateVars(*cfg);
  nlohmann::json checked = nlohmann::json::array();
  for (const auto& [name, env] : cfg->environments) {
    if (!f.env.empty() && name != f.env) continue;
    if (auto r = deploy::CheckTemplates(*cfg, env, vars); !r) return fail(name + ": " + r.error().message);
    checked.push_back(name);
  }
  if (json_out) {
    std::printf("%s\n", nlohmann::json{{"valid", true}, {"environments", checked}}.dump(2).c_str());
  } else {
    std::printf("%s: valid (%s)\n", f.config.c_str(), checked.dump().c_str());
  }
  return 0;
}

}  // namespace

void AddValidateCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<ValidateFlags>();
  CLI::App* validate = app.add_subcommand(
      "validate",
      "Check slipway.yaml and every task-definition template as a release would (variables from the process "
      "environment), contacting nothing. ENV checks one environment, none checks all.\nExit: 0 valid; 2 an error, "
      "named file:line.");
  validate->add_option("env", flags->env, "Environment name (default: every environment)");
  validate->add_option("-c,--config", flags->config, "Path to slipway.yaml")->capture_default_str();
  validate->add_option("--output", flags->output, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  validate->callback([flags, &exit_code] { exit_code = Validate(*flags); });
}

}  // namespace slipway::cli
