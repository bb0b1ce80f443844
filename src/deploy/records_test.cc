#include "deploy/records.h"

#include <gtest/gtest.h>

namespace slipway::deploy {
namespace {

TEST(TagValue, KeepsWhatEcsAllowsAndTurnsTheRestIntoSingleSpaces) {
  EXPECT_EQ(TagValue("r-20261129 2026-11-29T10:00:00Z ci@host.example/x=1+2_3"),
            "r-20261129 2026-11-29T10:00:00Z ci@host.example/x=1+2_3");
  EXPECT_EQ(TagValue("verify GET /: body lacks \"slipway demo\" (got \"maintenance page v3\")"),
            "verify GET /: body lacks slipway demo got maintenance page v3");
  EXPECT_EQ(TagValue("Jane <jane@example.com>, ops; caf\xc3\xa9!"),
            "Jane jane@example.com ops caf");
}

TEST(TagValue, IsAtMost256Characters) {
  EXPECT_EQ(TagValue(std::string(300, 'a')).size(), 256u);
  EXPECT_EQ(TagValue(std::string(255, 'a') + " (b)"), std::string(255, 'a'));
}

}  // namespace
}  // namespace slipway::deploy
