// IpPool and the container runtime's pure rules: image references and ulimits.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "engine/runtime/ip_pool.h"
#include "engine/runtime/podman_runtime.h"
#include "engine/runtime/task_network.h"

namespace slipway::engine {
namespace {

TEST(IpPool, HandsOutEveryHostAddressOnceSkippingTheGateway) {
  IpPool pool("10.213.0.0/29");  // .0 network, .1 gateway, .7 broadcast: .2 to .6 remain
  std::set<std::string> got;
  for (int i = 0; i < 5; ++i) {
    auto ip = pool.Acquire("task" + std::to_string(i));
    ASSERT_TRUE(ip.has_value());
    got.insert(*ip);
  }
  EXPECT_EQ(got, (std::set<std::string>{"10.213.0.2", "10.213.0.3", "10.213.0.4", "10.213.0.5", "10.213.0.6"}));
  EXPECT_FALSE(pool.Acquire("one-too-many").has_value());
}

TEST(IpPool, AReleasedAddressComesBackLast) {
  IpPool pool("10.213.0.0/29");
  auto first = pool.Acquire("a");
  pool.Release("a");
  // Round-robin: the next task gets the next address, not the one just freed (podman frees it a
  // moment after the task stops).
  EXPECT_NE(pool.Acquire("b"), first);
}

TEST(IpPool, HoldRestoresAnAddressAndRefusesOnesOutsideOrTaken) {
  IpPool pool("10.213.0.0/16");
  EXPECT_TRUE(pool.Hold("10.213.4.7", "a"));
  EXPECT_TRUE(pool.Hold("10.213.4.7", "a"));  // the same task again
  EXPECT_FALSE(pool.Hold("10.213.4.7", "b"));
  EXPECT_FALSE(pool.Hold("10.213.0.1", "b"));  // the gateway
  EXPECT_FALSE(pool.Hold("192.168.1.1", "b"));
  EXPECT_FALSE(pool.Hold("not an ip", "b"));
}

TEST(IpPool, AnEmptyOrMalformedSubnetGivesNoAddresses) {
  EXPECT_TRUE(IpPool("").empty());
  EXPECT_TRUE(IpPool("10.0.0.0").empty());
  EXPECT_TRUE(IpPool("10.0.0.0/31").empty());
  EXPECT_FALSE(IpPool("").Acquire("a").has_value());
}

TEST(ImageReference, AcceptsWhatEcsAcceptsAndNeverAFlag) {
  EXPECT_TRUE(IsImageReference("nginx"));
  EXPECT_TRUE(IsImageReference("127.0.0.1:5000/shop/web@sha256:0123abcd"));
  EXPECT_TRUE(IsImageReference("localhost/app:v1"));
  EXPECT_FALSE(IsImageReference(""));
  EXPECT_FALSE(IsImageReference("--privileged"));
  EXPECT_FALSE(IsImageReference("-v=/:/host"));
  EXPECT_FALSE(IsImageReference("app v1"));
  EXPECT_FALSE(IsImageReference("app\n--privileged"));
  EXPECT_FALSE(IsImageReference(std::string(600, 'a')));
}

TEST(ContainerUlimits, AlwaysPassesNofileAndNprocAndLowersWhatPassesTheHost) {
  std::vector<std::string> warnings;
  auto limits = ContainerUlimits({}, &warnings);
  ASSERT_EQ(limits.size(), 2u);
  EXPECT_EQ(limits[0].rfind("nofile=", 0), 0u);
  EXPECT_EQ(limits[1].rfind("nproc=", 0), 0u);
  EXPECT_TRUE(warnings.empty());

  limits = ContainerUlimits({{"nofile", 1LL << 40, 1LL << 40}, {"core", 0, 0}, {"bogus", 1, 1}}, &warnings);
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[0].find("ulimit nofile"), std::string::npos);
  EXPECT_NE(warnings[1].find("bogus"), std::string::npos);
  EXPECT_NE(std::find(limits.begin(), limits.end(), "core=0:0"), limits.end());
  for (const auto& l : limits) EXPECT_EQ(l.find("1099511627776"), std::string::npos) << l;
}

}  // namespace
}  // namespace slipway::engine
