// `slipway dashboard ENV [--apply]`: the environment's CloudWatch dashboard from the config,
// printed, or applied with PutDashboard.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "aws/cloudwatch.h"
#include "cli/commands.h"
#include "cli/session.h"
#include "deploy/dashboard.h"

namespace slipway::cli {

namespace {

using nlohmann::json;

struct DashboardFlags {
  EnvFlags env;
  bool apply = false;
};

int Dashboard(const DashboardFlags& f) {
  Session s;
  // Reads only: a local environment whose engine does not run was never released.
  if (auto rc = OpenSession(s, f.env, EngineStart::kNever)) return *rc;
  auto source = deploy::ReadDashboardSource(*s.client, s.cfg, s.env, TemplateVars(s.cfg));
  if (!source) return PrintError(f.env, f.env.env, kExitReleaseFailed, source.error().message);
  const json body = deploy::DashboardBody(*source);
  const std::string name = deploy::DashboardName(s.cfg.app, s.env.name);
  if (!f.apply) {
    std::printf("%s\n", body.dump(2).c_str());
    return kExitReleased;
  }
  aws::CloudWatch cloudwatch(*s.client);
  auto put = cloudwatch.PutDashboard(name, body.dump());
  if (!put) return PrintError(f.env, f.env.env, kExitReleaseFailed, put.error().message);
  const size_t widgets = body["widgets"].size();
  if (f.env.output == "json") {
    json warnings = json::array();
    for (const auto& m : *put)
      warnings.push_back({{"dataPath", m.data_path}, {"message", m.message}});
    std::printf("%s\n", json{{"environment", s.env.name},
                             {"dashboard", name},
                             {"region", source->region},
                             {"widgets", widgets},
                             {"warnings", warnings},
                             {"exitCode", kExitReleased}}
                            .dump(2)
                            .c_str());
    return kExitReleased;
  }
  std::printf("dashboard %s applied in %s: %zu graphs for %zu services\n", name.c_str(),
              source->region.c_str(), widgets, source->services.size());
  for (const auto& m : *put)
    std::printf("warning: %s: %s\n", m.data_path.c_str(), m.message.c_str());
  return kExitReleased;
}

}  // namespace

void AddDashboardCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<DashboardFlags>();
  CLI::App* dashboard = app.add_subcommand(
      "dashboard",
      "Generate the environment's CloudWatch dashboard from slipway.yaml: per service, the load "
      "balancer's requests, 5XX counts, response time p50/p99 and healthy targets, ECS's CPU, "
      "memory "
      "and running tasks, and a marker per release. Prints the dashboard body JSON; --apply stores "
      "it "
      "with PutDashboard as <app>-<env>. Works on the engine and on AWS alike.\n"
      "  slipway dashboard dev              # print the body\n"
      "  slipway dashboard prod --apply     # create or replace dashboard <app>-prod\n"
      "Exit: 0 printed or applied; 1 failed (e.g. the environment was never released); 2 usage; "
      "7 no local engine runs.");
  AddEnvFlags(dashboard, flags->env);
  dashboard->add_flag("--apply", flags->apply, "Store the dashboard with CloudWatch PutDashboard");
  dashboard->callback([flags, &exit_code] { exit_code = Dashboard(*flags); });
}

}  // namespace slipway::cli
