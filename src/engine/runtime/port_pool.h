// Host ports for containers that do not name one: the engine owns a range and hands each port to
// one live task at a time.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

namespace slipway::engine {

/// A range of host ports, each held by at most one task. A port is handed out only when no task
/// holds it and nothing on the host is bound to it at that moment.
class PortPool {
 public:
  /// Whether `port` on `host` is free on the host at this moment.
  using Probe = std::function<bool(const std::string& host, int port)>;

  /// Ports first..last on `host` (the address containers listen on). `probe` defaults to
  /// trying to bind the port.
  PortPool(std::string host, int first, int last, Probe probe = {});

  /// A free port for `owner`, or nullopt when every port of the range is taken.
  std::optional<int> Acquire(const std::string& owner);
  /// Records that `owner` holds `port` (a task adopted after a restart); false when another
  /// owner holds it.
  bool Hold(int port, const std::string& owner);
  /// Frees every port `owner` holds.
  void Release(const std::string& owner);
  /// Who holds `port`, or empty.
  std::string Holder(int port) const;
  int first() const { return first_; }
  int last() const { return last_; }

 private:
  std::string host_;
  int first_, last_;
  Probe probe_;
  int next_;  ///< where the next search starts, so a freed port is not reused at once
  std::map<int, std::string> held_;
};

}  // namespace slipway::engine
