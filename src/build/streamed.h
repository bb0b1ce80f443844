// Runs a builder or a push to completion, passing its output on line by line as it comes.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/cancel.h"
#include "base/child_process.h"
#include "base/result.h"

namespace slipway::build {

/// How a streamed command ended, with its last lines for a failure report.
struct StreamedRun {
  ExitStatus status;
  bool cancelled = false;               ///< stopped on request (the process group was killed)
  std::vector<std::string> last_lines;  ///< at most kKeptLines
  std::string output;                   ///< the last 64 KiB it printed
};

/// Lines of output a StreamedRun keeps for reporting.
inline constexpr size_t kKeptLines = 15;

/// Runs `argv` with `extra_env` added to this process's environment. Its stdout and stderr go
/// to `log_path`, and every complete line to `on_line` while it runs.
[[nodiscard]] Result<StreamedRun> RunStreamed(const std::vector<std::string>& argv,
                                              const std::map<std::string, std::string>& extra_env,
                                              const std::string& log_path,
                                              const std::function<void(const std::string&)>& on_line,
                                              const CancelToken* cancel);

}  // namespace slipway::build
