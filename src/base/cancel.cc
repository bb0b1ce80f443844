// Interruptible waits: a wait checks its token between slices short enough to feel immediate.
#include "base/cancel.h"

#include <algorithm>

namespace slipway {

namespace {
constexpr Millis kSlice{100};
}  // namespace

bool SleepUnlessCancelled(Clock& clock, Millis d, const CancelToken* token) {
  const SteadyTime until = clock.Now() + d;
  for (;;) {
    if (Cancelled(token)) return false;
    const SteadyTime now = clock.Now();
    if (now >= until) return true;
    clock.SleepFor(std::min(kSlice, std::chrono::duration_cast<Millis>(until - now)));
  }
}

}  // namespace slipway
