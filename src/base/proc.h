// What /proc says about processes and sockets: is a pid still the process it was, and who holds a
// listening port.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace slipway {

/// When `pid` started, in clock ticks since boot (/proc/<pid>/stat), or 0 when no such process
/// runs. A zombie counts as gone: it runs nothing and holds no descriptor. A pid plus its start
/// time names one process for good; a pid alone may be reused.
unsigned long long ProcessStartTime(pid_t pid);

/// True once `pid` has fully exited: it runs no more and every thread of it is gone, so the
/// descriptors it held (a listening socket, say) are closed. A killed multi-threaded process's
/// first thread turns zombie while the others may still be releasing them.
bool ProcessGone(pid_t pid);

/// Sends `sig` to `pid` only while it is still the process that started at `start_time` (see
/// ProcessStartTime): through a pidfd, so a pid reused after the check is never signalled. For a
/// process that is not this one's child. False when it is gone or another process has the pid.
bool SignalProcess(pid_t pid, unsigned long long start_time, int sig);

/// A process and its command name.
struct ProcessName {
  pid_t pid = 0;
  std::string name;  ///< /proc/<pid>/comm
};

/// The process that holds a TCP socket listening on `port` (IPv4 or IPv6), when this user may see
/// it; nullopt when nothing listens there or its holder cannot be told.
std::optional<ProcessName> ListeningPortHolder(int port);

}  // namespace slipway
