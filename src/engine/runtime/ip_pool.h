// Task addresses in the task network's subnet, handed out like host ports are.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace slipway::engine {

/// The IPv4 addresses of a subnet a task may get: not the network, the gateway (first host) or the
/// broadcast address. Addresses are handed out round-robin, so a stopped task's address is the
/// last to come back (podman frees it a moment after the task stops).
class IpPool {
 public:
  /// `cidr` like "10.213.0.0/16"; an empty or malformed one gives an empty pool.
  explicit IpPool(const std::string& cidr);

  bool empty() const { return first_ > last_; }
  /// A free address for `task_id`, or nullopt when every one is held.
  std::optional<std::string> Acquire(const std::string& task_id);
  /// Marks `ip` held by `task_id` (a restored task); false when it is outside the pool or held.
  bool Hold(const std::string& ip, const std::string& task_id);
  /// Frees every address `task_id` holds.
  void Release(const std::string& task_id);

 private:
  uint32_t first_ = 1, last_ = 0, next_ = 0;
  std::map<uint32_t, std::string> held_;  ///< address -> task id
};

}  // namespace slipway::engine
