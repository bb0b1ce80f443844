// Listener rule conditions as CreateRule reads them: what the ALB accepts, and what it refuses
// with a ValidationError.
#include "engine/rule_conditions.h"

#include <gtest/gtest.h>

namespace slipway::engine {

namespace {

/// The error message ParseConditions gives for `p`, or "" when it accepts it.
std::string Refusal(const QueryParams& p) {
  auto parsed = ParseConditions(p, "Conditions");
  if (parsed) return "";
  EXPECT_EQ(parsed.error().code, "ValidationError");
  return parsed.error().message;
}

}  // namespace

TEST(RuleConditions, ReadsEachServedFieldFromItsConfig) {
  auto parsed =
      ParseConditions({{"Conditions.member.1.Field", "source-ip"},
                       {"Conditions.member.1.SourceIpConfig.Values.member.1", "127.0.0.2/32"},
                       {"Conditions.member.1.SourceIpConfig.Values.member.2", "2001:db8::/32"},
                       {"Conditions.member.2.Field", "http-header"},
                       {"Conditions.member.2.HttpHeaderConfig.HttpHeaderName", "X-Channel"},
                       {"Conditions.member.2.HttpHeaderConfig.Values.member.1", "beta-*"},
                       {"Conditions.member.3.Field", "path-pattern"},
                       {"Conditions.member.3.PathPatternConfig.Values.member.1", "/api/*"},
                       {"Conditions.member.4.Field", "host-header"},
                       {"Conditions.member.4.Values.member.1", "*.example.com"}},
                      "Conditions");
  ASSERT_TRUE(parsed) << parsed.error().message;
  ASSERT_EQ(parsed->size(), 4u);
  EXPECT_EQ((*parsed)[0].values, (std::vector<std::string>{"127.0.0.2/32", "2001:db8::/32"}));
  EXPECT_EQ((*parsed)[1].header_name, "X-Channel");
  EXPECT_EQ((*parsed)[1].values, std::vector<std::string>{"beta-*"});
  EXPECT_EQ((*parsed)[2].values, std::vector<std::string>{"/api/*"});
  EXPECT_EQ((*parsed)[3].values, std::vector<std::string>{"*.example.com"});
}

TEST(RuleConditions, ARuleHoldsAtMostFiveValues) {
  QueryParams p{{"Conditions.member.1.Field", "source-ip"}};
  for (int i = 1; i <= 5; ++i) {
    p["Conditions.member.1.SourceIpConfig.Values.member." + std::to_string(i)] =
        "10.0.0." + std::to_string(i) + "/32";
  }
  EXPECT_EQ(Refusal(p), "");
  p["Conditions.member.2.Field"] = "path-pattern";
  p["Conditions.member.2.PathPatternConfig.Values.member.1"] = "/x";
  EXPECT_EQ(Refusal(p), "A rule can only have '5' condition values");
}

TEST(RuleConditions, SourceIpValuesMustBeCidrBlocks) {
  for (const char* bad :
       {"127.0.0.2", "127.0.0.2/33", "::1/129", "not-an-ip/8", "*", "", "255.255.255.255/32"}) {
    EXPECT_NE(Refusal({{"Conditions.member.1.Field", "source-ip"},
                       {"Conditions.member.1.SourceIpConfig.Values.member.1", bad}}),
              "")
        << bad;
  }
  EXPECT_EQ(Refusal({{"Conditions.member.1.Field", "source-ip"},
                     {"Conditions.member.1.SourceIpConfig.Values.member.1", "::/0"}}),
            "");
}

TEST(RuleConditions, ConfigsAndLegacyValuesAreCheckedAsTheAlbDoes) {
  EXPECT_EQ(Refusal({{"Conditions.member.1.Field", "source-ip"},
                     {"Conditions.member.1.Values.member.1", "1.2.3.4/32"}}),
            "The 'Values' field is not compatible with 'source-ip'");
  EXPECT_EQ(Refusal({{"Conditions.member.1.Field", "path-pattern"},
                     {"Conditions.member.1.Values.member.1", "/a"},
                     {"Conditions.member.1.PathPatternConfig.Values.member.1", "/b"}}),
            "You cannot provide both Values and 'PathPatternConfig' for a condition of type "
            "'path-pattern'");
  EXPECT_EQ(Refusal({{"Conditions.member.1.Field", "path-pattern"},
                     {"Conditions.member.1.Values.member.1", "/a"},
                     {"Conditions.member.1.Values.member.2", "/b"}}),
            "The 'path-pattern' field contains too many values; the limit is '1'");
  EXPECT_EQ(Refusal({{"Conditions.member.1.Field", "source-ip"}}),
            "A 'SourceIpConfig' must be specified with 'source-ip'");
  EXPECT_EQ(Refusal({{"Conditions.member.1.Field", "host-header"}}),
            "A condition value must be specified");
  EXPECT_EQ(Refusal({{"Conditions.member.1.Values.member.1", "/a"}}),
            "A condition field must be specified");
  EXPECT_EQ(Refusal({{"Conditions.member.1.Field", "source-ip"},
                     {"Conditions.member.1.HostHeaderConfig.Values.member.1", "a.example.com"}}),
            "'HostHeaderConfig' cannot be specified for a condition of type 'source-ip'");
}

TEST(RuleConditions, UnknownAndUnservedFieldsAreRefused) {
  EXPECT_NE(Refusal({{"Conditions.member.1.Field", "client-cert"},
                     {"Conditions.member.1.Values.member.1", "x"}})
                .find("Condition field 'client-cert' must be one of"),
            std::string::npos);
  EXPECT_NE(Refusal({{"Conditions.member.1.Field", "query-string"},
                     {"Conditions.member.1.QueryStringConfig.Values.member.1.Value", "x"}}),
            "");
  EXPECT_NE(Refusal({{"Conditions.member.1.Field", "path-pattern"},
                     {"Conditions.member.1.PathPatternConfig.RegexValues.member.1", "^/a$"}}),
            "");
}

TEST(RuleConditions, SourceIpPathAndHostMayAppearOnceButHeadersRepeat) {
  EXPECT_EQ(Refusal({{"Conditions.member.1.Field", "source-ip"},
                     {"Conditions.member.1.SourceIpConfig.Values.member.1", "1.2.3.4/32"},
                     {"Conditions.member.2.Field", "source-ip"},
                     {"Conditions.member.2.SourceIpConfig.Values.member.1", "1.2.3.5/32"}}),
            "A rule can only have one 'source-ip' condition");
  EXPECT_EQ(Refusal({{"Conditions.member.1.Field", "http-header"},
                     {"Conditions.member.1.HttpHeaderConfig.HttpHeaderName", "a"},
                     {"Conditions.member.1.HttpHeaderConfig.Values.member.1", "1"},
                     {"Conditions.member.2.Field", "http-header"},
                     {"Conditions.member.2.HttpHeaderConfig.HttpHeaderName", "b"},
                     {"Conditions.member.2.HttpHeaderConfig.Values.member.1", "2"}}),
            "");
}

TEST(RuleConditions, HeaderNamesAndPatternsAreBounded) {
  auto header = [](const std::string& name, const std::string& value) {
    return Refusal({{"Conditions.member.1.Field", "http-header"},
                    {"Conditions.member.1.HttpHeaderConfig.HttpHeaderName", name},
                    {"Conditions.member.1.HttpHeaderConfig.Values.member.1", value}});
  };
  EXPECT_EQ(header("X-Ok", "v"), "");
  EXPECT_EQ(header(std::string(41, 'a'), "v"),
            "The 'HttpHeaderName' value is too long; the limit is '40'");
  EXPECT_NE(header("X Bad", "v"), "");
  EXPECT_NE(header("X:Bad", "v"), "");
  EXPECT_NE(header("X-*", "v"), "");   // no wildcards in names
  EXPECT_NE(header("HOST", "v"), "");  // host-header matches the host
  EXPECT_NE(header("", "v"), "");
  EXPECT_EQ(header("X-Ok", std::string(129, 'v')),
            "The 'http-header' value is too long; the limit is '128'");
  EXPECT_NE(header("X-Ok", "a\r\nb"), "");
  EXPECT_NE(header("X-Ok", "******"), "");  // six wildcards
  EXPECT_NE(Refusal({{"Conditions.member.1.Field", "path-pattern"},
                     {"Conditions.member.1.PathPatternConfig.Values.member.1", "/a b"}}),
            "");
  EXPECT_NE(Refusal({{"Conditions.member.1.Field", "host-header"},
                     {"Conditions.member.1.HostHeaderConfig.Values.member.1", "a_b.example.com"}}),
            "");
}

TEST(RuleConditions, RendersEachFieldInItsConfigAndLegacyValuesForPathAndHost) {
  RuleCondition ip{"source-ip", {"127.0.0.2/32"}, ""};
  RuleCondition header{"http-header", {"beta"}, "X-Channel"};
  RuleCondition path{"path-pattern", {"/api/*"}, ""};
  EXPECT_EQ(ConditionsXml({ip}),
            "<member><Field>source-ip</Field><SourceIpConfig><Values><member>127.0.0.2/32</"
            "member></Values>"
            "</SourceIpConfig></member>");
  EXPECT_EQ(ConditionsXml({header}),
            "<member><Field>http-header</Field><HttpHeaderConfig><HttpHeaderName>X-Channel</"
            "HttpHeaderName>"
            "<Values><member>beta</member></Values></HttpHeaderConfig></member>");
  EXPECT_EQ(ConditionsXml({path}),
            "<member><Field>path-pattern</Field><Values><member>/api/*</member></"
            "Values><PathPatternConfig>"
            "<Values><member>/api/*</member></Values></PathPatternConfig></member>");
}

}  // namespace slipway::engine
