// Runs the engine in the foreground: API server, data plane and reconciler until signalled, and
// the planned restart that hands its listening sockets to a new engine process.
#pragma once

#include <string>
#include <vector>

#include "aws/sigv4.h"
#include "base/result.h"

namespace slipway::engine {

inline constexpr const char* kProfile = "slipway-local";
inline constexpr int kDefaultApiPort = 4580;
/// The region an engine serves unless told otherwise, and the one an old engine.json implies.
inline constexpr const char* kDefaultRegion = "us-east-1";

struct EngineOptions {
  std::string data_dir;
  std::string listen_host = "127.0.0.1";
  int listen_port = kDefaultApiPort;
  /// The one region the engine serves: requests must be signed for it, as at an AWS endpoint, and
  /// its ARNs carry it.
  std::string region = kDefaultRegion;
  /// Most tasks alive at once; 0 picks DefaultMaxTasks().
  int max_tasks = 0;
  /// The proxy's limits, in seconds or connections; 0 keeps its default (ProxyOptions). A restart
  /// keeps the running engine's when 0.
  int proxy_header_timeout_s = 0;
  int proxy_idle_timeout_s = 0;
  int proxy_max_connections = 0;
  /// "podman", "exec", or "auto" (podman when it works here, else exec). A restart keeps the
  /// running engine's when empty.
  std::string runtime = "auto";
  /// Listening sockets handed over by the engine this one replaces, passed as descriptors 3, 4, …
  /// in this order: "api" for the API socket, else a listener port.
  std::vector<std::string> inherited_sockets;
};

/// Where a running engine can be reached; written to <data-dir>/engine.json.
struct EngineInfo {
  int pid = 0;
  /// The process's start time (/proc), so a reused pid is not taken for the engine.
  unsigned long long start_time = 0;
  std::string endpoint;
  std::string credentials_file;
  std::string profile = kProfile;
  std::string region = kDefaultRegion;  ///< what clients must sign requests for
  int max_tasks = 0;
  std::string memory_limits;
  /// The runtime tasks run with: "podman" or "exec".
  std::string runtime;
  /// Milliseconds from process start until the listeners served again with the restored routing.
  long ready_ms = 0;
};

/// A task limit from the machine: 64 tasks per core, at most one per 64 MiB of memory.
int DefaultMaxTasks();

/// Creates the data dir (0700) and, on first start, the key pair and its credentials file (0600).
[[nodiscard]] Result<aws::Credentials> EnsureCredentials(const std::string& data_dir);
/// Makes the data dir private: the dir and its subdirectories 0700, every file in it 0600.
[[nodiscard]] Result<void> MakePrivate(const std::string& data_dir);
/// Reads <data-dir>/engine.json; an error if the engine never ran there.
[[nodiscard]] Result<EngineInfo> ReadEngineInfo(const std::string& data_dir);
/// True if the engine described by `info` is alive: its pid runs, is no zombie, and started when
/// the engine did.
bool EngineAlive(const EngineInfo& info);

/// The last `lines` lines of <data-dir>/engine.log, each on its own line as "  | text", for an
/// error message about an engine that would not start.
std::string EngineLogTail(const std::string& data_dir, size_t lines);

/// Serves until SIGTERM or SIGINT, then stops every task and returns. After a handoff (see
/// Restart) it returns without stopping tasks: the new engine has adopted them.
[[nodiscard]] Result<void> RunEngine(const EngineOptions& options);

/// A planned restart: the running engine stops accepting, commits its state and hands its
/// listening sockets to a new `engine run` of `program` (this binary, possibly newer), which
/// adopts the running tasks. Connections wait in the sockets' backlogs meanwhile, so no client
/// is refused. Returns the new engine's info once it serves. `options` carries the new engine's
/// settings (region, task limit); its listen address is the old engine's.
[[nodiscard]] Result<EngineInfo> Restart(const std::string& program, EngineOptions options);

}  // namespace slipway::engine
