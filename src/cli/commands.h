// The CLI's commands; each parses its options and calls into a library.
#pragma once

#include <string>

#include "deploy/plan.h"

namespace CLI {
class App;
}

namespace slipway::cli {

/// Exit codes, as README documents them.
inline constexpr int kExitReleased = 0;
inline constexpr int kExitReleaseFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitRollbackFailed = 3;
inline constexpr int kExitNotApproved = 4;
inline constexpr int kExitLocked = 5;
/// deploy/rollback: the endpoint stopped answering after something may have changed.
inline constexpr int kExitOutcomeUnknown = 6;
/// status, history, logs, diagnose: no local engine runs (they never start one).
inline constexpr int kExitNoEngine = 7;
/// plan --detailed-exitcode: a release would change something.
inline constexpr int kExitPlanChanges = 10;
/// deploy/rollback: stopped by SIGINT or SIGTERM (128 + SIGINT, as shells report Ctrl-C).
inline constexpr int kExitInterrupted = 130;

/// Where engine state lives: --data-dir, else $SLIPWAY_DATA_DIR, else ~/.local/state/slipway.
std::string DefaultDataDir();

/// Where a local engine listens unless told otherwise.
inline constexpr const char* kDefaultEngineListen = "127.0.0.1:4580";

/// The address to start a local engine on: $SLIPWAY_ENGINE_LISTEN, else `configured` (slipway.yaml's
/// engine.listen), else kDefaultEngineListen.
std::string EngineListen(const std::string& configured);

void AddEngineCommands(CLI::App& app, int& exit_code);
void AddDeployCommands(CLI::App& app, int& exit_code);
void AddOpsCommands(CLI::App& app, int& exit_code);
void AddUnlockCommand(CLI::App& app, int& exit_code);
void AddCleanupCommand(CLI::App& app, int& exit_code);
void AddValidateCommand(CLI::App& app, int& exit_code);
void AddScaleCommand(CLI::App& app, int& exit_code);
void AddPlanCommand(CLI::App& app, int& exit_code);
void AddRenderCommand(CLI::App& app, int& exit_code);
/// `env status|up|down` and `service start|stop`.
void AddEnvCommands(CLI::App& app, int& exit_code);
void AddDashboardCommand(CLI::App& app, int& exit_code);
void AddAllowlistCommands(CLI::App& app, int& exit_code);

struct Session;
/// What a release of the session's environment would change (reads only); the approval gate
/// prints it before it asks.
[[nodiscard]] Result<deploy::Plan> PlanFor(Session& s);

}  // namespace slipway::cli
