// Unix-domain stream sockets that carry descriptors (SCM_RIGHTS) with line-framed messages.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace slipway {

/// Listens on a unix socket at `path` (replacing a stale socket file there), mode 0600.
[[nodiscard]] Result<UniqueFd> ListenUnix(const std::string& path);
/// Connects to the unix socket at `path`.
[[nodiscard]] Result<UniqueFd> ConnectUnix(const std::string& path);

/// Sends one line (a trailing newline is added) and, with it, `fds`.
[[nodiscard]] Result<void> SendLine(int sock, const std::string& line, const std::vector<int>& fds = {});

/// One received line and the descriptors that came with it.
struct ReceivedLine {
  std::string line;
  std::vector<UniqueFd> fds;
};
/// Receives one line (without its newline) and any descriptors sent with it; waits at most
/// `timeout_ms` (-1: forever). An error on EOF, timeout, or a line over 64 KiB.
[[nodiscard]] Result<ReceivedLine> ReceiveLine(int sock, int timeout_ms = -1);

}  // namespace slipway
