// Listener rules through the control plane: what a caller is answered is stored, in effect in
// the routing the proxy holds, and still there after a restart.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include "engine/control_plane.h"

namespace slipway::engine {
namespace {

/// A data plane that keeps the last routing snapshot published to it.
class RecordingDataPlane final : public DataPlane {
 public:
  Result<void> OpenListener(const std::string&, int) override { return {}; }
  void Publish(std::shared_ptr<const RoutingTable> table) override { last = std::move(table); }
  void Check(const HealthCheckSpec&, std::function<void(HealthCheckResult)>) override {}
  std::shared_ptr<const RoutingTable> last;
};

/// The text of the first <tag> in `xml`.
std::string Text(const std::string& xml, const std::string& tag, size_t from = 0) {
  const size_t at = xml.find("<" + tag + ">", from);
  if (at == std::string::npos) return "";
  const size_t start = at + tag.size() + 2;
  return xml.substr(start, xml.find("</" + tag + ">", start) - start);
}

class ElbRulesApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int test_number = 0;
    dir_ =
        std::filesystem::temp_directory_path() /
        ("slipway-elb-rules-" + std::to_string(::getpid()) + "-" + std::to_string(++test_number));
    std::filesystem::create_directories(dir_);
    logs_ = std::move(*LogService::Open((dir_ / "logs.db").string()));
    Open();
    const std::string lb = Text(Elb("CreateLoadBalancer", {{"Name", "lb"}}), "LoadBalancerArn");
    tg_ = Text(Elb("CreateTargetGroup", {{"Name", "tg"}, {"Port", "80"}, {"VpcId", "vpc-local"}}),
               "TargetGroupArn");
    listener_ = Text(
        Elb("CreateListener", {{"LoadBalancerArn", lb},
                               {"Port", "18080"},
                               {"DefaultActions.member.1.Type", "fixed-response"},
                               {"DefaultActions.member.1.FixedResponseConfig.StatusCode", "403"}}),
        "ListenerArn");
  }
  /// A store and control plane over the data dir, as an engine start makes them.
  void Open() {
    control_.reset();
    store_ = std::move(*Store::Open((dir_ / "engine.db").string()));
    runtime_ = std::make_unique<ExecRuntime>();
    ControlPlaneOptions o{dir_.string(), "127.0.0.1", {{"PATH", "/usr/bin:/bin"}}};
    control_ = std::make_unique<ControlPlane>(clock_, *runtime_, plane_, *store_, *logs_, o);
    auto loaded = control_->Load();
    ASSERT_TRUE(loaded) << loaded.error().message;
  }
  void TearDown() override {
    control_->Shutdown(Millis(100));
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string Elb(const std::string& action, const QueryParams& p) {
    auto r = control_->HandleElb(action, p);
    EXPECT_TRUE(r) << action << ": " << (r ? "" : r.error().code + " " + r.error().message);
    return r ? *r : "";
  }
  /// The error code `action` is refused with, or "" when it succeeds.
  std::string Refusal(const std::string& action, const QueryParams& p) {
    auto r = control_->HandleElb(action, p);
    return r ? "" : r.error().code;
  }
  std::string SourceRule(int priority, const std::string& cidr) {
    return Text(Elb("CreateRule", {{"ListenerArn", listener_},
                                   {"Priority", std::to_string(priority)},
                                   {"Conditions.member.1.Field", "source-ip"},
                                   {"Conditions.member.1.SourceIpConfig.Values.member.1", cidr},
                                   {"Actions.member.1.Type", "forward"},
                                   {"Actions.member.1.TargetGroupArn", tg_}}),
                "RuleArn");
  }
  /// Priorities of the listener's rules as DescribeRules lists them.
  std::vector<std::string> Priorities() {
    const std::string xml = Elb("DescribeRules", {{"ListenerArn", listener_}});
    std::vector<std::string> out;
    for (size_t at = xml.find("<Priority>"); at != std::string::npos;
         at = xml.find("<Priority>", at + 1)) {
      out.push_back(Text(xml, "Priority", at));
    }
    return out;
  }
  const ListenerRoutes& Routes() { return plane_.last->listeners.at(18080); }

  std::filesystem::path dir_;
  FakeClock clock_;
  RecordingDataPlane plane_;
  std::unique_ptr<ExecRuntime> runtime_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<LogService> logs_;
  std::unique_ptr<ControlPlane> control_;
  std::string tg_, listener_;
};

TEST_F(ElbRulesApiTest, ARuleIsInTheProxysRoutingByTheTimeItsAnswerArrives) {
  SourceRule(10, "127.0.0.2/32");
  ASSERT_TRUE(plane_.last);
  ASSERT_EQ(Routes().rules.size(), 2u);
  EXPECT_EQ(Routes().rules[0].source_blocks, std::vector<Cidr>{*ParseCidr("127.0.0.2/32")});
  EXPECT_EQ(MatchRoute(Routes(), {"h", "/", *ParseIp("127.0.0.2"), nullptr})->target_group_arn,
            tg_);
  EXPECT_EQ(MatchRoute(Routes(), {"h", "/", *ParseIp("127.0.0.1"), nullptr})->fixed_status, 403);
}

TEST_F(ElbRulesApiTest, SetRulePrioritiesAppliesEveryPairOrNone) {
  const std::string a = SourceRule(10, "10.0.0.1/32");
  const std::string b = SourceRule(20, "10.0.0.2/32");
  // Moving a onto b's priority alone collides; nothing moves.
  EXPECT_EQ(Refusal("SetRulePriorities", {{"RulePriorities.member.1.RuleArn", a},
                                          {"RulePriorities.member.1.Priority", "20"}}),
            "PriorityInUse");
  EXPECT_EQ(Priorities(), (std::vector<std::string>{"10", "20", "default"}));
  // Swapping them in one call is fine.
  Elb("SetRulePriorities", {{"RulePriorities.member.1.RuleArn", a},
                            {"RulePriorities.member.1.Priority", "20"},
                            {"RulePriorities.member.2.RuleArn", b},
                            {"RulePriorities.member.2.Priority", "10"}});
  EXPECT_EQ(Routes().rules[0].source_blocks, std::vector<Cidr>{*ParseCidr("10.0.0.2/32")});
  EXPECT_EQ(Refusal("SetRulePriorities", {{"RulePriorities.member.1.RuleArn", a + "x"},
                                          {"RulePriorities.member.1.Priority", "30"}}),
            "RuleNotFound");
}

TEST_F(ElbRulesApiTest, TheDefaultRuleIsTheListenersDefaultActions) {
  const std::string xml = Elb("DescribeRules", {{"ListenerArn", listener_}});
  const std::string def = Text(xml, "RuleArn");
  EXPECT_EQ(Text(xml, "IsDefault"), "true");
  EXPECT_NE(def.find(":listener-rule/"), std::string::npos);
  EXPECT_EQ(Refusal("DeleteRule", {{"RuleArn", def}}), "OperationNotPermitted");
  EXPECT_EQ(
      Refusal("ModifyRule", {{"RuleArn", def},
                             {"Conditions.member.1.Field", "path-pattern"},
                             {"Conditions.member.1.PathPatternConfig.Values.member.1", "/x"}}),
      "OperationNotPermitted");
  Elb("ModifyRule", {{"RuleArn", def},
                     {"Actions.member.1.Type", "fixed-response"},
                     {"Actions.member.1.FixedResponseConfig.StatusCode", "503"}});
  EXPECT_EQ(Text(Elb("DescribeListeners", {{"ListenerArns.member.1", listener_}}), "StatusCode"),
            "503");
  EXPECT_EQ(Routes().rules.back().fixed_status, 503);
}

TEST_F(ElbRulesApiTest, RulesAndTheirHeaderConditionsSurviveARestart) {
  const std::string arn =
      Text(Elb("CreateRule", {{"ListenerArn", listener_},
                              {"Priority", "7"},
                              {"Conditions.member.1.Field", "http-header"},
                              {"Conditions.member.1.HttpHeaderConfig.HttpHeaderName", "X-Channel"},
                              {"Conditions.member.1.HttpHeaderConfig.Values.member.1", "beta"},
                              {"Actions.member.1.Type", "forward"},
                              {"Actions.member.1.TargetGroupArn", tg_}}),
           "RuleArn");
  const std::string before = Elb("DescribeRules", {{"RuleArns.member.1", arn}});
  control_->Shutdown(Millis(100));
  plane_.last.reset();
  Open();
  EXPECT_EQ(Elb("DescribeRules", {{"RuleArns.member.1", arn}}), before);
  control_->Tick();
  ASSERT_TRUE(plane_.last);
  ASSERT_EQ(Routes().rules[0].headers.size(), 1u);
  EXPECT_EQ(Routes().rules[0].headers[0].name, "X-Channel");
}

TEST_F(ElbRulesApiTest, AForwardToTwoWeightedTargetGroupsIsRefusedNotNarrowedToTheFirst) {
  const std::string other =
      Text(Elb("CreateTargetGroup", {{"Name", "tg2"}, {"Port", "80"}, {"VpcId", "vpc-local"}}),
           "TargetGroupArn");
  QueryParams weighted = {
      {"ListenerArn", listener_},
      {"Priority", "5"},
      {"Conditions.member.1.Field", "path-pattern"},
      {"Conditions.member.1.PathPatternConfig.Values.member.1", "/x"},
      {"Actions.member.1.Type", "forward"},
      {"Actions.member.1.ForwardConfig.TargetGroups.member.1.TargetGroupArn", tg_},
      {"Actions.member.1.ForwardConfig.TargetGroups.member.1.Weight", "0"},
      {"Actions.member.1.ForwardConfig.TargetGroups.member.2.TargetGroupArn", other},
      {"Actions.member.1.ForwardConfig.TargetGroups.member.2.Weight", "100"}};
  auto r = control_->HandleElb("CreateRule", weighted);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "ValidationError");
  EXPECT_NE(r.error().message.find("one target group per action"), std::string::npos);
  // The listener's default actions read the same way.
  const std::string def = Text(Elb("DescribeRules", {{"ListenerArn", listener_}}), "RuleArn");
  EXPECT_EQ(
      Refusal("ModifyRule",
              {{"RuleArn", def},
               {"Actions.member.1.Type", "forward"},
               {"Actions.member.1.ForwardConfig.TargetGroups.member.1.TargetGroupArn", tg_},
               {"Actions.member.1.ForwardConfig.TargetGroups.member.2.TargetGroupArn", other}}),
      "ValidationError");
  EXPECT_EQ(Priorities(), (std::vector<std::string>{"default"}));
}

TEST_F(ElbRulesApiTest, ATargetGroupArnMustBeTheSameGroupAsItsForwardConfig) {
  const std::string other =
      Text(Elb("CreateTargetGroup", {{"Name", "tg2"}, {"Port", "80"}, {"VpcId", "vpc-local"}}),
           "TargetGroupArn");
  QueryParams p = {{"ListenerArn", listener_},
                   {"Priority", "5"},
                   {"Conditions.member.1.Field", "path-pattern"},
                   {"Conditions.member.1.PathPatternConfig.Values.member.1", "/x"},
                   {"Actions.member.1.Type", "forward"},
                   {"Actions.member.1.TargetGroupArn", tg_},
                   {"Actions.member.1.ForwardConfig.TargetGroups.member.1.TargetGroupArn", other}};
  EXPECT_EQ(Refusal("CreateRule", p), "ValidationError");
  // The same group both ways is only redundant, and a lone ForwardConfig group is the target.
  p["Actions.member.1.TargetGroupArn"] = other;
  Elb("CreateRule", p);
  p.erase("Actions.member.1.TargetGroupArn");
  p["Priority"] = "6";
  Elb("CreateRule", p);
  ASSERT_EQ(Routes().rules.size(), 3u);
  EXPECT_EQ(Routes().rules[0].target_group_arn, other);
  EXPECT_EQ(Routes().rules[1].target_group_arn, other);
}

TEST_F(ElbRulesApiTest, ALoadBalancerHoldsAtMostOneHundredRulesBesidesItsDefaults) {
  // Given 99 rules on one listener and one on a second listener of the same load balancer.
  const std::string lb =
      Text(Elb("DescribeListeners", {{"ListenerArns.member.1", listener_}}), "LoadBalancerArn");
  const std::string second = Text(
      Elb("CreateListener", {{"LoadBalancerArn", lb},
                             {"Port", "18081"},
                             {"DefaultActions.member.1.Type", "fixed-response"},
                             {"DefaultActions.member.1.FixedResponseConfig.StatusCode", "403"}}),
      "ListenerArn");
  for (int i = 1; i <= 99; ++i) SourceRule(i, "10.0.0.1/32");
  QueryParams rule = {{"ListenerArn", second},
                      {"Priority", "1"},
                      {"Conditions.member.1.Field", "source-ip"},
                      {"Conditions.member.1.SourceIpConfig.Values.member.1", "10.0.0.1/32"},
                      {"Actions.member.1.Type", "forward"},
                      {"Actions.member.1.TargetGroupArn", tg_}};
  Elb("CreateRule", rule);
  // Then a 101st is refused on either listener.
  rule["Priority"] = "2";
  EXPECT_EQ(Refusal("CreateRule", rule), "TooManyRules");
  rule["ListenerArn"] = listener_;
  rule["Priority"] = "100";
  EXPECT_EQ(Refusal("CreateRule", rule), "TooManyRules");
  EXPECT_EQ(Routes().rules.size(), 100u);
}

TEST_F(ElbRulesApiTest, AMappedIpv4SourceBlockMatchesIpv4Peers) {
  SourceRule(10, "::ffff:127.0.0.0/104");
  EXPECT_EQ(MatchRoute(Routes(), {"h", "/", *ParseIp("127.0.0.2"), nullptr})->target_group_arn,
            tg_);
  EXPECT_EQ(MatchRoute(Routes(), {"h", "/", *ParseIp("10.0.0.2"), nullptr})->fixed_status, 403);
}

}  // namespace
}  // namespace slipway::engine
