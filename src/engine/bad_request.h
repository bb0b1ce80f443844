// What the load balancer answers a request it cannot or will not forward, as ALB does: 400 for
// a malformed or ambiguous request, 431 past the header limit (413 past a body limit, where one
// is set), 408 for headers too slow (the proxy's header timeout).
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/system/error_code.hpp>

namespace slipway::engine {

/// The status for a request the parser gave up on with `ec`; 0 when there is no one to answer
/// (the client closed or went quiet), and the connection just closes.
int StatusForUnreadableRequest(const boost::system::error_code& ec);

/// The status for a request the parser read whole but that ALB refuses: a version other than
/// HTTP/1.0 or 1.1, HTTP/1.1 without a Host, several Host fields, or a Transfer-Encoding that
/// does not end in chunked or names it twice (its body length would be ambiguous). 0 when it may
/// be forwarded.
int StatusForRequestHead(const boost::beast::http::request_header<>& req);

/// Brings an absolute-form request target ("http://host/path?q", as clients set to use a proxy
/// send it) to origin-form, its authority becoming the Host, as RFC 9112 has a server use it:
/// listener rules then match the host and path the app sees, and a path rule cannot be passed by
/// writing the path behind a scheme. False for an absolute form without a host (a 400).
bool ToOriginForm(boost::beast::http::request_header<>& req);

/// Frames a whole response body for the client with a Content-Length: an HTTP/1.0 client cannot
/// read chunks, and a body the target ended by closing could not be delimited otherwise. Leaves
/// answers to HEAD, 1xx, 204 and 304 alone.
void FitBodyToClient(boost::beast::http::response<boost::beast::http::string_body>& res,
                     boost::beast::http::verb method, unsigned client_version);

/// The reason phrase the answer's page shows, "400 Bad Request" for 400.
const char* ErrorTitle(int status);

}  // namespace slipway::engine
