// Beast coroutine server: read a request, call the handler, write the reply, keep alive.
#include "engine/http_server.h"

#include <array>
#include <optional>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "engine/listen.h"

namespace slipway::engine {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

/// API connections held at most; more are closed as they arrive (a client of the API needs one
/// or two, and each costs the engine a descriptor).
constexpr int kMaxConnections = 256;
/// How long a request may take to arrive, from its first byte to its last header.
constexpr auto kRequestTimeout = std::chrono::seconds(10);
/// How long an idle keep-alive connection stays open.
constexpr auto kIdleTimeout = std::chrono::seconds(60);

// After refusing a body, how long and how much of it the server reads and drops before closing.
constexpr auto kLingerTime = std::chrono::seconds(10);
constexpr size_t kMaxLingerBytes = 64 * 1024 * 1024;

/// An error the server answers before any handler sees the request, shaped by the request's
/// protocol like every other API error: JSON 1.1 (code + "Exception") when the header read so far
/// names an X-Amz-Target, the Query XML ErrorResponse otherwise.
ApiHttpResponse FramingError(const http::fields& head, int status, const std::string& code,
                             const std::string& message) {
  if (head.find("X-Amz-Target") != head.end()) {
    nlohmann::json body{{"__type", code + "Exception"}, {"message", message}};
    return {status, "application/x-amz-json-1.1", body.dump()};
  }
  return {status, "text/xml",
          "<ErrorResponse xmlns=\"http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/\"><Error>"
          "<Type>Sender</Type><Code>" + code + "</Code><Message>" + XmlEscape(message) +
              "</Message></Error><RequestId>" + RandomHex(8) + "-" + RandomHex(4) + "-" + RandomHex(4) + "-" +
              RandomHex(4) + "-" + RandomHex(12) + "</RequestId></ErrorResponse>"};
}

/// The answer to a request the parser refused (`ec`), or nullopt when there is nobody to answer:
/// the client closed the connection or went quiet.
std::optional<ApiHttpResponse> RefusedRequest(const http::fields& head, boost::system::error_code ec) {
  if (ec == http::error::body_limit) {
    return FramingError(head, 413, "RequestEntityTooLarge",
                        "Request body is larger than the limit of " + std::to_string(kMaxRequestBodyBytes) +
                            " bytes.");
  }
  if (ec == http::error::header_limit) {
    return FramingError(head, 431, "RequestHeaderSectionTooLarge",
                        "Request header is larger than the limit of " + std::to_string(kMaxRequestHeaderBytes) +
                            " bytes.");
  }
  const bool malformed = ec.category() == http::make_error_code(http::error::bad_value).category() &&
                         ec != http::error::end_of_stream && ec != http::error::partial_message;
  if (malformed) {
    return FramingError(head, 400, "BadRequest", "The request is not well-formed HTTP/1.1: " + ec.message() + ".");
  }
  return std::nullopt;
}

// `out` is a reference to the caller's named local (its body moves into the reply): GCC 12
// mishandles objects with destructors created inside a co_await expression.
asio::awaitable<bool> Reply(beast::tcp_stream& stream, ApiHttpResponse& out, unsigned version, bool keep_alive) {
  http::response<http::string_body> res{static_cast<http::status>(out.status), version};
  res.set(http::field::server, "slipway-engine");
  res.set(http::field::content_type, out.content_type);
  res.set("x-amzn-RequestId", "00000000-0000-0000-0000-000000000000");
  for (const auto& [name, value] : out.headers) res.insert(name, value);
  res.body() = std::move(out.body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  boost::system::error_code ec;
  co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec;
}

/// Reads and drops what the client still sends, for a bounded time and size. Closing a socket
/// with unread data resets the connection, and the client would lose the answer it has not read.
asio::awaitable<void> DrainBeforeClose(beast::tcp_stream& stream) {
  boost::system::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.expires_after(kLingerTime);
  std::array<char, 64 * 1024> sink;
  for (size_t drained = 0; drained < kMaxLingerBytes;) {
    drained += co_await stream.async_read_some(asio::buffer(sink), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
  }
}

asio::awaitable<void> Session(tcp::socket socket, std::shared_ptr<ApiHandler> handler,
                              std::shared_ptr<ConnectionCount> connections, [[maybe_unused]] ConnectionCount::Open open,
                              asio::thread_pool::executor_type workers) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  boost::system::error_code ec;
  bool first = true;
  for (;;) {
    http::request_parser<http::string_body> parser;
    // Beast refuses a Content-Length over the limit as soon as the header is read, and a chunked
    // body as soon as it crosses the limit: either way before the body is kept.
    parser.body_limit(kMaxRequestBodyBytes);
    parser.header_limit(kMaxRequestHeaderBytes);
    // Idle between requests for up to a minute (a new connection must begin its first request
    // within seconds); once a request begins, its header must arrive within seconds: a client that
    // connects and trickles bytes holds no connection slot for long.
    stream.expires_after(first ? kRequestTimeout : kIdleTimeout);
    first = false;
    if (buffer.size() == 0) {
      const size_t n =
          co_await stream.async_read_some(buffer.prepare(64 * 1024), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      buffer.commit(n);
    }
    stream.expires_after(kRequestTimeout);
    co_await http::async_read_header(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      // A refused request is answered, then the connection closes: the parser cannot tell where
      // the next request would begin.
      if (auto refused = RefusedRequest(parser.get().base(), ec)) {
        if (co_await Reply(stream, *refused, 11, false)) co_await DrainBeforeClose(stream);
      }
      break;
    }
    auto req = parser.release();
    ApiHttpRequest in{std::string(req.method_string()), std::string(req.target()), {}, req.body()};
    for (const auto& f : req) in.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    // Winding down after a handoff: this answer is the connection's last.
    const bool keep_alive = req.keep_alive() && !connections->closing;
    // The handler may wait for the control plane's lock; it runs on the API's own threads so the
    // proxy's io threads never wait with it.
    // The job is a named local, not a temporary inside the co_await: GCC 12 destroys a closure
    // temporary of a co_await expression twice (a double free of the request it captured).
    auto request = std::make_shared<const ApiHttpRequest>(std::move(in));
    auto job = [handler, request]() -> asio::awaitable<ApiHttpResponse> { co_return (*handler)(*request); };
    ApiHttpResponse out = co_await asio::co_spawn(workers, std::move(job), asio::use_awaitable);
    stream.expires_after(kRequestTimeout);
    if (!co_await Reply(stream, out, req.version(), keep_alive) || !keep_alive) break;
  }
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

}  // namespace

struct ApiServer::Impl {
  Impl(asio::io_context& io, ApiHandler h)
      : handler(std::make_shared<ApiHandler>(std::move(h))),
        listeners(io, [this](tcp::socket socket, int) {
          auto open = ConnectionCount::Admit(connections, kMaxConnections);
          if (!open) {
            boost::system::error_code ec;
            socket.close(ec);
            return;
          }
          auto executor = socket.get_executor();  // the connection's strand
          asio::co_spawn(executor,
                         Session(std::move(socket), handler, connections, std::move(*open), workers.get_executor()),
                         asio::detached);
        }) {}
  ~Impl() {
    workers.stop();
    workers.join();
  }

  asio::thread_pool workers{2};
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
