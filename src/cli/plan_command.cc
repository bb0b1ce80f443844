// `slipway plan ENV`: what a release would change, read before anything changes.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/session.h"
#include "deploy/plan.h"
#include "registry/resolve.h"

namespace slipway::cli {

namespace {

struct PlanFlags {
  EnvFlags env;
  bool detailed_exitcode = false;
};

int RunPlan(const PlanFlags& f) {
  Session s;
  if (auto rc = OpenSession(s, f.env)) return *rc;
  auto plan = PlanFor(s);
  if (!plan) {
    std::fprintf(stderr, "error: %s\n", plan.error().message.c_str());
    return plan.error().code == registry::kPlatformMismatch ? kExitUsage : kExitReleaseFailed;
  }
  if (f.env.output == "json") {
    nlohmann::json j = deploy::PlanJson(*plan);
    j["environment"] = s.env.name;
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("%s", deploy::FormatPlan(*plan, s.env.name).c_str());
  }
  return f.detailed_exitcode && plan->Changes() ? kExitPlanChanges : kExitReleased;
}

}  // namespace

Result<deploy::Plan> PlanFor(Session& s) {
  aws::CurlTransport registry_http;
  auto in = deploy::ReadForPlan(*s.client, registry_http, s.cfg, s.env, TemplateVars(s.cfg));
  if (!in) return tl::unexpected(in.error());
  return deploy::PlanRelease(s.cfg, s.env, *in);
}

void AddPlanCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<PlanFlags>();
  CLI::App* plan = app.add_subcommand(
      "plan",
      "Show what `slipway deploy ENV` would change, reading only (never a create or update): the task-definition "
      "diff against the revision each service runs, service settings, infrastructure to create, images to build "
      "(shown as \"(built at release)\"), and scale drift.\n"
      "Exit: 0 (with --detailed-exitcode: 0 nothing would change, 10 something would); 1 API error; 2 usage or "
      "config error.");
  AddEnvFlags(plan, flags->env);
  plan->add_flag("--detailed-exitcode", flags->detailed_exitcode, "Exit 10 when a release would change something");
  plan->callback([flags, &exit_code] { exit_code = RunPlan(*flags); });
}

}  // namespace slipway::cli
