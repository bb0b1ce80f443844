// The allowlist's rules: split into rules of at most 5 condition values, placed in stable
// priorities, compared with what the listener holds, and the verify source chosen.
#include "deploy/allowlist.h"

#include <gtest/gtest.h>

#include "aws/aws_client.h"
#include "aws/testing/query_transport.h"
#include "deploy/allowlist_sync.h"

namespace slipway::deploy {
namespace {

const std::map<std::string, std::string> kTgs{{"web", "arn:tg/web"}, {"api", "arn:tg/api"}};

// dev: web behind the default action, api on /api/* at priority 10.
config::Environment Env() {
  config::Environment env;
  env.name = "dev";
  env.services["web"].service_name = "demo-dev-web";
  env.services["api"].service_name = "demo-dev-api";
  env.services["api"].path_pattern = "/api/*";
  env.services["api"].priority = 10;
  return env;
}

std::vector<std::string> Cidrs(int n) {
  std::vector<std::string> out;
  for (int i = 1; i <= n; ++i) out.push_back("10.0.0." + std::to_string(i) + "/32");
  return out;
}

aws::Rule Live(const WantedRule& w, const std::string& arn) {
  return {arn, std::to_string(w.priority), w.conditions, {w.action}};
}

std::vector<aws::Rule> LiveOf(const std::vector<WantedRule>& wanted) {
  std::vector<aws::Rule> out{{"arn:rule/default", "default", {}, {aws::ForwardTo("arn:tg/web")}}};
  for (size_t i = 0; i < wanted.size(); ++i) out.push_back(Live(wanted[i], "arn:rule/" + std::to_string(i)));
  return out;
}

TEST(WantedRules, WithoutAllowlistArePathRulesAtTheirPriorities) {
  auto rules = WantedRules(Env(), kTgs);
  ASSERT_TRUE(rules) << rules.error().message;
  ASSERT_EQ(rules->size(), 1u);
  EXPECT_EQ((*rules)[0].priority, 10);
  EXPECT_EQ((*rules)[0].role, "path");
  EXPECT_EQ((*rules)[0].action.target_group_arn, "arn:tg/api");
}

TEST(WantedRules, SplitSevenBlocksIntoRulesOfAtMostFiveValues) {
  auto env = Env();
  env.allow = Cidrs(7);
  auto rules = WantedRules(env, kTgs);
  ASSERT_TRUE(rules) << rules.error().message;
  // api: its path takes one of a rule's five values, so 4 + 3 blocks, then its 403.
  // web: 5 + 2 blocks, then the catch-all 403.
  std::vector<std::pair<int, std::string>> got;
  for (const auto& r : *rules) {
    size_t values = 0;
    for (const auto& c : r.conditions) values += c.values.size();
    if (r.role == "allow") {
      EXPECT_LE(values, 5u) << DescribeWanted(r);
    }
    got.emplace_back(r.priority, r.service + " " + r.role + " " + std::to_string(values));
  }
  EXPECT_EQ(got, (std::vector<std::pair<int, std::string>>{{47001, "api allow 5"},
                                                            {47002, "api allow 4"},
                                                            {47100, "api deny 1"},
                                                            {49901, "web allow 5"},
                                                            {49902, "web allow 2"},
                                                            {50000, "web deny 2"}}));
  EXPECT_EQ(rules->back().action.fixed_response.status_code, "403");
  // Every block is sent once: none lost, none twice.
  std::vector<std::string> seen;
  for (const auto& r : *rules) {
    for (const auto& c : r.conditions) {
      if (c.field == "source-ip" && r.role == "allow" && r.service == "web") seen.insert(seen.end(), c.values.begin(), c.values.end());
    }
  }
  EXPECT_EQ(seen, Cidrs(7));
}

TEST(WantedRules, FiveBlocksFitOneRuleOfTheDefaultService) {
  auto env = Env();
  env.services.erase("api");
  env.allow = Cidrs(5);
  auto rules = WantedRules(env, kTgs);
  ASSERT_TRUE(rules);
  ASSERT_EQ(rules->size(), 2u);
  EXPECT_EQ((*rules)[0].conditions[0].values.size(), 5u);
  env.allow = Cidrs(6);
  EXPECT_EQ(WantedRules(env, kTgs)->size(), 3u);
}

TEST(WantedRules, AnOpenServiceKeepsItsRouteInTheBandAndAnEmptyListAdmitsNoOne) {
  auto env = Env();
  env.services["web"].allow = std::vector<std::string>{};
  auto rules = WantedRules(env, kTgs);
  ASSERT_TRUE(rules);
  ASSERT_EQ(rules->size(), 2u);
  EXPECT_EQ((*rules)[0].role, "open");  // api: no allow, still routed ahead of web's 403
  EXPECT_EQ((*rules)[0].priority, 47001);
  EXPECT_EQ((*rules)[1].role, "deny");
  EXPECT_EQ((*rules)[1].priority, 50000);
}

TEST(WantedRules, AddingABlockMovesNoOtherRule) {
  auto env = Env();
  env.allow = Cidrs(3);
  auto before = WantedRules(env, kTgs);
  env.allow = Cidrs(9);
  auto after = WantedRules(env, kTgs);
  auto drift = DiffRules(*after, LiveOf(*before), env, kTgs);
  EXPECT_EQ(drift.extra.size(), 0u);
  EXPECT_EQ(drift.missing.size(), 3u);  // api: 47002 and 47003; web: 49902
  EXPECT_EQ(drift.changed.size(), 2u);  // the first rule of each grew
}

TEST(DiffRules, NoDriftWhenTheListenerHoldsWhatTheConfigWants) {
  auto env = Env();
  env.allow = std::vector<std::string>{"127.0.0.2/32", "2001:db8::/32"};
  auto wanted = *WantedRules(env, kTgs);
  auto live = LiveOf(wanted);
  // AWS may return the blocks in another order and spelling: same rule.
  live[1].conditions.back().values = {"2001:DB8:0::/32", "127.0.0.2/32"};
  auto drift = DiffRules(wanted, live, env, kTgs);
  EXPECT_FALSE(drift.Any()) << testing::PrintToString(DriftLines(drift));
  EXPECT_EQ(drift.matching.size(), wanted.size());
}

TEST(DiffRules, NamesMissingChangedAndExtraRules) {
  auto env = Env();
  env.allow = std::vector<std::string>{"127.0.0.2/32"};
  auto old_rules = *WantedRules(env, kTgs);
  env.allow = std::vector<std::string>{"127.0.0.3/32"};
  env.services["api"].allow = Cidrs(5);
  auto wanted = *WantedRules(env, kTgs);
  auto drift = DiffRules(wanted, LiveOf(old_rules), env, kTgs);
  ASSERT_TRUE(drift.Any());
  EXPECT_EQ(drift.missing.size(), 1u);  // api's second rule
  EXPECT_EQ(drift.changed.size(), 2u);  // api's and web's first rules
  EXPECT_EQ(drift.extra.size(), 0u);
  // Then the allowlist goes: the band is deleted and the path rule comes back.
  env.allow.reset();
  env.services["api"].allow.reset();
  auto open = DiffRules(*WantedRules(env, kTgs), LiveOf(wanted), env, kTgs);
  EXPECT_EQ(open.missing.size(), 1u);
  EXPECT_EQ(open.missing[0].priority, 10);
  EXPECT_EQ(open.extra.size(), wanted.size());
}

TEST(DiffRules, TheOpenPathRuleGoesWhenAnAllowlistComes) {
  auto env = Env();
  auto path_rules = *WantedRules(env, kTgs);
  env.allow = Cidrs(1);
  auto drift = DiffRules(*WantedRules(env, kTgs), LiveOf(path_rules), env, kTgs);
  ASSERT_EQ(drift.extra.size(), 1u);
  EXPECT_EQ(drift.extra[0].priority, "10");
}

TEST(DiffRules, LeavesRulesItDoesNotOwnAlone) {
  auto env = Env();
  env.allow = Cidrs(1);
  auto wanted = *WantedRules(env, kTgs);
  auto live = LiveOf(wanted);
  // Someone's own rules: below the band, and in it doing something slipway never does.
  live.push_back({"arn:rule/theirs", "5", {{"host-header", {"admin.example.com"}, "", {}}}, {aws::ForwardTo("arn:tg/x")}});
  live.push_back({"arn:rule/also", "48000", {{"path-pattern", {"/x"}, "", {}}}, {aws::ForwardTo("arn:tg/x")}});
  live.push_back({"arn:rule/same-tg", "20", {{"path-pattern", {"/api/*"}, "", {}}}, {aws::ForwardTo("arn:tg/api")}});
  auto drift = DiffRules(wanted, live, env, kTgs);
  EXPECT_FALSE(drift.Any()) << testing::PrintToString(DriftLines(drift));
  EXPECT_EQ(drift.foreign.size(), 3u);
  // A foreign rule at a priority slipway wants is reported, never modified.
  live.push_back({"arn:rule/squatter", "47002", {{"path-pattern", {"/y"}, "", {}}}, {aws::ForwardTo("arn:tg/x")}});
  env.allow = Cidrs(5);
  drift = DiffRules(*WantedRules(env, kTgs), live, env, kTgs);
  ASSERT_EQ(drift.blocked.size(), 1u);
  EXPECT_EQ(drift.blocked[0].priority, 47002);
}

TEST(VerifyAccess, SendsFromAListedLoopbackAddress) {
  auto env = Env();
  env.verify = {{"/", 200, ""}, {"/api/x", 200, ""}};
  EXPECT_EQ(VerifyAccessFor(env).source, "");
  env.allow = std::vector<std::string>{"10.0.0.0/8", "127.0.0.2/32"};
  auto access = VerifyAccessFor(env);
  EXPECT_EQ(access.source, "127.0.0.2");
  EXPECT_TRUE(access.warnings.empty());
  env.allow = std::vector<std::string>{"127.0.0.0/8"};
  EXPECT_EQ(VerifyAccessFor(env).source, "");  // 127.0.0.1 is listed
  env.allow = std::vector<std::string>{"127.0.5.0/24"};
  EXPECT_EQ(VerifyAccessFor(env).source, "127.0.5.1");
}

TEST(VerifyAccess, WarnsWhenNoListedAddressCanReachEveryCheck) {
  auto env = Env();
  env.verify = {{"/", 200, ""}, {"/api/x", 200, ""}};
  env.allow = std::vector<std::string>{"203.0.113.7/32"};
  auto access = VerifyAccessFor(env);
  ASSERT_EQ(access.warnings.size(), 1u);
  EXPECT_NE(access.warnings[0].find("blocks verify"), std::string::npos);
  // Two lists with no loopback address in common block verify too.
  env.allow = std::vector<std::string>{"127.0.0.2/32"};
  env.services["api"].allow = std::vector<std::string>{"127.0.0.3/32"};
  EXPECT_EQ(VerifyAccessFor(env).warnings.size(), 1u);
  // A service that runs no task is not verified.
  env.services["api"].desired_count = 0;
  EXPECT_TRUE(VerifyAccessFor(env).warnings.empty());
}

TEST(VerifyAccess, OnAwsSaysItCannotKnowItsOwnAddress) {
  auto env = Env();
  env.provider = "aws";
  env.verify = {{"/", 200, ""}};
  env.allow = std::vector<std::string>{"203.0.113.7/32"};
  ASSERT_EQ(VerifyAccessFor(env).warnings.size(), 1u);
  EXPECT_NE(VerifyAccessFor(env).warnings[0].find("cannot know"), std::string::npos);
  env.allow = std::vector<std::string>{"0.0.0.0/0"};
  EXPECT_TRUE(VerifyAccessFor(env).warnings.empty());
}

TEST(RuleDriftOf, RefusesUpFrontWhatTheLoadBalancerCannotHold) {
  // 495 blocks: 99 rules of five and the 403, on a listener that already holds a rule of its own.
  config::Environment env = Env();
  env.services.erase("api");
  std::vector<std::string> blocks;
  for (int i = 0; i < 495; ++i) blocks.push_back("10." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ".0/24");
  env.allow = blocks;
  const std::map<std::string, std::string> tgs{{"web", "arn:tg/web"}};
  ListenerRules read{"arn:lb", "arn:listener", tgs,
                     {{"arn:rule/default", "default", {}, {aws::ForwardTo("arn:tg/web")}},
                      {"arn:rule/mine", "1", {{"path-pattern", {"/old"}}}, {aws::ForwardTo("arn:tg/other")}}}};
  auto drift = RuleDriftOf(env, read);
  ASSERT_FALSE(drift);
  EXPECT_NE(drift.error().message.find("would hold 101 rules"), std::string::npos) << drift.error().message;
  EXPECT_NE(drift.error().message.find("nothing was changed"), std::string::npos);
  // Without the rule of its own, the same list fits exactly.
  read.rules.pop_back();
  auto fits = RuleDriftOf(env, read);
  ASSERT_TRUE(fits) << fits.error().message;
  EXPECT_EQ(fits->missing.size(), 100u);
}

TEST(ApplyRuleDrift, CreatesEachListsForbiddenRuleFirstAndNamesWhatItAppliedWhenCutShort) {
  config::Environment env = Env();
  env.services.erase("api");
  env.allow = Cidrs(7);
  const std::map<std::string, std::string> tgs{{"web", "arn:tg/web"}};
  auto drift = RuleDriftOf(env, {"arn:lb", "arn:listener", tgs, {}});
  ASSERT_TRUE(drift) << drift.error().message;
  ASSERT_EQ(drift->missing.size(), 3u);  // two allow rules, then the 403
  aws::testing::QueryTransport t;
  t.Reply("<CreateRuleResponse><CreateRuleResult><Rules><member><RuleArn>arn:rule/1</RuleArn>"
          "<Priority>50000</Priority></member></Rules></CreateRuleResult></CreateRuleResponse>");
  t.Reply("<ErrorResponse><Error><Type>Sender</Type><Code>TooManyRules</Code><Message>too many rules</Message>"
          "</Error><RequestId>r</RequestId></ErrorResponse>", 400);
  FakeClock clock;
  aws::AwsClient client(t, clock, {"AKID", "SECRET", ""}, {"us-east-1", "http://x"});
  auto done = ApplyRuleDrift(client, "arn:listener", *drift);
  ASSERT_FALSE(done);
  ASSERT_GE(t.sent.size(), 2u);
  EXPECT_EQ(t.sent[0]["Action"], "CreateRule");
  EXPECT_EQ(t.sent[0]["Actions.member.1.Type"], "fixed-response");  // the 403 before any allow rule
  EXPECT_EQ(t.sent[1]["Actions.member.1.Type"], "forward");
  EXPECT_EQ(done.error().code, "TooManyRules");
  EXPECT_NE(done.error().message.find("already applied: created rule"), std::string::npos) << done.error().message;
}

}  // namespace
}  // namespace slipway::deploy
