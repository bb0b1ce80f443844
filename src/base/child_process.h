// RAII handle for a spawned child process: its destructor kills and reaps it.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace slipway {

/// How to start a child process. argv[0] is looked up in PATH when it has no '/'.
struct SpawnOptions {
  std::vector<std::string> argv;
  /// The complete environment of the child (nothing is inherited).
  std::map<std::string, std::string> env;
  /// Working directory; empty keeps the parent's.
  std::string cwd;
  /// File that receives stdout and stderr (appended; created 0600); empty means /dev/null.
  std::string output_path;
  /// Start the child in a new process group so signals reach its whole tree.
  bool new_process_group = true;
  /// Descriptors the child receives as 3, 4, …, in this order. Every other descriptor above 2 is
  /// closed in the child, close-on-exec or not.
  std::vector<int> pass_fds;
  /// Signals the child starts with blocked (pending until it unblocks or waits for them), so a
  /// signal sent while it is still starting up is not lost or fatal.
  std::vector<int> blocked_signals;
};

/// How a child ended.
struct ExitStatus {
  /// Exit code, or 128 + signal number when killed by a signal (shell convention).
  int code = 0;
  /// Signal that killed it, 0 if it exited on its own.
  int signal = 0;
};

/// A running (or finished, not yet dropped) child. Move-only; the destructor
/// sends SIGKILL to the process group if the child still runs, then reaps it.
class ChildProcess {
 public:
  ChildProcess() = default;
  ChildProcess(ChildProcess&& o) noexcept;
  ChildProcess& operator=(ChildProcess&& o) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  /// Starts a child; the error names argv[0] and the reason.
  [[nodiscard]] static Result<ChildProcess> Spawn(const SpawnOptions& options);

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0 && !exit_.has_value(); }
  /// Non-blocking: returns the exit status once the child has ended.
  std::optional<ExitStatus> Poll();
  /// Blocks until the child ends.
  ExitStatus Wait();
  /// Sends `sig` to the child's process group (or the child alone).
  void Signal(int sig);
  /// Gives up ownership: the child keeps running and is no longer killed or reaped here.
  void Release() { pid_ = -1; }

 private:
  void Record(int wstatus);
  void KillAndReap();

  pid_t pid_ = -1;
  bool own_group_ = false;
  std::optional<ExitStatus> exit_;
};

/// Runs a command to completion and returns its combined stdout+stderr and exit status.
struct CommandOutput {
  ExitStatus status;
  std::string output;
};
/// `extra_env` is added to (or replaces in) this process's environment for the child.
[[nodiscard]] Result<CommandOutput> RunCommand(const std::vector<std::string>& argv,
                                               const std::map<std::string, std::string>& extra_env = {});

}  // namespace slipway
