// A request to stop a long operation at its next safe point, and waits that honour it.
#pragma once

#include <atomic>

#include "base/clock.h"

namespace slipway {

/// Set once from outside (e.g. the CLI's SIGINT handler) and read by long operations, which
/// finish their current step and stop. Lock-free, so a signal handler may set it.
class CancelToken {
 public:
  void Cancel() { cancelled_.store(true, std::memory_order_relaxed); }
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }

 private:
  std::atomic<bool> cancelled_{false};
  static_assert(std::atomic<bool>::is_always_lock_free);
};

/// True when `token` is set; a null token never is.
inline bool Cancelled(const CancelToken* token) { return token != nullptr && token->cancelled(); }

/// Sleeps for `d` on `clock` in short slices, returning early (false) once `token` is set.
/// Returns true when the whole wait passed.
bool SleepUnlessCancelled(Clock& clock, Millis d, const CancelToken* token);

}  // namespace slipway
