// slipway: zero-downtime releases to ECS Fargate, or to the local engine.
#include <CLI/CLI.hpp>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{
      "slipway releases multi-service web apps to ECS Fargate with zero failed requests.\n"
      "The local engine ('Fargate on one machine') serves the same AWS APIs on 127.0.0.1.\n\n"
      "  slipway engine start                 start the local engine\n"
      "  slipway deploy dev --config F        release environment 'dev'\n"
      "  slipway status dev --config F        show its services\n"
      "  slipway rollback dev --config F      return to the previous known-good revision\n"
      "  slipway history dev --config F       who released what, when, and how it ended\n"
      "  slipway logs dev web --since 10m     task output from CloudWatch Logs\n"
      "  slipway diagnose dev --config F      why tasks stopped, with log tails and hints\n"
      "  slipway unlock dev --config F        remove a release lock left by a release that did not end\n"
      "  slipway cleanup dev --keep 5         deregister old revisions and delete images only they name\n"
      "  slipway validate [dev] --config F    check the config and templates, contacting nothing\n\n"
      "Exit codes: 0 released; 1 failed, back on the last known-good revision; 2 usage or config error,\n"
      "or an image with no variant for the task's platform; 3 failed and the rollback failed too;\n"
      "4 not approved; 5 another release in flight;\n"
      "6 outcome unknown: the endpoint stopped answering after a service may have changed;\n"
      "130 interrupted (SIGINT/SIGTERM): stopped at a safe point, its lock removed."};
  app.require_subcommand(1);
  int exit_code = 0;
  slipway::cli::AddEngineCommands(app, exit_code);
  slipway::cli::AddDeployCommands(app, exit_code);
  slipway::cli::AddOpsCommands(app, exit_code);
  slipway::cli::AddUnlockCommand(app, exit_code);
  slipway::cli::AddCleanupCommand(app, exit_code);
  slipway::cli::AddValidateCommand(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : slipway::cli::kExitUsage;
  }
  return exit_code;
}
