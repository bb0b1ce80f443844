// Beast coroutine server: read a request, call the handler, write the reply, keep alive.
#include "engine/http_server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "engine/listen.h"

namespace slipway::engine {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

asio::awaitable<void> Session(tcp::socket socket, std::shared_ptr<ApiHandler> handler) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  boost::system::error_code ec;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(16 * 1024 * 1024);
    stream.expires_after(std::chrono::seconds(120));
    co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    auto req = parser.release();
    ApiHttpRequest in{std::string(req.method_string()), std::string(req.target()), {}, req.body()};
    for (const auto& f : req) in.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    ApiHttpResponse out = (*handler)(in);
    http::response<http::string_body> res{static_cast<http::status>(out.status), req.version()};
    res.set(http::field::server, "slipway-engine");
    res.set(http::field::content_type, out.content_type);
    res.set("x-amzn-RequestId", "00000000-0000-0000-0000-000000000000");
    res.body() = std::move(out.body);
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !res.keep_alive()) break;
  }
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

asio::awaitable<void> AcceptLoop(std::shared_ptr<tcp::acceptor> acceptor, std::shared_ptr<ApiHandler> handler) {
  for (;;) {
    boost::system::error_code ec;
    tcp::socket socket = co_await acceptor->async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) continue;
    asio::co_spawn(acceptor->get_executor(), Session(std::move(socket), handler), asio::detached);
  }
}

}  // namespace

Result<int> ServeApi(asio::io_context& io, const std::string& host, int port, ApiHandler handler) {
  auto acceptor = BindAcceptor(io, host, port);
  if (!acceptor) return tl::unexpected(acceptor.error());
  int bound = (*acceptor)->local_endpoint().port();
  asio::co_spawn(io, AcceptLoop(*acceptor, std::make_shared<ApiHandler>(std::move(handler))), asio::detached);
  return bound;
}

}  // namespace slipway::engine
