// `slipway plan ENV`: what a release would change, read before anything changes.
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

struct PlanFlags {
  EnvFlags env;
  bool detailed_exitcode = false;
};

int RunPlan(const PlanFlags& f) {
  Session s;
  auto loaded = LoadEnvironment(f.env);
  if (!loaded) return PrintError(f.env, f.env.env, kExitUsage, loaded.error().message);
  std::tie(s.cfg, s.env) = *loaded;
  // A mistake in a template is a config error (exit 2), found before anything is contacted.
  if (auto checked = deploy::CheckTemplates(s.cfg, s.env, TemplateVars(s.cfg)); !checked) {
    return PrintError(f.env, s.env.name, kExitUsage, checked.error().message);
  }
  if (auto c = Connect(s, f.env); !c) return PrintError(f.env, s.env.name, kExitReleaseFailed, c.error().message);
  auto plan = PlanFor(s);
  if (!plan) {
    return PrintError(f.env, s.env.name, ExitCodeFor(plan.error()), plan.error().message);
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
      "Show what `slipway deploy ENV` would change, reading only (never a create or update):\n"
      "  - infrastructure to create (cluster, security group, load balancer, target groups,\n"
      "    listener, rules);\n"
      "  - per service, the task-definition diff against the revision it runs, keyed by container\n"
      "    and variable name (+ added, - removed, ~ before -> after);\n"
      "  - service settings the release would change (deployment configuration, grace period);\n"
      "  - images the release builds (their digest is known only then: \"(built at release)\");\n"
      "  - scale drift: a desired count other than the config's, which the release sets back.\n"
      "  - listener rules: allowlist drift, rules `allow:` wants that the listener lacks or holds\n"
      "    otherwise (a release or `slipway allowlist sync` applies them), and a warning first when\n"
      "    the allowlist would block the release's own verify.\n"
      "Fields ECS fills in on registration (revision, defaults such as essential or protocol) are not\n"
      "compared. A service that builds images always shows a change.\n"
      "Examples:\n"
      "  slipway plan prod --config slipway.yaml\n"
      "  slipway plan prod --detailed-exitcode; [ $? -eq 10 ] && echo 'prod would change'\n"
      "  slipway plan prod --output json | jq '.services[].taskDefinition'\n"
      "Exit: 0 (with --detailed-exitcode: 0 nothing would change, 10 something would);\n"
      "  1 API error; 2 usage or config error. With --output json, errors are JSON on stdout too:\n"
      "  {\"environment\": …, \"error\": …, \"exitCode\": …}.");
  AddEnvFlags(plan, flags->env);
  plan->add_flag("--detailed-exitcode", flags->detailed_exitcode, "Exit 10 when a release would change something");
  plan->callback([flags, &exit_code] { exit_code = RunPlan(*flags); });
}

}  // namespace slipway::cli
