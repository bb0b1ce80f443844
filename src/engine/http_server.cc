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

asio::awaitable<void> Session(tcp::socket socket, std::shared_ptr<ApiHandler> handler,
                              std::shared_ptr<ConnectionCount> connections) {
  ConnectionCount::Open open(connections);
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
    // Winding down after a handoff: this answer is the connection's last.
    res.keep_alive(req.keep_alive() && !connections->closing);
    res.prepare_payload();
    co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !res.keep_alive()) break;
  }
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

}  // namespace

struct ApiServer::Impl {
  Impl(asio::io_context& io, ApiHandler h)
      : handler(std::make_shared<ApiHandler>(std::move(h))),
        listeners(io, [this, &io](tcp::socket socket, int) {
          asio::co_spawn(io, Session(std::move(socket), handler, connections), asio::detached);
        }) {}

  std::shared_ptr<ApiHandler> handler;
  std::shared_ptr<ConnectionCount> connections = std::make_shared<ConnectionCount>();
  ListenerSet listeners;
  int port = 0;
};

ApiServer::ApiServer(asio::io_context& io, ApiHandler handler) : impl_(std::make_unique<Impl>(io, std::move(handler))) {}

ApiServer::~ApiServer() = default;

Result<int> ApiServer::Listen(const std::string& host, int port, UniqueFd inherited) {
  std::map<int, UniqueFd> handed;
  if (inherited.valid()) handed[port] = std::move(inherited);
  auto bound = impl_->listeners.Open(host, port, &handed);
  if (bound) impl_->port = *bound;
  return bound;
}

UniqueFd ApiServer::DuplicateListener() {
  auto all = impl_->listeners.Duplicate();
  return all.empty() ? UniqueFd() : std::move(all.begin()->second);
}

void ApiServer::StopAccepting() { impl_->listeners.StopAccepting(); }
void ApiServer::ResumeAccepting() { impl_->listeners.ResumeAccepting(); }

void ApiServer::WindDown() {
  impl_->connections->closing = true;
  impl_->listeners.Close();
}

int ApiServer::OpenConnections() const { return impl_->connections->open; }

}  // namespace slipway::engine
