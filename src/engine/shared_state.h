// What the engine's ECS and ELBv2 halves share: the state, its lock, and what changed since the
// last commit to the store.
#pragma once

#include <mutex>
#include <set>
#include <string>

#include "base/clock.h"
#include "engine/model.h"

namespace slipway::engine {

struct SharedState {
  SharedState(Clock& c, std::string r) : clock(c), region(std::move(r)) {}

  Clock& clock;
  /// The one region this engine serves; its ARNs carry it.
  const std::string region;
  std::mutex mu;  ///< guards everything below
  State state;
  /// Objects changed since the last commit. Every change to `state` touches what it changed, and
  /// the change is committed before the lock is released to answer a caller.
  std::set<ObjectRef> touched;
  /// Handed over to a new engine process: nothing may change here any more.
  bool frozen = false;

  void Touch(ObjectKind kind, const std::string& key) { touched.emplace(kind, key); }
  double Now() const { return EpochSeconds(clock.WallNow()); }
  /// "arn:aws:<service>:<region>:<account>:<resource>".
  std::string Arn(const std::string& service, const std::string& resource) const {
    return "arn:aws:" + service + ":" + region + ":" + kAccount + ":" + resource;
  }
};

}  // namespace slipway::engine
