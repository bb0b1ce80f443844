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
  /// A reply whose body grows past this many bytes fails instead (0: no bound).
  size_t max_response_bytes = 0;
  /// Follow redirects (GET only). Credentials in `headers` are not sent to another host.
  bool follow_redirects = false;
  /// Send on a new connection, never a kept-alive one. libcurl sends a request again by itself
  /// when a reused connection closes before any reply byte, which a request that must not be
  /// applied twice cannot allow: on a fresh connection it does not.
  bool fresh_connection = false;
  /// The local address to send from (e.g. "127.0.0.2", so a loopback client is a listed source);
  /// empty: the system's choice.
  std::string local_address;
};

struct HttpResponse {
  int status = 0;
  std::string body;
  /// Response headers, names in lowercase, of the final response.
  std::vector<std::pair<std::string, std::string>> headers;

  /// The first header named `name` (lowercase), or empty.
  std::string Header(const std::string& name) const {
    for (const auto& [k, v] : headers) {
      if (k == name) return v;
    }
    return "";
  }
};

/// Error code of a transport failure where nothing reached the server (connection refused, could
/// not connect or resolve): repeating the request cannot do anything twice.
inline constexpr const char* kTransportNotSent = "TransportNotSent";
/// Error code of a transport failure after the request may have arrived (reset, empty reply):
/// the server may have acted on it. Failures with none of these codes (a malformed URL, a TLS
/// certificate that does not verify) will not go away by retrying.
inline constexpr const char* kTransportMaybeSent = "TransportMaybeSent";
/// Error code of a reply that did not come in time after the request left: as kTransportMaybeSent,
/// the server may have acted on it.
inline constexpr const char* kTransportTimedOut = "TransportTimedOut";

/// True for kTransportMaybeSent and kTransportTimedOut.
inline bool MayHaveArrived(const std::string& transport_code) {
  return transport_code == kTransportMaybeSent || transport_code == kTransportTimedOut;
}

/// The transport error code for a libcurl result: kTransportNotSent, kTransportMaybeSent,
/// kTransportTimedOut, or ""
/// for a failure that retrying will not cure. `request_sent` is whether any request bytes left.
const char* ClassifyCurlFailure(int curl_code, bool request_sent);

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
