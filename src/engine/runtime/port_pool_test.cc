// The host-port pool: one port per live task, never a port something else is bound to.
#include "engine/runtime/port_pool.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>

#include "base/unique_fd.h"

namespace slipway::engine {
namespace {

// Binds 127.0.0.1:port and listens, as an app that already runs there would.
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
  PortPool pool("127.0.0.1", 31000, 31199);
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
  PortPool pool("127.0.0.1", 31200, 31200);
  auto first = pool.Acquire("a");
  ASSERT_TRUE(first);
  EXPECT_FALSE(pool.Acquire("b"));
  pool.Release("a");
  EXPECT_EQ(pool.Acquire("b"), first);
  EXPECT_EQ(pool.Holder(*first), "b");
}

TEST(PortPool, SkipsAPortSomethingIsBoundTo) {
  UniqueFd busy = Occupy(31300);
  ASSERT_TRUE(busy.valid()) << "31300 was taken before the test";
  PortPool pool("127.0.0.1", 31300, 31301);
  EXPECT_EQ(pool.Acquire("a"), 31301);
  EXPECT_FALSE(pool.Acquire("b"));
}

TEST(PortPool, AnAdoptedTaskKeepsItsPort) {
  PortPool pool("127.0.0.1", 31400, 31401);
  EXPECT_TRUE(pool.Hold(31400, "adopted"));
  EXPECT_FALSE(pool.Hold(31400, "another")) << "a held port was given to a second task";
  EXPECT_EQ(pool.Acquire("new"), 31401);
}

}  // namespace
}  // namespace slipway::engine
