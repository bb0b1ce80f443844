// What every environment command starts with: the config, the environment, and a signed client
// for it (starting the local engine when the environment's provider is local).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "aws/aws_client.h"
#include "base/cancel.h"
#include "base/clock.h"
#include "config/config.h"

namespace CLI {
class App;
}

namespace slipway::cli {

/// Flags shared by deploy, status, rollback, history, logs and diagnose.
struct EnvFlags {
  std::string env;
  std::string config = "slipway.yaml";
  std::string output = "text";
  std::string data_dir;
  std::string profile;  ///< --profile: the AWS shared-config profile (provider aws)
  std::string region;   ///< --region: used when the environment sets none (provider aws)
};

/// Adds ENV, --config, --output, --data-dir, --profile and --region to `command`.
void AddEnvFlags(CLI::App* command, EnvFlags& flags);

/// A connected environment. Open() prints the error and yields the exit code on failure.
struct Session {
  config::Config cfg;
  config::Environment env;
  aws::CurlTransport transport;
  RealClock clock;
  std::unique_ptr<aws::AwsClient> client;
  std::string endpoint;  ///< where requests go, for progress lines
};

/// Sets how `s.client` waits for an endpoint that does not answer: `print` gets a line such as
/// "engine at http://127.0.0.1:4580 unreachable since 12:00:01; retrying until 12:01:01", and
/// `cancel`, once set, ends the wait. Connect() sets one that prints to stderr.
void ReportUnreachable(Session& s, std::function<void(const std::string&)> print, const CancelToken* cancel = nullptr);

/// Whether connecting to a `provider: local` environment may start its engine. Commands that only
/// read (status, history, logs, diagnose) never do: with no engine there is nothing to read.
enum class EngineStart { kStart, kNever };

/// Error code of Connect(…, EngineStart::kNever) when no engine runs.
inline constexpr const char* kEngineNotRunning = "EngineNotRunning";

/// Loads the config and environment, and checks AWS_MAX_ATTEMPTS (errors exit 2).
[[nodiscard]] Result<std::pair<config::Config, config::Environment>> LoadEnvironment(const EnvFlags& flags);
/// Connects to the environment (errors exit 1). Starts the local engine when needed (unless
/// `start` is kNever: then an error with code kEngineNotRunning) on EngineListen(engine.listen);
/// $SLIPWAY_ENGINE_ENDPOINT sends a local environment's requests to another URL that reaches it.
/// For provider aws, finds credentials, region and endpoints as the AWS SDKs do. An endpoint that
/// stops answering is retried for 60 s ($SLIPWAY_UNREACHABLE_SECONDS overrides it); calls get
/// $AWS_MAX_ATTEMPTS attempts (default 3).
[[nodiscard]] Result<void> Connect(Session& s, const EnvFlags& flags, EngineStart start = EngineStart::kStart);

/// Progress for the user: on stdout in text mode, on stderr when stdout carries JSON.
void PrintProgress(const EnvFlags& flags, const std::string& line);

/// The approval gate of environments with `approval:`: on a terminal the user types the phrase;
/// elsewhere --confirm must carry it. Prints why on refusal. Run it before anything connects, so
/// a refusal changes nothing.
[[nodiscard]] bool Approved(const config::Environment& env, const std::string& confirm, const std::string& action);

/// Loads and connects in one step; on failure prints the error and returns the exit code
/// (2 for config errors, 1 for connection errors, 7 when `start` is kNever and no local engine
/// runs: said on stderr, or as JSON on stdout with --output json).
[[nodiscard]] std::optional<int> OpenSession(Session& s, const EnvFlags& flags,
                                             EngineStart start = EngineStart::kStart);

/// Prints an error, as {"environment", "error", "exitCode"} on stdout with --output json (so a
/// reader of the JSON gets JSON), else as "error: …" on stderr; returns `code`.
int PrintError(const EnvFlags& flags, const std::string& environment, int code, const std::string& message);

/// The exit code of an error a release, plan or render returned while nothing was changed: 2 when
/// it is a mistake in what was asked for (an image that cannot run on the task's platform, a task
/// definition Fargate cannot run, a rollback target that is no verified revision of the family),
/// else 1.
int ExitCodeFor(const Error& error);

/// Template variables: the process environment plus SLIPWAY_BIN_DIR and SLIPWAY_CONFIG_DIR.
std::map<std::string, std::string> TemplateVars(const config::Config& cfg);

/// "HH:MM:SS" local time, prefixed to progress lines.
std::string Stamp();

}  // namespace slipway::cli
