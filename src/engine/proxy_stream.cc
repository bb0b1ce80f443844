#include "engine/proxy_stream.h"

#include <sys/socket.h>

#include <cerrno>

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/rfc7230.hpp>

namespace slipway::engine {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::redirect_error;
using asio::use_awaitable;

bool IsWebSocketUpgrade(const http::request_header<>& req) {
  if (!beast::iequals(req[http::field::upgrade], "websocket")) return false;
  for (auto token : http::token_list{req[http::field::connection]}) {
    if (beast::iequals(token, "upgrade")) return true;
  }
  return false;
}

bool FrameForClient(http::response<http::buffer_body>& res, bool has_body, unsigned client_version, bool keep_alive) {
  res.version(client_version);
  if (has_body) {
    if (res.chunked()) {
      if (client_version < 11) {
        res.chunked(false);
        keep_alive = false;
      }
    } else if (!res.has_content_length()) {
      if (client_version >= 11) {
        res.chunked(true);
      } else {
        keep_alive = false;
      }
    }
  }
  res.keep_alive(keep_alive);
  return keep_alive;
}

bool PeerClosed(tcp::socket& socket) {
  char c;
  const ssize_t n = ::recv(socket.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
}

namespace {

/// One tunnel's shared state; lives in Tunnel's frame until both pumps are done.
struct TunnelState {
  explicit TunnelState(const asio::any_io_executor& ex) : wake(ex) {}
  asio::steady_timer wake;
  std::chrono::steady_clock::time_point last = std::chrono::steady_clock::now();
  int running = 2;
  bool failed = false;
};

// Copies `from` to `to`, `pending` first; on `from`'s end of stream half-closes `to`.
awaitable<void> Pump(tcp::socket& from, beast::flat_buffer& pending, tcp::socket& to, TunnelState& state) {
  boost::system::error_code ec;
  if (pending.size() > 0) {
    co_await asio::async_write(to, pending.data(), redirect_error(use_awaitable, ec));
    pending.consume(pending.size());
    state.last = std::chrono::steady_clock::now();
  }
  std::array<char, 16 * 1024> chunk;
  while (!ec) {
    const size_t n = co_await from.async_read_some(asio::buffer(chunk), redirect_error(use_awaitable, ec));
    state.last = std::chrono::steady_clock::now();
    if (ec) break;
    co_await asio::async_write(to, asio::buffer(chunk.data(), n), redirect_error(use_awaitable, ec));
    state.last = std::chrono::steady_clock::now();
  }
  boost::system::error_code ignored;
  if (ec == asio::error::eof) {
    to.shutdown(tcp::socket::shutdown_send, ignored);
  } else {
    // A reset, a failed write or the idle timeout: the other direction ends too.
    state.failed = true;
    from.close(ignored);
    to.close(ignored);
  }
}

}  // namespace

awaitable<void> Tunnel(tcp::socket& client, beast::flat_buffer& client_pending, tcp::socket& target,
                       beast::flat_buffer& target_pending, std::chrono::milliseconds idle) {
  auto executor = co_await asio::this_coro::executor;
  TunnelState state(executor);
  auto done = [&state](std::exception_ptr) {
    --state.running;
    state.wake.cancel();
  };
  asio::co_spawn(executor, Pump(client, client_pending, target, state), done);
  asio::co_spawn(executor, Pump(target, target_pending, client, state), done);
  boost::system::error_code ec;
  while (state.running > 0) {
    state.wake.expires_at(state.last + idle);
    co_await state.wake.async_wait(redirect_error(use_awaitable, ec));
    if (state.running > 0 && std::chrono::steady_clock::now() - state.last >= idle) {
      client.close(ec);  // idle: both pumps end with an error
      target.close(ec);
    }
  }
  client.close(ec);
  target.close(ec);
}

bool ListenerCap::Enter(int port, int cap) {
  if (port < 0 || port > 65535) return true;
  auto& open = open_[static_cast<size_t>(port)];
  if (open.fetch_add(1, std::memory_order_relaxed) >= cap && cap > 0) {
    open.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  return true;
}

void ListenerCap::Leave(int port) {
  if (port >= 0 && port <= 65535) open_[static_cast<size_t>(port)].fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace slipway::engine
