#include "engine/bad_request.h"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <string>
#include <string_view>

namespace slipway::engine {

namespace http = boost::beast::http;

int StatusForUnreadableRequest(const boost::system::error_code& ec) {
  if (ec == http::error::header_limit) return 431;
  if (ec == http::error::body_limit) return 413;
  if (ec.category() != http::make_error_code(http::error::bad_method).category()) return 0;  // socket, timeout
  switch (static_cast<http::error>(ec.value())) {
    case http::error::end_of_stream:    // closed between requests
    case http::error::partial_message:  // closed in the middle of one
    case http::error::need_more:
    case http::error::need_buffer:
    case http::error::end_of_chunk:
    case http::error::stale_parser:
    case http::error::short_read:
      return 0;
    default:  // bad method, target, version, field, value, Content-Length, Transfer-Encoding, chunk,
              // a chunk line or trailers past the read buffer (buffer_overflow)...
      return 400;
  }
}

namespace {

/// Whether the last transfer coding the request names is chunked, and no other is: the parser
/// takes "chunked, chunked" for a request without a body, while a server in front of the proxy
/// may take it for chunked; the body would then be read here as the next request.
bool EndsInChunked(const http::request_header<>& req) {
  boost::beast::string_view last;
  int chunked = 0;
  auto [first, end] = req.equal_range(http::field::transfer_encoding);
  for (auto it = first; it != end; ++it) {
    for (auto coding : http::token_list{it->value()}) {
      last = coding;
      if (boost::beast::iequals(coding, "chunked")) ++chunked;
    }
  }
  return chunked == 1 && boost::beast::iequals(last, "chunked");
}

}  // namespace

int StatusForRequestHead(const http::request_header<>& req) {
  if (req.version() != 10 && req.version() != 11) return 400;
  const size_t hosts = req.count(http::field::host);
  if (hosts > 1 || (hosts == 0 && req.version() == 11)) return 400;
  if (req.count(http::field::transfer_encoding) > 0 && !EndsInChunked(req)) return 400;
  return 0;
}

bool ToOriginForm(http::request_header<>& req) {
  const std::string_view target(req.target().data(), req.target().size());
  size_t scheme = 0;
  if (target.size() >= 7 && boost::beast::iequals(boost::beast::string_view(target.data(), 7), "http://")) {
    scheme = 7;
  } else if (target.size() >= 8 && boost::beast::iequals(boost::beast::string_view(target.data(), 8), "https://")) {
    scheme = 8;
  } else {
    return true;
  }
  const size_t end = target.find_first_of("/?#", scheme);
  std::string_view authority = target.substr(scheme, end == std::string_view::npos ? end : end - scheme);
  if (const size_t at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  if (authority.empty()) return false;
  std::string path = end == std::string_view::npos ? "/" : std::string(target.substr(end));
  if (path[0] != '/') path.insert(0, "/");  // "http://host?q" asks for "/?q"
  const std::string host(authority);  // the target's storage changes below
  req.target(path);
  req.set(http::field::host, host);
  return true;
}

void FitBodyToClient(http::response<http::string_body>& res, http::verb method, unsigned client_version) {
  if (method == http::verb::head) return;  // its length describes a body not sent
  const unsigned status = res.result_int();
  if (status < 200 || status == 204 || status == 304) return;
  if (res.chunked() ? client_version < 11 : !res.has_content_length()) {
    res.chunked(false);
    res.content_length(res.body().size());
  }
}

const char* ErrorTitle(int status) {
  switch (status) {
    case 400: return "400 Bad Request";
    case 404: return "404 Not Found";
    case 408: return "408 Request Time-out";
    case 413: return "413 Request Entity Too Large";
    case 431: return "431 Request Header Fields Too Large";
    case 502: return "502 Bad Gateway";
    case 503: return "503 Service Temporarily Unavailable";
    case 504: return "504 Gateway Time-out";
    default: return "Error";
  }
}

}  // namespace slipway::engine
