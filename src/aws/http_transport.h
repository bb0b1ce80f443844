// The seam between AWS clients and the network.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "base/result.h"

namespace slipway::aws {

/// One HTTP exchange as the clients see it.
struct HttpRequest {
  std::string method = "POST";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  long timeout_ms = 30'000;
};

struct HttpResponse {
  int status = 0;
  std::string body;
};

/// Sends HTTP requests. Errors are transport failures only; any HTTP status is a response.
class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  [[nodiscard]] virtual Result<HttpResponse> Send(const HttpRequest& request) = 0;
};

/// libcurl-backed transport; keeps one connection alive across calls. Not thread-safe.
class CurlTransport final : public HttpTransport {
 public:
  CurlTransport();
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;
  [[nodiscard]] Result<HttpResponse> Send(const HttpRequest& request) override;

 private:
  void* curl_;
};

}  // namespace slipway::aws
