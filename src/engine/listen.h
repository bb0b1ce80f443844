// Opening a listening TCP socket on the engine's io_context (API server and proxy listeners).
// Include only from network code: it pulls in Boost.Asio.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string>

#include "base/result.h"

namespace slipway::engine {

/// Opens, binds (with SO_REUSEADDR) and listens on host:port; port 0 picks a free port.
/// The error names the address and the reason.
[[nodiscard]] inline Result<std::shared_ptr<boost::asio::ip::tcp::acceptor>> BindAcceptor(
    boost::asio::io_context& io, const std::string& host, int port) {
  using boost::asio::ip::tcp;
  boost::system::error_code ec;
  tcp::endpoint ep(boost::asio::ip::make_address(host, ec), static_cast<unsigned short>(port));
  if (ec) return Fail("bad listen address " + host + ": " + ec.message());
  auto acceptor = std::make_shared<tcp::acceptor>(io);
  acceptor->open(ep.protocol(), ec);
  if (!ec) acceptor->set_option(boost::asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(ep, ec);
  if (!ec) acceptor->listen(boost::asio::socket_base::max_listen_connections, ec);
  if (ec) return Fail("listen on " + host + ":" + std::to_string(port) + ": " + ec.message());
  return acceptor;
}

}  // namespace slipway::engine
