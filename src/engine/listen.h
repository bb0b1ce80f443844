// Listening TCP sockets on the engine's io_context (API server and proxy listeners), with accept
// loops that can pause and sockets that can be handed to a new engine process.
// Include only from network code: it pulls in Boost.Asio.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace slipway::engine {

/// Opens, binds (with SO_REUSEADDR) and listens on host:port; port 0 picks a free port. The
/// socket is close-on-exec. When the port is taken, the error names it and, where it can tell,
/// the process holding it.
[[nodiscard]] Result<std::shared_ptr<boost::asio::ip::tcp::acceptor>> BindAcceptor(
    boost::asio::io_context& io, const std::string& host, int port);

/// Takes over a listening socket another process handed over.
[[nodiscard]] Result<std::shared_ptr<boost::asio::ip::tcp::acceptor>> AdoptAcceptor(boost::asio::io_context& io,
                                                                                    UniqueFd fd);

/// The listening sockets of one server and their accept loops.
class ListenerSet {
 public:
  /// Called (on an io thread) for each accepted connection, with the listener's port.
  using OnAccept = std::function<void(boost::asio::ip::tcp::socket, int port)>;
  /// Picks the executor an accepted connection runs on (its socket is bound to it).
  using SocketExecutor = std::function<boost::asio::any_io_executor()>;

  /// Accepts on `io`; each connection gets its own strand on `io`.
  ListenerSet(boost::asio::io_context& io, OnAccept on_accept) : io_(io), on_accept_(std::move(on_accept)) {}
  /// Accepts on `io`; each connection runs on the executor `socket_executor` picks (another
  /// event loop's, say).
  ListenerSet(boost::asio::io_context& io, OnAccept on_accept, SocketExecutor socket_executor)
      : io_(io), on_accept_(std::move(on_accept)), socket_executor_(std::move(socket_executor)) {}

  /// Listens on host:port (taking over `inherited[port]` when present) and starts accepting;
  /// returns the bound port.
  [[nodiscard]] Result<int> Open(const std::string& host, int port, std::map<int, UniqueFd>* inherited = nullptr);
  /// Stops accepting; the sockets stay open, so connections wait in their backlog.
  void StopAccepting();
  /// Accepts again after StopAccepting().
  void ResumeAccepting();
  /// Copies of the listening sockets by port, for a new engine process.
  std::map<int, UniqueFd> Duplicate() const;
  /// Closes the listening sockets (this process's copies).
  void Close();

 private:
  void Accept(std::shared_ptr<boost::asio::ip::tcp::acceptor> acceptor, int port);

  boost::asio::io_context& io_;
  OnAccept on_accept_;
  SocketExecutor socket_executor_;  ///< empty: a new strand on io_
  mutable std::mutex mu_;
  std::map<int, std::shared_ptr<boost::asio::ip::tcp::acceptor>> acceptors_;
  std::atomic<bool> accepting_{true};
};

/// Connections a server holds open, and whether it is winding down (after a handoff): then each
/// connection answers the request it is on with Connection: close and ends.
/// Shared with each connection's coroutine, which may outlive the server that counted it.
struct ConnectionCount {
  std::atomic<int> open{0};
  std::atomic<bool> closing{false};

  /// Counts one connection for as long as it lives.
  class Open {
   public:
    explicit Open(std::shared_ptr<ConnectionCount> c) : count_(std::move(c)) { ++count_->open; }
    ~Open() {
      if (count_) --count_->open;
    }
    Open(Open&& other) noexcept : count_(std::move(other.count_)) {}
    Open(const Open&) = delete;
    Open& operator=(const Open&) = delete;
    Open& operator=(Open&&) = delete;

   private:
    std::shared_ptr<ConnectionCount> count_;
  };

  /// Counts a connection just accepted, from the accept on (so a burst cannot pass the cap before
  /// its sessions start), unless `cap` are open already: then nothing is counted and the caller
  /// closes the connection.
  static std::optional<Open> Admit(const std::shared_ptr<ConnectionCount>& count, int cap) {
    Open open(count);
    if (count->open > cap) return std::nullopt;
    return std::optional<Open>(std::move(open));
  }
};

}  // namespace slipway::engine
