// A small HTTP/1.1 server for the engine's API, on the shared io_context.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"
#include "engine/api.h"

namespace boost::asio {
class io_context;
}

namespace slipway::engine {

using ApiHandler = std::function<ApiHttpResponse(const ApiHttpRequest&)>;

/// The largest request body the API server reads. A larger one is answered with an AWS-shaped
/// 413 (RequestEntityTooLarge) without being kept, and the connection is then closed.
inline constexpr size_t kMaxRequestBodyBytes = 10 * 1024 * 1024;
/// The largest request header the API server reads (Beast's default). A larger one is answered
/// with 431, and a header that is not HTTP/1.1 (a control byte in a value) with 400, each
/// AWS-shaped; the connection is then closed.
inline constexpr size_t kMaxRequestHeaderBytes = 8 * 1024;

/// Serves `handler` over HTTP/1.1 keep-alive connections on one listening socket.
class ApiServer {
 public:
  ApiServer(boost::asio::io_context& io, ApiHandler handler);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  /// Listens on host:port (or takes over `inherited`, a socket a previous engine handed over)
  /// and serves; returns the bound port (useful with port 0).
  [[nodiscard]] Result<int> Listen(const std::string& host, int port, UniqueFd inherited = UniqueFd());
  /// A copy of the listening socket, for a new engine process.
  UniqueFd DuplicateListener();
  void StopAccepting();
  void ResumeAccepting();
  /// After a handoff: closes the listening socket and ends each connection after its answer.
  void WindDown();
  int OpenConnections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace slipway::engine
