// HttpTransport over libcurl, reusing one easy handle (and so its connection).
#include <curl/curl.h>

#include <algorithm>
#include <cctype>

#include "aws/http_transport.h"

namespace slipway::aws {

namespace {
struct Sink {
  std::string* body;
  size_t limit;  // 0: none
  bool overflowed = false;
};

size_t Append(char* data, size_t size, size_t n, void* out) {
  auto* sink = static_cast<Sink*>(out);
  if (sink->limit > 0 && sink->body->size() + size * n > sink->limit) {
    sink->overflowed = true;
    return 0;  // ends the transfer
  }
  sink->body->append(data, size * n);
  return size * n;
}

// Collects "Name: value" lines; a new status line (after a redirect or a 100) starts over.
size_t AppendHeader(char* data, size_t size, size_t n, void* out) {
  auto* headers = static_cast<std::vector<std::pair<std::string, std::string>>*>(out);
  std::string line(data, size * n);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
  if (line.starts_with("HTTP/")) {
    headers->clear();
    return size * n;
  }
  const size_t colon = line.find(':');
  if (colon == std::string::npos) return size * n;
  std::string name = line.substr(0, colon);
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  const size_t start = line.find_first_not_of(' ', colon + 1);
  headers->emplace_back(std::move(name), start == std::string::npos ? "" : line.substr(start));
  return size * n;
}
}  // namespace

const char* ClassifyCurlFailure(int curl_code, bool request_sent) {
  switch (static_cast<CURLcode>(curl_code)) {
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
      return kTransportNotSent;
    // These happen before or after the request went out; only the byte count tells which.
    case CURLE_OPERATION_TIMEDOUT:
      return request_sent ? kTransportTimedOut : kTransportNotSent;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return request_sent ? kTransportMaybeSent : kTransportNotSent;
    default:
      return "";
  }
}

CurlTransport::CurlTransport() : curl_(curl_easy_init()) {}

CurlTransport::~CurlTransport() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

Result<HttpResponse> CurlTransport::Send(const HttpRequest& request) {
  CURL* c = static_cast<CURL*>(curl_);
  if (c == nullptr) return Fail("curl: init failed");
  curl_easy_reset(c);
  HttpResponse response;
  curl_slist* headers = nullptr;
  for (const auto& [k, v] : request.headers) headers = curl_slist_append(headers, (k + ": " + v).c_str());
  headers = curl_slist_append(headers, "Expect:");
  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  if (request.method != "GET") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
  Sink sink{&response.body, request.max_response_bytes};
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Append);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, AppendHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &response.headers);
  if (request.follow_redirects && request.method == "GET") {
    // libcurl drops an Authorization header set here when a redirect leaves the host.
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  }
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, request.timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, std::min(request.timeout_ms, 5000L));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  if (request.fresh_connection) curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
  // "host!" makes libcurl take it as an address, never an interface name.
  const std::string local = "host!" + request.local_address;
  if (!request.local_address.empty()) curl_easy_setopt(c, CURLOPT_INTERFACE, local.c_str());
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  if (sink.overflowed) {
    return Fail("the reply from " + request.url + " is larger than " + std::to_string(request.max_response_bytes) + " bytes");
  }
  if (rc != CURLE_OK) {
    long request_bytes = 0;
    curl_easy_getinfo(c, CURLINFO_REQUEST_SIZE, &request_bytes);
    return Fail(std::string(curl_easy_strerror(rc)) + " (" + request.url + ")",
                ClassifyCurlFailure(rc, request_bytes > 0));
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  return response;
}

}  // namespace slipway::aws
