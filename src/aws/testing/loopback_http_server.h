// A tiny HTTP/1.1 server on 127.0.0.1 for tests: it stands in for STS, IMDS, the container
// credentials endpoint and the SSO portal, over real sockets.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/unique_fd.h"

namespace slipway::aws::testing {

/// One request as the server received it.
struct ReceivedRequest {
  std::string method;
  std::string target;  ///< path and query, e.g. "/federation/credentials?role_name=x"
  std::vector<std::pair<std::string, std::string>> headers;  ///< names lower-cased
  std::string body;

  /// The first header named `name` (lower-case), or empty.
  std::string Header(const std::string& name) const;
  /// The value of form field `name` in a urlencoded body, decoded; empty when absent.
  std::string FormValue(const std::string& name) const;
};

/// What the handler answers.
struct Reply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
};

/// Serves each connection (one request, then close) on its own port of 127.0.0.1, calling
/// `handler` on the server thread. Records every request. Stops and joins in the destructor.
class LoopbackHttpServer {
 public:
  using Handler = std::function<Reply(const ReceivedRequest&)>;
  explicit LoopbackHttpServer(Handler handler);
  ~LoopbackHttpServer();
  LoopbackHttpServer(const LoopbackHttpServer&) = delete;
  LoopbackHttpServer& operator=(const LoopbackHttpServer&) = delete;

  /// "http://127.0.0.1:<port>"
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  /// Every request so far, in order.
  std::vector<ReceivedRequest> requests() const;

 private:
  void Serve();

  Handler handler_;
  UniqueFd listener_;
  int port_ = 0;
  mutable std::mutex mu_;
  std::vector<ReceivedRequest> requests_;
  std::thread thread_;
};

}  // namespace slipway::aws::testing
