// A small HTTP/1.1 server for the engine's API, on the shared io_context.
#pragma once

#include <functional>
#include <string>

#include "base/result.h"
#include "engine/api.h"

namespace boost::asio {
class io_context;
}

namespace slipway::engine {

using ApiHandler = std::function<ApiHttpResponse(const ApiHttpRequest&)>;

/// Binds host:port and serves `handler` on `io`. Returns the bound port (useful with port 0).
[[nodiscard]] Result<int> ServeApi(boost::asio::io_context& io, const std::string& host, int port,
                                   ApiHandler handler);

}  // namespace slipway::engine
