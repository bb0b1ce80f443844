// What the engine's ECS and ELBv2 halves share: the state document, its lock and its dirty flag.
#pragma once

#include <mutex>

#include "base/clock.h"
#include "engine/model.h"

namespace slipway::engine {

struct SharedState {
  explicit SharedState(Clock& c) : clock(c) {}

  Clock& clock;
  std::mutex mu;     ///< guards everything below
  State state;
  bool dirty = false;  ///< state changed since it was last persisted

  double Now() const { return EpochSeconds(clock.WallNow()); }
};

}  // namespace slipway::engine
