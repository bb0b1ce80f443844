// Listener rule matching and health-check matchers, as the ALB documents them.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "engine/data_plane.h"

namespace slipway::engine {

namespace {

/// Headers held in a map; names are stored lower-case, as a test writes them.
class MapHeaders final : public RequestHeaders {
 public:
  MapHeaders(std::initializer_list<std::pair<const std::string, std::string>> h) : h_(h) {}
  bool AnyValue(std::string_view name, const std::function<bool(std::string_view)>& match) const override {
    std::string lower;
    for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto [first, last] = h_.equal_range(lower);
    for (auto it = first; it != last; ++it) {
      if (match(it->second)) return true;
    }
    return false;
  }

 private:
  std::multimap<std::string, std::string> h_;
};

RouteRequest From(const char* peer, std::string_view path = "/", std::string_view host = "app.example.com",
                  const RequestHeaders* headers = nullptr) {
  return {host, path, ParseIp(peer).value(), headers};
}

RouteRule SourceRule(int priority, std::vector<const char*> blocks, std::string tg) {
  RouteRule r;
  r.priority = priority;
  r.target_group_arn = std::move(tg);
  for (const char* b : blocks) r.source_blocks.push_back(ParseCidr(b).value());
  return r;
}

RouteRule Fixed(int priority, int status) {
  RouteRule r;
  r.priority = priority;
  r.fixed_status = status;
  return r;
}

}  // namespace

TEST(Routing, WildcardsMatchLikeAlbPathPatterns) {
  EXPECT_TRUE(WildcardMatch("/api/*", "/api/users", false));
  EXPECT_FALSE(WildcardMatch("/api/*", "/web", false));
  EXPECT_TRUE(WildcardMatch("/img/?.png", "/img/a.png", false));
  EXPECT_FALSE(WildcardMatch("/API/*", "/api/x", false));  // paths are case-sensitive
  EXPECT_TRUE(WildcardMatch("*.example.com", "WWW.Example.com", true));
}

TEST(Routing, WildcardsAnchorBothEndsAndPlaceEveryRunBetween) {
  struct Case {
    const char* pattern;
    const char* text;
    bool ci;
    bool match;
  };
  const Case cases[] = {
      {"", "", false, true},
      {"", "a", false, false},
      {"*", "", false, true},
      {"**", "abc", false, true},
      {"abc", "abc", false, true},
      {"abc", "abcd", false, false},
      {"a*c", "ac", false, true},
      {"a*c", "abxc", false, true},
      {"a*c", "abcx", false, false},
      {"a*b*c", "axbyc", false, true},
      {"a*b*c", "acb", false, false},
      {"*ab*ab*", "xabyab", false, true},
      {"*ab*ab*", "xaab", false, false},
      {"*aab*", "aaab", false, true},
      {"*a?c*", "xxabcxx", false, true},
      {"*a?c*", "xxacxx", false, false},
      {"ab*ba", "aba", false, false},  // the anchored ends may not share a character
      {"*X-y*", "aax-Ybb", true, true},
      {"*X-y*", "aax-Ybb", false, false},
      {"*?", "", false, false},
      {"?*?", "ab", false, true},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(WildcardMatch(c.pattern, c.text, c.ci), c.match)
        << "'" << c.pattern << "' against '" << c.text << "'";
  }
}

TEST(Routing, AWorstCasePatternCostsOnePassOverALongHeader) {
  // Given the longest condition value, built to defeat backtracking, and an 8 KB header of the
  // character it repeats: each pattern is compared in at most one pass over the text.
  const std::string header(8192, 'a');
  const std::string ending = "*" + std::string(126, 'a') + "b";
  const std::string inside = "*" + std::string(125, 'a') + "b*";
  const std::string many = "*a?*a?*a?*a?*a?*a?*a?*a?*a?*a?*a?*a?*a?*a?*a?*a?*a?*a?*a?*a?*b";
  for (const std::string& pattern : {ending, inside, many}) {
    size_t steps = 0;
    EXPECT_FALSE(WildcardMatch(pattern, header, true, &steps));
    EXPECT_LE(steps, header.size() + pattern.size()) << pattern;
  }
  size_t steps = 0;
  EXPECT_TRUE(WildcardMatch(inside, header + "b", true, &steps));
  EXPECT_LE(steps, header.size() + 1 + inside.size());
}

TEST(Routing, LowestPriorityMatchingRuleWinsAndDefaultIsLast) {
  ListenerRoutes routes{8080,
                        {{10, {"/api/*"}, {}, "tg-api"},
                         {20, {}, {"admin.example.com"}, "tg-admin"},
                         {50001, {}, {}, "tg-web"}}};
  EXPECT_EQ(MatchRoute(routes, From("127.0.0.1", "/api/v1", "x"))->target_group_arn, "tg-api");
  EXPECT_EQ(MatchRoute(routes, From("127.0.0.1", "/", "admin.example.com:8080"))->target_group_arn, "tg-admin");
  EXPECT_EQ(MatchRoute(routes, From("127.0.0.1", "/", "www.example.com"))->target_group_arn, "tg-web");
}

TEST(Routing, AnAllowlistForwardsListedPeersAndOthersGetTheFixedResponse) {
  ListenerRoutes routes{8080, {SourceRule(1, {"127.0.0.2/32", "10.0.0.0/8"}, "tg-app"), Fixed(50001, 403)}};
  EXPECT_EQ(MatchRoute(routes, From("127.0.0.2"))->target_group_arn, "tg-app");
  EXPECT_EQ(MatchRoute(routes, From("::ffff:127.0.0.2"))->target_group_arn, "tg-app");
  EXPECT_EQ(MatchRoute(routes, From("10.9.8.7"))->target_group_arn, "tg-app");
  EXPECT_EQ(MatchRoute(routes, From("127.0.0.1"))->fixed_status, 403);
  EXPECT_EQ(MatchRoute(routes, From("::1"))->fixed_status, 403);
}

TEST(Routing, SourceIpIgnoresXForwardedFor) {
  ListenerRoutes routes{8080, {SourceRule(1, {"127.0.0.2/32"}, "tg-app"), Fixed(50001, 403)}};
  MapHeaders forged{{"x-forwarded-for", "127.0.0.2"}};
  EXPECT_EQ(MatchRoute(routes, From("127.0.0.1", "/", "h", &forged))->fixed_status, 403);
}

TEST(Routing, EveryConditionOfARuleMustMatch) {
  RouteRule both = SourceRule(5, {"127.0.0.0/8"}, "tg-admin");
  both.path_patterns = {"/admin/*"};
  ListenerRoutes routes{8080, {both, Fixed(50001, 404)}};
  EXPECT_EQ(MatchRoute(routes, From("127.0.0.9", "/admin/x"))->target_group_arn, "tg-admin");
  EXPECT_EQ(MatchRoute(routes, From("127.0.0.9", "/shop"))->fixed_status, 404);
  EXPECT_EQ(MatchRoute(routes, From("192.0.2.1", "/admin/x"))->fixed_status, 404);
}

TEST(Routing, HeaderConditionsMatchNamesAndValuesIgnoringCaseWithWildcards) {
  RouteRule beta;
  beta.priority = 3;
  beta.target_group_arn = "tg-beta";
  beta.headers = {{"X-Channel", {"beta-*", "canary"}}};
  ListenerRoutes routes{8080, {beta, Fixed(50001, 404)}};
  MapHeaders wildcard{{"x-channel", "BETA-7"}};
  MapHeaders exact{{"x-channel", "Canary"}};
  MapHeaders other{{"x-channel", "stable"}};
  MapHeaders second_value{{"x-channel", "stable"}, {"x-channel", "beta-1"}};
  MapHeaders none{{"x-other", "beta-1"}};
  EXPECT_EQ(MatchRoute(routes, From("127.0.0.1", "/", "h", &wildcard))->target_group_arn, "tg-beta");
  EXPECT_EQ(MatchRoute(routes, From("127.0.0.1", "/", "h", &exact))->target_group_arn, "tg-beta");
  EXPECT_EQ(MatchRoute(routes, From("127.0.0.1", "/", "h", &second_value))->target_group_arn, "tg-beta");
  EXPECT_EQ(MatchRoute(routes, From("127.0.0.1", "/", "h", &other))->fixed_status, 404);
  EXPECT_EQ(MatchRoute(routes, From("127.0.0.1", "/", "h", &none))->fixed_status, 404);
  EXPECT_EQ(MatchRoute(routes, From("127.0.0.1", "/", "h", nullptr))->fixed_status, 404);
}

TEST(Routing, TwoHeaderConditionsMustBothMatch) {
  RouteRule r;
  r.target_group_arn = "tg";
  r.headers = {{"a", {"1"}}, {"b", {"2"}}};
  ListenerRoutes routes{8080, {r, Fixed(50001, 404)}};
  MapHeaders both{{"a", "1"}, {"b", "2"}};
  MapHeaders one{{"a", "1"}};
  EXPECT_EQ(MatchRoute(routes, From("127.0.0.1", "/", "h", &both))->target_group_arn, "tg");
  EXPECT_EQ(MatchRoute(routes, From("127.0.0.1", "/", "h", &one))->fixed_status, 404);
}

TEST(Routing, ARuleWhoseStoredConditionNoLongerParsesMatchesNothing) {
  RouteRule broken = SourceRule(1, {}, "tg-app");
  broken.matches_nothing = true;
  ListenerRoutes routes{8080, {broken, Fixed(50001, 403)}};
  EXPECT_EQ(MatchRoute(routes, From("127.0.0.2"))->fixed_status, 403);
}

TEST(Routing, AListenerWithoutADefaultRouteAnswersNothingForUnmatchedRequests) {
  ListenerRoutes routes{8080, {SourceRule(1, {"127.0.0.2/32"}, "tg-app")}};
  EXPECT_EQ(MatchRoute(routes, From("127.0.0.1")), nullptr);
}

TEST(Routing, MatcherAcceptsSinglesListsAndRanges) {
  EXPECT_TRUE(MatcherAccepts("200", 200));
  EXPECT_FALSE(MatcherAccepts("200", 204));
  EXPECT_TRUE(MatcherAccepts("200,202", 202));
  EXPECT_TRUE(MatcherAccepts("200-299", 250));
  EXPECT_FALSE(MatcherAccepts("200-299", 302));
}

}  // namespace slipway::engine
