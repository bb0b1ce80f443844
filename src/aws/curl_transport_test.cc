// CurlTransport against real loopback sockets: is a failure one the server can have seen?
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "aws/http_transport.h"
#include "base/unique_fd.h"

namespace slipway::aws {
namespace {

// A TCP socket bound to a free loopback port; `port` is that port.
UniqueFd BindLoopback(int& port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return UniqueFd();
  socklen_t len = sizeof addr;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  port = ntohs(addr.sin_port);
  return fd;
}

TEST(CurlTransport, ARefusedConnectionIsReportedAsNotSent) {
  int port = 0;
  // Bound but not listening: connections to it are refused, and no one else can take the port.
  UniqueFd bound = BindLoopback(port);
  ASSERT_TRUE(bound.valid());
  CurlTransport transport;
  auto r = transport.Send({"POST", "http://127.0.0.1:" + std::to_string(port) + "/", {}, "{}", 5000});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, kTransportNotSent) << r.error().message;
}

TEST(CurlTransport, AServerThatHangsUpAfterReadingTheRequestMayHaveSeenIt) {
  int port = 0;
  UniqueFd listener = BindLoopback(port);
  ASSERT_TRUE(listener.valid());
  ASSERT_EQ(::listen(listener.get(), 1), 0);
  std::thread server([&] {
    UniqueFd conn(::accept(listener.get(), nullptr, nullptr));
    std::string got;
    char buf[4096];
    while (got.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = ::read(conn.get(), buf, sizeof buf);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
    // Closes without a reply, as an engine killed mid-request would.
  });
  CurlTransport transport;
  auto r = transport.Send({"POST", "http://127.0.0.1:" + std::to_string(port) + "/", {}, "{}", 5000});
  server.join();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, kTransportMaybeSent) << r.error().message;
}

}  // namespace
}  // namespace slipway::aws
