// The host-port pool: one port per live task, never a port something else is bound to.
#include "engine/runtime/port_pool.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>
#include <vector>

#include "base/unique_fd.h"

namespace slipway::engine {
namespace {

// Every port counts as free on the host: what these tests check is the pool's own bookkeeping,
// which must not depend on what else runs on the machine (other engines take ports in any range).
bool AnyPortIsFree(const std::string&, int) { return true; }

// Binds 127.0.0.1:port (0: one the kernel picks) and listens, as an app that already runs there would.
UniqueFd Occupy(int port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd.get(), 1) != 0) {
    return UniqueFd();
  }
  return fd;
}

TEST(PortPool, HandsEachPortToOneTaskOnly) {
  PortPool pool("127.0.0.1", 31000, 31199, AnyPortIsFree);
  std::set<int> seen;
  for (int i = 0; i < 200; ++i) {
    auto port = pool.Acquire("task-" + std::to_string(i));
    ASSERT_TRUE(port) << "after " << i;
    EXPECT_TRUE(seen.insert(*port).second) << "port " << *port << " handed out twice";
    EXPECT_GE(*port, 31000);
    EXPECT_LE(*port, 31199);
  }
  EXPECT_FALSE(pool.Acquire("one-too-many")) << "the range is exhausted";
}

TEST(PortPool, AReleasedPortCanBeHandedOutAgain) {
  PortPool pool("127.0.0.1", 31200, 31200, AnyPortIsFree);
  auto first = pool.Acquire("a");
  ASSERT_TRUE(first);
  EXPECT_FALSE(pool.Acquire("b"));
  pool.Release("a");
  EXPECT_EQ(pool.Acquire("b"), first);
  EXPECT_EQ(pool.Holder(*first), "b");
}

TEST(PortPool, SkipsAPortSomethingIsBoundTo) {
  UniqueFd busy = Occupy(0);
  ASSERT_TRUE(busy.valid());
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(busy.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int port = ntohs(addr.sin_port);
  PortPool pool("127.0.0.1", port, port);
  EXPECT_FALSE(pool.Acquire("a")) << "port " << port << " is bound by this test";
}

TEST(PortPool, AsksTheProbeAndSkipsWhatItRefuses) {
  std::vector<int> asked;
  PortPool pool("10.1.2.3", 31500, 31503, [&](const std::string& host, int port) {
    EXPECT_EQ(host, "10.1.2.3");
    asked.push_back(port);
    return port % 2 == 1;
  });
  std::set<int> got;
  while (auto port = pool.Acquire("t" + std::to_string(got.size()))) got.insert(*port);
  EXPECT_EQ(got, (std::set<int>{31501, 31503}));
  EXPECT_EQ(std::set<int>(asked.begin(), asked.end()), (std::set<int>{31500, 31501, 31502, 31503}));
}

TEST(PortPool, AnAdoptedTaskKeepsItsPort) {
  PortPool pool("127.0.0.1", 31400, 31401, AnyPortIsFree);
  EXPECT_TRUE(pool.Hold(31400, "adopted"));
  EXPECT_FALSE(pool.Hold(31400, "another")) << "a held port was given to a second task";
  EXPECT_EQ(pool.Acquire("new"), 31401);
}

}  // namespace
}  // namespace slipway::engine
