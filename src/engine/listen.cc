// Acceptors: bind with a helpful error, adopt handed-over sockets, pause and resume accepting.
#include "engine/listen.h"

#include <fcntl.h>
#include <sys/socket.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "base/proc.h"

namespace slipway::engine {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

Result<std::shared_ptr<tcp::acceptor>> BindAcceptor(asio::io_context& io, const std::string& host, int port) {
  boost::system::error_code ec;
  tcp::endpoint ep(asio::ip::make_address(host, ec), static_cast<unsigned short>(port));
  if (ec) return Fail("bad listen address " + host + ": " + ec.message());
  auto acceptor = std::make_shared<tcp::acceptor>(io);
  acceptor->open(ep.protocol(), ec);
  // Asio does not ask for close-on-exec; no child may inherit a listening socket.
  if (!ec) ::fcntl(acceptor->native_handle(), F_SETFD, FD_CLOEXEC);
  if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(ep, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    std::string message = "listen on " + host + ":" + std::to_string(port) + ": " + ec.message();
    if (ec == asio::error::address_in_use) {
      if (auto holder = ListeningPortHolder(port)) {
        message += " (port " + std::to_string(port) + " is held by pid " + std::to_string(holder->pid) + ", " +
                   holder->name + ")";
      } else {
        message += " (port " + std::to_string(port) + " is taken by another process)";
      }
    }
    return Fail(message);
  }
  return acceptor;
}

Result<std::shared_ptr<tcp::acceptor>> AdoptAcceptor(asio::io_context& io, UniqueFd fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return Fail("handed-over socket: " + std::string(std::strerror(errno)));
  }
  ::fcntl(fd.get(), F_SETFD, FD_CLOEXEC);
  auto acceptor = std::make_shared<tcp::acceptor>(io);
  boost::system::error_code ec;
  acceptor->assign(addr.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), fd.get(), ec);
  if (ec) return Fail("handed-over socket: " + ec.message());
  fd.Release();
  return acceptor;
}

Result<int> ListenerSet::Open(const std::string& host, int port, std::map<int, UniqueFd>* inherited) {
  Result<std::shared_ptr<tcp::acceptor>> acceptor = Fail("");
  if (inherited != nullptr && inherited->count(port)) {
    acceptor = AdoptAcceptor(io_, std::move((*inherited)[port]));
    inherited->erase(port);
  } else {
    acceptor = BindAcceptor(io_, host, port);
  }
  if (!acceptor) return tl::unexpected(acceptor.error());
  const int bound = (*acceptor)->local_endpoint().port();
  {
    std::lock_guard lock(mu_);
    acceptors_[bound] = *acceptor;
  }
  if (accepting_) Accept(*acceptor, bound);
  return bound;
}

void ListenerSet::Accept(std::shared_ptr<tcp::acceptor> acceptor, int port) {
  asio::co_spawn(
      io_,
      [this, acceptor, port]() -> asio::awaitable<void> {
        for (;;) {
          boost::system::error_code ec;
          // Each connection gets its own strand unless a single-threaded loop was picked for it: a
          // Beast stream's timer and its reads and writes must never run on two threads at once.
          // A named local, not a temporary inside the co_await (GCC 12 coroutine bug).
          asio::any_io_executor executor = socket_executor_ ? socket_executor_() : asio::make_strand(io_);
          tcp::socket socket = co_await acceptor->async_accept(executor, asio::redirect_error(asio::use_awaitable, ec));
          // A connection accepted before a pause took effect is served: dropping it would reset a
          // client that did nothing wrong.
          if (!ec) {
            ::fcntl(socket.native_handle(), F_SETFD, FD_CLOEXEC);
            on_accept_(std::move(socket), port);
          }
          if (!accepting_ || !acceptor->is_open()) co_return;
          if (ec && ec != asio::error::operation_aborted) {
            // Out of descriptors (or memory): accepting again at once would only spin. Pending
            // connections wait in the backlog meanwhile.
            asio::steady_timer pause(acceptor->get_executor(), std::chrono::milliseconds(100));
            co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
          }
        }
      },
      asio::detached);
}

void ListenerSet::StopAccepting() {
  accepting_ = false;
  std::lock_guard lock(mu_);
  for (auto& [port, a] : acceptors_) {
    asio::post(io_, [a] {
      boost::system::error_code ec;
      a->cancel(ec);
    });
  }
}

void ListenerSet::ResumeAccepting() {
  accepting_ = true;
  std::lock_guard lock(mu_);
  for (auto& [port, a] : acceptors_) Accept(a, port);
}

std::map<int, UniqueFd> ListenerSet::Duplicate() const {
  std::lock_guard lock(mu_);
  std::map<int, UniqueFd> out;
  for (const auto& [port, a] : acceptors_) out[port] = UniqueFd(::fcntl(a->native_handle(), F_DUPFD_CLOEXEC, 3));
  return out;
}

void ListenerSet::Close() {
  accepting_ = false;
  std::lock_guard lock(mu_);
  for (auto& [port, a] : acceptors_) {
    asio::post(io_, [a] {
      boost::system::error_code ec;
      a->close(ec);
    });
  }
  acceptors_.clear();
}

}  // namespace slipway::engine
