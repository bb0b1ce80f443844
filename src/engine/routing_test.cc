// Listener rule matching and health-check matchers, as the ALB documents them.
#include <gtest/gtest.h>

#include "engine/data_plane.h"

namespace slipway::engine {

TEST(Routing, WildcardsMatchLikeAlbPathPatterns) {
  EXPECT_TRUE(WildcardMatch("/api/*", "/api/users", false));
  EXPECT_FALSE(WildcardMatch("/api/*", "/web", false));
  EXPECT_TRUE(WildcardMatch("/img/?.png", "/img/a.png", false));
  EXPECT_FALSE(WildcardMatch("/API/*", "/api/x", false));  // paths are case-sensitive
  EXPECT_TRUE(WildcardMatch("*.example.com", "WWW.Example.com", true));
}

TEST(Routing, LowestPriorityMatchingRuleWinsAndDefaultIsLast) {
  ListenerRoutes routes{8080,
                        {{10, {"/api/*"}, {}, "tg-api"},
                         {20, {}, {"admin.example.com"}, "tg-admin"},
                         {50001, {}, {}, "tg-web"}}};
  EXPECT_EQ(MatchRoute(routes, "x", "/api/v1")->target_group_arn, "tg-api");
  EXPECT_EQ(MatchRoute(routes, "admin.example.com:8080", "/")->target_group_arn, "tg-admin");
  EXPECT_EQ(MatchRoute(routes, "www.example.com", "/")->target_group_arn, "tg-web");
}

TEST(Routing, MatcherAcceptsSinglesListsAndRanges) {
  EXPECT_TRUE(MatcherAccepts("200", 200));
  EXPECT_FALSE(MatcherAccepts("200", 204));
  EXPECT_TRUE(MatcherAccepts("200,202", 202));
  EXPECT_TRUE(MatcherAccepts("200-299", 250));
  EXPECT_FALSE(MatcherAccepts("200-299", 302));
}

}  // namespace slipway::engine
