// slipway: zero-downtime releases to ECS Fargate, or to the local engine.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "cli/version.h"

namespace {

// CLI11 would say only that an argument was not expected; a mistyped command deserves its name
// and the list of commands. Returns the exit code when argv[1] names no command.
std::optional<int> RefuseUnknownCommand(CLI::App& app, int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-') return std::nullopt;
  std::string names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (sub->get_name() == argv[1]) return std::nullopt;
    names += "  " + sub->get_name() + "\n";
  }
  std::fprintf(stderr, "unknown command %s; the commands are:\n%sRun 'slipway --help' for more.\n", argv[1],
               names.c_str());
  return slipway::cli::kExitUsage;
}

// Whether the command line asks for --output json (read before CLI11 could parse it).
bool WantsJson(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--output=json" || (arg == "--output" && i + 1 < argc && std::string(argv[i + 1]) == "json")) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "slipway releases multi-service web apps to ECS Fargate with zero failed requests.\n"
      "The local engine ('Fargate on one machine') serves the same AWS APIs on 127.0.0.1.\n\n"
      "  slipway engine start                 start the local engine\n"
      "  slipway deploy dev --config F        release environment 'dev'\n"
      "  slipway plan dev --config F          what a release would change (reads only)\n"
      "  slipway render dev --config F        the task definitions and services a release would send\n"
      "  slipway status dev --config F        show its services\n"
      "  slipway rollback dev --config F      return to the previous known-good revision\n"
      "  slipway history dev --config F       who released what, when, and how it ended\n"
      "  slipway logs dev web --since 10m     task output from CloudWatch Logs\n"
      "  slipway diagnose dev --config F      why tasks stopped, with log tails and hints\n"
      "  slipway unlock dev --config F        remove a release lock left by a release that did not end\n"
      "  slipway scale dev web 4              set a service's desiredCount (kept by releases) and wait for it\n"
      "  slipway scale dev web --reset        back to slipway.yaml's desiredCount\n"
      "  slipway env down dev                 every service to 0 tasks (and back: env up dev, which verifies)\n"
      "  slipway env status dev               tasks per service and an hourly Fargate cost estimate\n"
      "  slipway service start dev pgadmin    run an onDemand service until `service stop`\n"
      "  slipway cleanup dev --keep 5         deregister old revisions and delete images only they name\n"
      "  slipway validate [dev] --config F    check the config and templates, contacting nothing\n"
      "  slipway allowlist show|sync dev      listener rules for allow: against the config, or apply them\n"
      "  slipway version                      print the version (also --version)\n\n"
      "Exit codes: 0 released; 1 failed, back on the last known-good revision; 2 usage or config error,\n"
      "or an image with no variant for the task's platform; 3 failed and the rollback failed too;\n"
      "4 not approved; 5 another release in flight;\n"
      "10 plan --detailed-exitcode: a release would change something;\n"
      "6 outcome unknown: the endpoint stopped answering after a service may have changed;\n"
      "7 status, history, logs, diagnose: no local engine is running (they never start one);\n"
      "130 interrupted (SIGINT/SIGTERM): stopped at a safe point, its lock removed."};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("slipway ") + slipway::cli::kVersion, "Print the version and exit");
  app.add_subcommand("version", "Print the version")->callback([] { std::printf("slipway %s\n", slipway::cli::kVersion); });
  int exit_code = 0;
  slipway::cli::AddEngineCommands(app, exit_code);
  slipway::cli::AddDeployCommands(app, exit_code);
  slipway::cli::AddOpsCommands(app, exit_code);
  slipway::cli::AddUnlockCommand(app, exit_code);
  slipway::cli::AddCleanupCommand(app, exit_code);
  slipway::cli::AddValidateCommand(app, exit_code);
  slipway::cli::AddScaleCommand(app, exit_code);
  slipway::cli::AddPlanCommand(app, exit_code);
  slipway::cli::AddRenderCommand(app, exit_code);
  slipway::cli::AddEnvCommands(app, exit_code);
  slipway::cli::AddDashboardCommand(app, exit_code);
  slipway::cli::AddAllowlistCommands(app, exit_code);
  if (auto rc = RefuseUnknownCommand(app, argc, argv)) return *rc;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // A script that asked for JSON gets its usage error as JSON on stdout too.
    if (e.get_exit_code() != 0 && WantsJson(argc, argv)) {
      std::printf("%s\n", nlohmann::json{{"error", e.what()}, {"exitCode", slipway::cli::kExitUsage}}.dump(2).c_str());
      return slipway::cli::kExitUsage;
    }
    int rc = app.exit(e);
    return rc == 0 ? 0 : slipway::cli::kExitUsage;
  }
  return exit_code;
}
