// The data plane: an HTTP/1.1 reverse proxy per listener, and target health checks.
#pragma once

#include <memory>

#include "engine/data_plane.h"

namespace boost::asio {
class io_context;
}

namespace slipway::engine {

/// Tunables of the proxy, with ALB-like defaults.
struct ProxyOptions {
  int connect_timeout_ms = 10'000;  ///< ALB: 10 s to connect to a target
  int idle_timeout_ms = 60'000;     ///< ALB: 60 s idle timeout
  int max_attempts = 3;             ///< targets tried for a request that never reached an app
};

/// Creates the proxy; its coroutines run on `io`.
std::unique_ptr<DataPlane> MakeProxy(boost::asio::io_context& io, ProxyOptions options = {});

}  // namespace slipway::engine
