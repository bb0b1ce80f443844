// SIGINT and SIGTERM during `deploy` and `rollback`: the first asks the release to stop at its
// next safe point (through a CancelToken); the second exits at once.
#pragma once

#include "base/cancel.h"

namespace slipway::cli {

/// While alive, SIGINT and SIGTERM cancel `token()` instead of killing the process; a second
/// signal exits at once with kExitInterrupted. The previous handlers return on destruction.
/// One at a time per process.
class InterruptScope {
 public:
  InterruptScope();
  ~InterruptScope();
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

  const CancelToken& token() const;
};

}  // namespace slipway::cli
