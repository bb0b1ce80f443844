// `slipway render ENV`: the task definitions and services a release would register and create,
// as plain ECS JSON for other tools.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/session.h"
#include "deploy/plan.h"
#include "deploy/template_check.h"

namespace slipway::cli {

namespace {

struct RenderFlags {
  EnvFlags env;
  std::string service;  ///< config service name or ECS service name: print its task definition alone
};

int RunRender(const RenderFlags& f) {
  Session s;
  auto loaded = LoadEnvironment(f.env);
  if (!loaded) return PrintError(f.env, f.env.env, kExitUsage, loaded.error().message);
  std::tie(s.cfg, s.env) = *loaded;
  std::string only;
  for (const auto& [name, se] : s.env.services) {
    if (!f.service.empty() && (name == f.service || se.service_name == f.service)) only = name;
  }
  if (!f.service.empty() && only.empty()) {
    return PrintError(f.env, s.env.name, kExitUsage, "no service '" + f.service + "' in environment " + s.env.name);
  }
  // A mistake in a template is a config error (exit 2), found before anything is contacted.
  if (auto checked = deploy::CheckTemplates(s.cfg, s.env, TemplateVars(s.cfg)); !checked) {
    return PrintError(f.env, s.env.name, kExitUsage, checked.error().message);
  }
  if (auto c = Connect(s, f.env); !c) return PrintError(f.env, s.env.name, kExitReleaseFailed, c.error().message);
  aws::CurlTransport registry_http;
  auto r = deploy::Render(*s.client, registry_http, s.cfg, s.env, TemplateVars(s.cfg));
  if (!r) {
    return PrintError(f.env, s.env.name, ExitCodeFor(r.error()), r.error().message);
  }
  if (!only.empty()) {
    std::printf("%s\n", r->task_definitions.at(only).dump(2).c_str());
    return kExitReleased;
  }
  nlohmann::json j{{"taskDefinitions", r->task_definitions}, {"services", r->services}};
  std::printf("%s\n", j.dump(2).c_str());
  return kExitReleased;
}

}  // namespace

void AddRenderCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<RenderFlags>();
  CLI::App* render = app.add_subcommand(
      "render",
      "Print the task definitions (RegisterTaskDefinition input) and services (CreateService input) a release "
      "would send, as one JSON document {\"taskDefinitions\": {service: …}, \"services\": {service: …}}; with "
      "--service, that service's task definition alone (for `aws ecs register-task-definition --cli-input-json`). "
      "Reads only. Images slipway builds show as \"(built at release)\", what is not yet created as "
      "\"(created at release)\".\n"
      "Exit: 0; 1 API error; 2 usage or config error (with --output json, errors are JSON on stdout).");
  AddEnvFlags(render, flags->env);
  render->add_option("--service", flags->service, "Only this service's task definition (config or ECS service name)");
  render->callback([flags, &exit_code] { exit_code = RunRender(*flags); });
}

}  // namespace slipway::cli
