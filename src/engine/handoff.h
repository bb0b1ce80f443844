// The planned restart's two sides: the running engine's control socket (<data-dir>/engine.sock),
// which hands the listening sockets over on request, and the client that starts the successor.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "base/unique_fd.h"
#include "engine/engine.h"

namespace slipway::engine {

/// What a handing-over engine gives its successor: its settings, and its listening sockets with
/// their names ("api" or a listener port), in order.
struct HandedSockets {
  nlohmann::json settings;
  std::vector<std::string> names;
  std::vector<UniqueFd> fds;
};

/// What the engine does when asked to hand over.
struct HandoffHooks {
  /// Stop accepting, commit and freeze the state, and collect the sockets.
  std::function<HandedSockets()> begin;
  /// The successor never came: accept and change state again. Returns false when this engine
  /// cannot resume (the successor wrote the state before it died).
  std::function<bool()> abort;
};

/// Serves the control socket on its own thread. One handoff at a time; the socket is 0600 in a
/// 0700 data dir, so only the engine's user reaches it.
class HandoffService {
 public:
  HandoffService(std::string data_dir, EngineInfo self, HandoffHooks hooks);
  ~HandoffService();
  HandoffService(const HandoffService&) = delete;
  HandoffService& operator=(const HandoffService&) = delete;

  [[nodiscard]] Result<void> Start();
  void Stop();
  /// A successor confirmed it serves: this engine must stop changing anything and wind down.
  bool done() const { return done_; }

 private:
  void Run();
  void Serve(int client);

  std::string data_dir_;
  EngineInfo self_;
  HandoffHooks hooks_;
  UniqueFd listener_;
  std::thread thread_;
  std::atomic<bool> stop_{false}, done_{false};
};

}  // namespace slipway::engine
