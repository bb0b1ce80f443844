// CIDR parsing and matching for source-ip rule conditions: IPv4, IPv6 and IPv4-mapped peers.
#include "engine/ip_cidr.h"

#include <gtest/gtest.h>

namespace slipway::engine {

namespace {

bool In(const char* block, const char* ip) {
  auto b = ParseCidr(block);
  auto a = ParseIp(ip);
  EXPECT_TRUE(b) << block;
  EXPECT_TRUE(a) << ip;
  return b && a && Contains(*b, *a);
}

}  // namespace

TEST(IpCidr, ASlash32HoldsExactlyOneIpv4Address) {
  EXPECT_TRUE(In("127.0.0.2/32", "127.0.0.2"));
  EXPECT_FALSE(In("127.0.0.2/32", "127.0.0.1"));
  EXPECT_FALSE(In("127.0.0.2/32", "127.0.0.3"));
}

TEST(IpCidr, Ipv4BlocksMatchOnTheirPrefixBits) {
  EXPECT_TRUE(In("10.0.0.0/8", "10.255.1.2"));
  EXPECT_FALSE(In("10.0.0.0/8", "11.0.0.1"));
  EXPECT_TRUE(In("192.168.4.0/22", "192.168.7.255"));
  EXPECT_FALSE(In("192.168.4.0/22", "192.168.8.0"));
  EXPECT_TRUE(In("203.0.113.128/25", "203.0.113.200"));
  EXPECT_FALSE(In("203.0.113.128/25", "203.0.113.127"));
}

TEST(IpCidr, SlashZeroHoldsEveryAddressOfItsFamilyOnly) {
  EXPECT_TRUE(In("0.0.0.0/0", "1.2.3.4"));
  EXPECT_TRUE(In("0.0.0.0/0", "255.255.255.255"));
  EXPECT_FALSE(In("0.0.0.0/0", "2001:db8::1"));
  EXPECT_TRUE(In("::/0", "2001:db8::1"));
  EXPECT_FALSE(In("::/0", "1.2.3.4"));
}

TEST(IpCidr, Ipv6BlocksMatchOnTheirPrefixBits) {
  EXPECT_TRUE(In("2001:db8::/32", "2001:db8:ffff::1"));
  EXPECT_FALSE(In("2001:db8::/32", "2001:db9::1"));
  EXPECT_TRUE(In("2001:db8::1/128", "2001:db8::1"));
  EXPECT_FALSE(In("2001:db8::1/128", "2001:db8::2"));
  EXPECT_TRUE(In("::1/128", "::1"));
  EXPECT_TRUE(In("fe80::/10", "febf::1"));
  EXPECT_FALSE(In("fe80::/10", "fec0::1"));
}

TEST(IpCidr, Ipv4MappedPeersMatchIpv4Blocks) {
  // A dual-stack socket reports an IPv4 client as ::ffff:a.b.c.d.
  EXPECT_TRUE(In("127.0.0.2/32", "::ffff:127.0.0.2"));
  EXPECT_FALSE(In("127.0.0.2/32", "::ffff:127.0.0.1"));
  EXPECT_TRUE(In("127.0.0.0/8", "::FFFF:127.1.2.3"));
  EXPECT_EQ(ParseIp("::ffff:127.0.0.2"), ParseIp("127.0.0.2"));
  // ...but not IPv6 blocks, not even ::/0.
  EXPECT_FALSE(In("::/0", "::ffff:127.0.0.2"));
}

TEST(IpCidr, HostBitsPastThePrefixAreIgnored) {
  EXPECT_EQ(ParseCidr("10.1.2.3/8"), ParseCidr("10.0.0.0/8"));
  EXPECT_TRUE(In("10.1.2.3/8", "10.200.0.1"));
  EXPECT_EQ(ParseCidr("2001:db8::ffff/32"), ParseCidr("2001:db8::/32"));
}

TEST(IpCidr, GarbageIsRefused) {
  for (const char* bad : {"",
                          "/",
                          "127.0.0.1",
                          "127.0.0.1/",
                          "127.0.0.1/33",
                          "::1/129",
                          "127.0.0.1/-1",
                          "127.0.0.1/+8",
                          "127.0.0.1/08",
                          "127.0.0.1/1000",
                          "127.0.0.1/32/1",
                          "256.0.0.1/32",
                          "1.2.3/24",
                          "01.2.3.4/32",
                          "1.2.3.4 /32",
                          " 1.2.3.4/32",
                          "1.2.3.4/32 ",
                          "fe80::1%eth0/64",
                          "[::1]/128",
                          "localhost/32",
                          "1.2.3.4/3x",
                          "*/0",
                          "::ffff:1.2.3.4.5/128"}) {
    EXPECT_FALSE(ParseCidr(bad)) << "'" << bad << "'";
  }
  EXPECT_FALSE(ParseCidr(std::string(1000, '1') + "/8"));
  EXPECT_FALSE(ParseCidr(std::string("1.2.3.4\0/8", 10)));
  EXPECT_FALSE(ParseIp("1.2.3.4:80"));
  EXPECT_FALSE(ParseIp(std::string(60, ':')));
}

TEST(IpCidr, AMappedBlockOfSlash96OrLongerIsTheIpv4BlockItSpells) {
  // ::ffff:a.b.c.d/N with N >= 96 covers only mapped addresses: a.b.c.d/(N-96).
  EXPECT_EQ(ParseCidr("::ffff:10.1.0.0/112"), ParseCidr("10.1.0.0/16"));
  EXPECT_TRUE(In("::ffff:10.0.0.0/104", "10.200.3.4"));
  EXPECT_TRUE(In("::ffff:10.0.0.0/104", "::ffff:10.200.3.4"));
  EXPECT_FALSE(In("::ffff:10.0.0.0/104", "11.0.0.1"));
  EXPECT_TRUE(In("::ffff:10.0.0.7/128", "10.0.0.7"));
  EXPECT_FALSE(In("::ffff:10.0.0.7/128", "10.0.0.8"));
  EXPECT_TRUE(In("::ffff:10.0.0.7/96", "192.168.1.1"));
  EXPECT_FALSE(In("::ffff:10.0.0.7/96", "2001:db8::1"));
  // A /95 reaches past the mapped range into IPv6 space, so it stays an IPv6 block and, like ::/0,
  // holds no IPv4 peer.
  EXPECT_TRUE(In("::ffff:0.0.0.0/95", "::fffe:1:2"));
  EXPECT_FALSE(In("::ffff:0.0.0.0/95", "10.0.0.7"));
}

TEST(IpCidr, PrefixLimitsFollowTheFamilyTheBlockIsWrittenIn) {
  EXPECT_TRUE(ParseCidr("1.2.3.4/32"));
  EXPECT_TRUE(ParseCidr("::ffff:1.2.3.4/128"));
  EXPECT_FALSE(ParseCidr("1.2.3.4/64"));
}

}  // namespace slipway::engine
