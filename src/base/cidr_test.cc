#include "base/cidr.h"

#include <gtest/gtest.h>

namespace slipway {
namespace {

TEST(CidrBlock, ReadsIpv4AndIpv6InCanonicalForm) {
  EXPECT_EQ(ParseCidrBlock("127.0.0.2/32")->Text(), "127.0.0.2/32");
  EXPECT_EQ(ParseCidrBlock("10.0.0.0/8")->Text(), "10.0.0.0/8");
  EXPECT_EQ(ParseCidrBlock("0.0.0.0/0")->Text(), "0.0.0.0/0");
  EXPECT_EQ(ParseCidrBlock("2001:DB8:0:0::/32")->Text(), "2001:db8::/32");
  EXPECT_EQ(ParseCidrBlock("::/0")->Text(), "::/0");
  EXPECT_EQ(ParseCidrBlock("::1/128")->Text(), "::1/128");
}

TEST(CidrBlock, RefusesWhatAnAlbWouldNotTake) {
  for (const char* bad : {"127.0.0.2", "10.0.0.0/33", "2001:db8::/129", "10.0.0/8", "10.0.0.0/-1", "10.0.0.0/",
                          "10.0.0.0/8x", "host/32", "", "/8", "10.0.0.0/ 8", "1.2.3.4/32/1"}) {
    EXPECT_FALSE(ParseCidrBlock(bad)) << bad;
  }
}

TEST(CidrBlock, NamesTheNetworkWhenHostBitsAreSet) {
  auto r = ParseCidrBlock("10.1.2.3/8");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("'10.0.0.0/8'"), std::string::npos) << r.error().message;
  auto missing = ParseCidrBlock("203.0.113.7");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("'203.0.113.7/32'"), std::string::npos) << missing.error().message;
}

TEST(CidrBlock, ContainsAddressesOfItsOwnFamilyOnly) {
  const CidrBlock loop = *ParseCidrBlock("127.0.0.0/8");
  EXPECT_TRUE(CidrContains(loop, "127.0.0.2"));
  EXPECT_FALSE(CidrContains(loop, "128.0.0.1"));
  EXPECT_FALSE(CidrContains(loop, "::1"));
  EXPECT_TRUE(CidrContains(*ParseCidrBlock("127.0.0.2/32"), "127.0.0.2"));
  EXPECT_FALSE(CidrContains(*ParseCidrBlock("127.0.0.2/32"), "127.0.0.1"));
  EXPECT_TRUE(CidrContains(*ParseCidrBlock("0.0.0.0/0"), "8.8.8.8"));
  EXPECT_TRUE(CidrContains(*ParseCidrBlock("2001:db8::/32"), "2001:db8::1"));
  EXPECT_FALSE(CidrContains(*ParseCidrBlock("2001:db8::/32"), "not an address"));
}

}  // namespace
}  // namespace slipway
