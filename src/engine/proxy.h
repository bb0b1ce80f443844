// The data plane: an HTTP/1.1 reverse proxy per listener, and target health checks.
#pragma once

#include <map>
#include <memory>

#include "base/unique_fd.h"
#include "engine/data_plane.h"

namespace slipway {
class NetNamespace;
}

namespace slipway::engine {

class RequestMeter;

/// Tunables of the proxy, with ALB-like defaults.
struct ProxyOptions {
  int connect_timeout_ms = 10'000;  ///< ALB: 10 s to connect to a target
  int idle_timeout_ms = 60'000;     ///< ALB: 60 s idle timeout, between requests and while a body or tunnel is silent
  /// From a request's first byte until its line and headers have arrived (slow clients get 408);
  /// 60 s as nginx's client_header_timeout.
  int header_timeout_ms = 60'000;
  /// Client connections each listener serves at once; past it a new one is answered 503. 0: no
  /// cap but the engine's own (its descriptor limit).
  int max_connections_per_listener = 0;
  int max_attempts = 3;             ///< targets tried for a request that never reached an app
  /// Event loops (threads) the proxy runs: each client connection, with its upstream connections,
  /// lives on one. 0: one per core.
  int event_loops = 0;
  /// The task network's namespace: targets outside 127.0.0.0/8 are reached from inside it (their
  /// addresses exist only there). Null when tasks share the host's network.
  const NetNamespace* task_namespace = nullptr;
  /// Counts every answered request (AWS/ApplicationELB metrics); null counts none.
  RequestMeter* meter = nullptr;
};

/// The proxy as the engine's wiring sees it: a data plane whose listening sockets can be handed to
/// a new engine process while it finishes the requests it has.
class ProxyServer : public DataPlane {
 public:
  /// Listening sockets a previous engine handed over, by port: OpenListener takes these over
  /// instead of binding anew.
  virtual void Inherit(std::map<int, UniqueFd> listeners) = 0;
  /// Copies of every listening socket, by port.
  virtual std::map<int, UniqueFd> DuplicateListeners() = 0;
  virtual void StopAccepting() = 0;
  virtual void ResumeAccepting() = 0;
  /// After a handoff: closes the listening sockets, answers each connection's request in flight
  /// with Connection: close, and stops checking health.
  virtual void WindDown() = 0;
  /// Client connections still open.
  virtual int OpenConnections() const = 0;
  /// Stops the event loops and waits for their threads: no health check reports after it, and
  /// nothing is served. The destructor does it too.
  virtual void Stop() = 0;
};

/// Creates the proxy and starts its event loops, which are its own (the API server's io_context
/// never runs a proxy connection).
std::unique_ptr<ProxyServer> MakeProxy(ProxyOptions options = {});

}  // namespace slipway::engine
