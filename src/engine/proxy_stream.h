// The proxy's streaming pieces: relaying a message body piece by piece with bounded memory, fitting
// a streamed response's framing to the client, WebSocket tunnels, and per-listener connection caps.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

namespace slipway::engine {

/// Bytes of a body the proxy holds at once per connection: a relay moves a body in pieces of this.
inline constexpr size_t kRelayPiece = 64 * 1024;

/// Whether the request asks to become a WebSocket: `Connection: Upgrade` and `Upgrade: websocket`.
bool IsWebSocketUpgrade(const boost::beast::http::request_header<>& req);

/// Fits the header of a response whose body follows (`has_body`) to the client: HTTP/1.0 cannot
/// read chunks, so a chunked body goes to it unframed and ends with the connection; a body the
/// target ends by closing goes to an HTTP/1.1 client chunked. Sets the client's version and
/// Connection. Returns whether the client connection may stay open after it.
bool FrameForClient(boost::beast::http::response<boost::beast::http::buffer_body>& res, bool has_body, unsigned client_version,
                    bool keep_alive);

/// Whether a pooled upstream connection was closed by its peer (or has stray bytes): it cannot
/// carry a request. Costs one non-blocking peek.
bool PeerClosed(boost::asio::ip::tcp::socket& socket);

/// How a body relay ended.
enum class RelayEnd { kDone, kReadFailed, kWriteFailed };

/// Moves the body `parser` reads from `from` (its bytes already read in `buffer`) to `to` through
/// `serializer`, whose header was written or goes with the first piece, one piece of up to
/// `piece_size` bytes in `piece` at a time, each written as soon as it arrives. Each read and write must complete within `idle`: a
/// body still moving is not idle. `on_read_done` runs when the whole body was read; `read_error`
/// tells why reading it failed.
template <bool isRequest, class OnReadDone>
boost::asio::awaitable<RelayEnd> RelayBody(
    boost::beast::tcp_stream& from, boost::beast::flat_buffer& buffer,
    boost::beast::http::parser<isRequest, boost::beast::http::buffer_body>& parser, boost::beast::tcp_stream& to,
    boost::beast::http::serializer<isRequest, boost::beast::http::buffer_body>& serializer, char* piece,
    size_t piece_size, std::chrono::milliseconds idle, OnReadDone on_read_done, boost::system::error_code& read_error) {
  namespace http = boost::beast::http;
  using boost::asio::redirect_error;
  using boost::asio::use_awaitable;
  boost::system::error_code ec;
  auto& body = parser.get().body();
  // A read fills what the buffer can hold: one sized by the header alone would move a large body a
  // kilobyte at a time.
  if (buffer.capacity() < piece_size) buffer.reserve(piece_size);
  while (!parser.is_done()) {
    body.data = piece;
    body.size = piece_size;
    from.expires_after(idle);
    co_await http::async_read_some(from, buffer, parser, redirect_error(use_awaitable, ec));
    if (ec == http::error::need_buffer) ec = {};
    // Whatever more of the body the buffer already holds fills the rest of the piece: a body of
    // one-byte chunks would otherwise cost a write (and a trip through the event loop) per chunk.
    while (!ec && !parser.is_done() && body.size > 0 && buffer.size() > 0) {
      const size_t used = parser.put(buffer.data(), ec);
      buffer.consume(used);
      if (ec == http::error::need_more || ec == http::error::need_buffer) ec = {};
      if (used == 0) break;
    }
    if (ec) {
      read_error = ec;
      co_return RelayEnd::kReadFailed;
    }
    const size_t got = piece_size - body.size;
    body.data = got > 0 ? piece : nullptr;
    body.size = got;
    body.more = !parser.is_done();
    if (!body.more) on_read_done();
    if (got == 0 && body.more) continue;
    to.expires_after(idle);
    co_await http::async_write(to, serializer, redirect_error(use_awaitable, ec));
    if (ec == http::error::need_buffer) ec = {};
    if (ec) co_return RelayEnd::kWriteFailed;
  }
  if (!serializer.is_done()) {  // a message without a body: its header was all
    on_read_done();
    body.data = nullptr;
    body.size = 0;
    body.more = false;
    to.expires_after(idle);
    co_await http::async_write(to, serializer, redirect_error(use_awaitable, ec));
    if (ec) co_return RelayEnd::kWriteFailed;
  }
  co_return RelayEnd::kDone;
}

/// Copies bytes both ways between `client` and `target` (first what each side's buffer already
/// holds) until both sides have closed, or either fails, or nothing moved for `idle`. A side's
/// close is passed on as a half-close. Closes both sockets before it returns.
boost::asio::awaitable<void> Tunnel(boost::asio::ip::tcp::socket& client, boost::beast::flat_buffer& client_pending,
                                    boost::asio::ip::tcp::socket& target, boost::beast::flat_buffer& target_pending,
                                    std::chrono::milliseconds idle);

/// Client connections open on each listener port, against a cap.
class ListenerCap {
 public:
  /// Counts a connection on `port`, if `cap` (0: none) allows one more; a counted one ends with
  /// Leave.
  bool Enter(int port, int cap);
  void Leave(int port);

 private:
  std::unique_ptr<std::atomic<int>[]> open_ = std::make_unique<std::atomic<int>[]>(65536);
};

}  // namespace slipway::engine
