// Elbv2 against a scripted transport: the parameters each call sends, and replies shaped as
// ELBv2 sends them (<ActionResponse><ActionResult>, <member> lists), paged and garbled.
#include "aws/elbv2.h"

#include <gtest/gtest.h>

#include "aws/aws_client.h"
#include "aws/testing/query_transport.h"

namespace slipway::aws {
namespace {

using Params = std::map<std::string, std::string>;

// An ELBv2 reply to `action` whose result holds `inner`.
std::string Reply(const std::string& action, const std::string& inner) {
  return "<" + action +
         "Response xmlns=\"http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/\">\n  <" +
         action + "Result>\n" + inner + "\n  </" + action +
         "Result>\n  <ResponseMetadata><RequestId>6581c0ac-f39f-11e5-bb98-57195a6eb84a</RequestId>"
         "</ResponseMetadata>\n</" +
         action + "Response>\n";
}

std::string ErrorReply(const std::string& code, const std::string& message) {
  return "<ErrorResponse "
         "xmlns=\"http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/\"><Error><Type>Sender"
         "</Type><Code>" +
         code + "</Code><Message>" + message +
         "</Message></Error><RequestId>r</RequestId></ErrorResponse>";
}

constexpr const char* kLbArn =
    "arn:aws:elasticloadbalancing:us-west-2:123456789012:loadbalancer/app/shop-prod/"
    "50dc6c495c0c9188";
constexpr const char* kTgArn =
    "arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/shop-prod-web/"
    "73e2d6bc24d8a067";
constexpr const char* kListenerArn =
    "arn:aws:elasticloadbalancing:us-west-2:123456789012:listener/app/shop-prod/50dc6c495c0c9188/"
    "f2f7dc8efc522ab2";

const char* const kLoadBalancerMember = R"(
    <LoadBalancers>
      <member>
        <LoadBalancerArn>arn:aws:elasticloadbalancing:us-west-2:123456789012:loadbalancer/app/shop-prod/50dc6c495c0c9188</LoadBalancerArn>
        <Scheme>internet-facing</Scheme>
        <LoadBalancerName>shop-prod</LoadBalancerName>
        <VpcId>vpc-3ac0fb5f</VpcId>
        <CanonicalHostedZoneId>Z2P70J7EXAMPLE</CanonicalHostedZoneId>
        <CreatedTime>2016-03-25T21:26:12.920Z</CreatedTime>
        <AvailabilityZones>
          <member><SubnetId>subnet-8360a9e7</SubnetId><ZoneName>us-west-2a</ZoneName></member>
          <member><SubnetId>subnet-b7d581c0</SubnetId><ZoneName>us-west-2b</ZoneName></member>
        </AvailabilityZones>
        <SecurityGroups><member>sg-5943793c</member><member>sg-6a1b2c3d</member></SecurityGroups>
        <State><Code>active</Code></State>
        <DNSName>shop-prod-424835706.us-west-2.elb.amazonaws.com</DNSName>
        <Type>application</Type>
      </member>
    </LoadBalancers>)";

class Elbv2Test : public ::testing::Test {
 protected:
  testing::QueryTransport transport_;
  FakeClock clock_;
  AwsClient client_{transport_, clock_, Credentials{"AKID", "SECRET", ""},
                    Endpoint{"us-west-2", "http://x"}};
  Elbv2 elb_{client_};
};

TEST_F(Elbv2Test, DescribeLoadBalancersReadsWhatSlipwayUses) {
  transport_.Reply(Reply("DescribeLoadBalancers", kLoadBalancerMember));
  auto lbs = elb_.DescribeLoadBalancers({"shop-prod", "shop dev"});
  ASSERT_TRUE(lbs) << lbs.error().message;
  EXPECT_EQ(transport_.sent[0], (Params{{"Action", "DescribeLoadBalancers"},
                                        {"Version", "2015-12-01"},
                                        {"Names.member.1", "shop-prod"},
                                        {"Names.member.2", "shop dev"}}));
  ASSERT_EQ(lbs->size(), 1u);
  const LoadBalancer& lb = lbs->front();
  EXPECT_EQ(lb.arn, kLbArn);
  EXPECT_EQ(lb.name, "shop-prod");
  EXPECT_EQ(lb.dns_name, "shop-prod-424835706.us-west-2.elb.amazonaws.com");
  EXPECT_EQ(lb.scheme, "internet-facing");
  EXPECT_EQ(lb.vpc_id, "vpc-3ac0fb5f");
  EXPECT_EQ(lb.security_groups, (std::vector<std::string>{"sg-5943793c", "sg-6a1b2c3d"}));
}

TEST_F(Elbv2Test, FindLoadBalancerIsEmptyWhenElbv2KnowsNoneAndFailsOnOtherErrors) {
  transport_.Reply(ErrorReply("LoadBalancerNotFound", "One or more load balancers not found"), 400);
  transport_.Reply(Reply("DescribeLoadBalancers", "<LoadBalancers/>"));
  transport_.Reply(ErrorReply("AccessDenied", "not authorized to perform: DescribeLoadBalancers"),
                   403);
  transport_.Reply(Reply("DescribeLoadBalancers", kLoadBalancerMember));

  auto refused = elb_.FindLoadBalancer("shop-prod");
  ASSERT_TRUE(refused) << refused.error().message;
  EXPECT_FALSE(refused->has_value());
  auto empty = elb_.FindLoadBalancer("shop-prod");
  ASSERT_TRUE(empty) << empty.error().message;
  EXPECT_FALSE(empty->has_value());
  auto denied = elb_.FindLoadBalancer("shop-prod");
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code, "AccessDenied");
  EXPECT_EQ(denied.error().message,
            "elasticloadbalancing DescribeLoadBalancers: AccessDenied: not authorized to perform: "
            "DescribeLoadBalancers");
  auto found = elb_.FindLoadBalancer("shop-prod");
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->dns_name, "shop-prod-424835706.us-west-2.elb.amazonaws.com");
}

TEST_F(Elbv2Test, DescribeErrorsKeepTheirCode) {
  transport_.Reply(ErrorReply("LoadBalancerNotFound", "One or more load balancers not found"), 400);
  auto lbs = elb_.DescribeLoadBalancers({"shop-prod"});
  ASSERT_FALSE(lbs);
  EXPECT_EQ(lbs.error().code, "LoadBalancerNotFound");
}

TEST_F(Elbv2Test, FindTargetGroupIsEmptyOnTargetGroupNotFound) {
  transport_.Reply(ErrorReply("TargetGroupNotFound", "One or more target groups not found"), 400);
  transport_.Reply(Reply("DescribeTargetGroups", R"(
    <TargetGroups>
      <member>
        <TargetGroupArn>arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/shop-prod-web/73e2d6bc24d8a067</TargetGroupArn>
        <TargetGroupName>shop-prod-web</TargetGroupName>
        <Protocol>HTTP</Protocol>
        <Port>8080</Port>
        <VpcId>vpc-3ac0fb5f</VpcId>
        <HealthCheckPath>/healthz</HealthCheckPath>
        <Matcher><HttpCode>200</HttpCode></Matcher>
        <LoadBalancerArns><member>arn:aws:elasticloadbalancing:us-west-2:123456789012:loadbalancer/app/shop-prod/50dc6c495c0c9188</member></LoadBalancerArns>
        <TargetType>ip</TargetType>
      </member>
    </TargetGroups>)"));
  auto missing = elb_.FindTargetGroup("shop-prod-web");
  ASSERT_TRUE(missing) << missing.error().message;
  EXPECT_FALSE(missing->has_value());
  auto found = elb_.FindTargetGroup("shop-prod-web");
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ(transport_.sent[1].at("Names.member.1"), "shop-prod-web");
  EXPECT_EQ((*found)->arn, kTgArn);
  EXPECT_EQ((*found)->name, "shop-prod-web");
  EXPECT_EQ((*found)->port, 8080);
  EXPECT_EQ((*found)->vpc_id, "vpc-3ac0fb5f");
}

TEST_F(Elbv2Test, CreateLoadBalancerSendsItsSubnetsAndGroupsAsMemberLists) {
  transport_.Reply(Reply("CreateLoadBalancer", kLoadBalancerMember));
  auto lb = elb_.CreateLoadBalancer({"shop-prod",
                                     "application",
                                     "internal",
                                     {"subnet-8360a9e7", "subnet-b7d581c0"},
                                     {"sg-5943793c"}});
  ASSERT_TRUE(lb) << lb.error().message;
  EXPECT_EQ(transport_.sent[0], (Params{{"Action", "CreateLoadBalancer"},
                                        {"Version", "2015-12-01"},
                                        {"Name", "shop-prod"},
                                        {"Type", "application"},
                                        {"Scheme", "internal"},
                                        {"Subnets.member.1", "subnet-8360a9e7"},
                                        {"Subnets.member.2", "subnet-b7d581c0"},
                                        {"SecurityGroups.member.1", "sg-5943793c"}}));
  EXPECT_EQ(lb->arn, kLbArn);
  EXPECT_EQ(lb->dns_name, "shop-prod-424835706.us-west-2.elb.amazonaws.com");
}

TEST_F(Elbv2Test, CreateTargetGroupSendsItsHealthCheck) {
  transport_.Reply(Reply("CreateTargetGroup", R"(<TargetGroups><member>
      <TargetGroupArn>arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/shop-prod-web/73e2d6bc24d8a067</TargetGroupArn>
      <TargetGroupName>shop-prod-web</TargetGroupName><Port>8080</Port></member></TargetGroups>)"));
  TargetGroupRequest request;
  request.name = "shop-prod-web";
  request.port = 8080;
  request.target_type = "ip";
  request.vpc_id = "vpc-3ac0fb5f";
  request.health_check_path = "/healthz";
  request.health_check_interval_seconds = 30;
  request.health_check_timeout_seconds = 5;
  request.healthy_threshold_count = 5;
  request.unhealthy_threshold_count = 2;
  request.matcher_http_code = "200-299";
  auto tg = elb_.CreateTargetGroup(request);
  ASSERT_TRUE(tg) << tg.error().message;
  EXPECT_EQ(transport_.sent[0], (Params{{"Action", "CreateTargetGroup"},
                                        {"Version", "2015-12-01"},
                                        {"Name", "shop-prod-web"},
                                        {"Protocol", "HTTP"},
                                        {"Port", "8080"},
                                        {"TargetType", "ip"},
                                        {"VpcId", "vpc-3ac0fb5f"},
                                        {"HealthCheckPath", "/healthz"},
                                        {"HealthCheckIntervalSeconds", "30"},
                                        {"HealthCheckTimeoutSeconds", "5"},
                                        {"HealthyThresholdCount", "5"},
                                        {"UnhealthyThresholdCount", "2"},
                                        {"Matcher.HttpCode", "200-299"}}));
  EXPECT_EQ(tg->arn, kTgArn);
}

TEST_F(Elbv2Test, ModifyTargetGroupAttributesSendsKeyValueMembers) {
  transport_.Reply(Reply("ModifyTargetGroupAttributes",
                         "<Attributes><member><Key>deregistration_delay.timeout_seconds"
                         "</Key><Value>0</Value></member></Attributes>"));
  auto r = elb_.ModifyTargetGroupAttributes(
      kTgArn, {{"deregistration_delay.timeout_seconds", "0"}, {"stickiness.enabled", "false"}});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(transport_.sent[0],
            (Params{{"Action", "ModifyTargetGroupAttributes"},
                    {"Version", "2015-12-01"},
                    {"TargetGroupArn", kTgArn},
                    {"Attributes.member.1.Key", "deregistration_delay.timeout_seconds"},
                    {"Attributes.member.1.Value", "0"},
                    {"Attributes.member.2.Key", "stickiness.enabled"},
                    {"Attributes.member.2.Value", "false"}}));
}

TEST_F(Elbv2Test, DescribeTargetGroupAttributesReadsKeyValueMembers) {
  transport_.Reply(Reply("DescribeTargetGroupAttributes",
                         "<Attributes><member><Key>stickiness.enabled</Key><Value>false</Value></member>"
                         "<member><Key>deregistration_delay.timeout_seconds</Key><Value>30</Value>"
                         "</member></Attributes>"));
  auto r = elb_.DescribeTargetGroupAttributes(kTgArn);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(transport_.sent[0], (Params{{"Action", "DescribeTargetGroupAttributes"},
                                        {"Version", "2015-12-01"},
                                        {"TargetGroupArn", kTgArn}}));
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[1].key, "deregistration_delay.timeout_seconds");
  EXPECT_EQ((*r)[1].value, "30");
}

TEST_F(Elbv2Test, DescribeTargetHealthReadsEachTargetAndItsState) {
  transport_.Reply(Reply("DescribeTargetHealth",
                         "<TargetHealthDescriptions><member><Target><Id>10.0.0.1</Id><Port>8080</Port></Target>"
                         "<TargetHealth><State>healthy</State></TargetHealth></member>"
                         "<member><Target><Id>10.0.0.2</Id><Port>8081</Port></Target>"
                         "<TargetHealth><State>initial</State><Reason>Elb.RegistrationInProgress</Reason>"
                         "</TargetHealth></member></TargetHealthDescriptions>"));
  auto r = elb_.DescribeTargetHealth(kTgArn);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(transport_.sent[0],
            (Params{{"Action", "DescribeTargetHealth"}, {"Version", "2015-12-01"}, {"TargetGroupArn", kTgArn}}));
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].id, "10.0.0.1");
  EXPECT_EQ((*r)[0].state, "healthy");
  EXPECT_EQ((*r)[1].port, 8081);
  EXPECT_EQ((*r)[1].state, "initial");
  EXPECT_EQ((*r)[1].reason, "Elb.RegistrationInProgress");
}

TEST_F(Elbv2Test, CreateListenerSendsForwardOrFixedResponseDefaults) {
  const std::string listener =
      std::string(R"(<Listeners><member><ListenerArn>)") + kListenerArn +
      "</ListenerArn><Port>80</Port><Protocol>HTTP</Protocol>"
      "<DefaultActions><member><Type>fixed-response</Type><FixedResponseConfig>"
      "<StatusCode>404</StatusCode><ContentType>text/plain</ContentType>"
      "</FixedResponseConfig></member></DefaultActions></member></Listeners>";
  transport_.Reply(Reply("CreateListener", listener));
  transport_.Reply(Reply("CreateListener", listener));
  auto fixed = elb_.CreateListener(
      {kLbArn, "HTTP", 80, {{"fixed-response", "", {"404", "text/plain", ""}}}});
  ASSERT_TRUE(fixed) << fixed.error().message;
  auto forward = elb_.CreateListener({kLbArn, "HTTP", 80, {ForwardTo(kTgArn)}});
  ASSERT_TRUE(forward) << forward.error().message;
  EXPECT_EQ(transport_.sent[0],
            (Params{{"Action", "CreateListener"},
                    {"Version", "2015-12-01"},
                    {"LoadBalancerArn", kLbArn},
                    {"Protocol", "HTTP"},
                    {"Port", "80"},
                    {"DefaultActions.member.1.Type", "fixed-response"},
                    {"DefaultActions.member.1.FixedResponseConfig.StatusCode", "404"},
                    {"DefaultActions.member.1.FixedResponseConfig.ContentType", "text/plain"}}));
  EXPECT_EQ(transport_.sent[1], (Params{{"Action", "CreateListener"},
                                        {"Version", "2015-12-01"},
                                        {"LoadBalancerArn", kLbArn},
                                        {"Protocol", "HTTP"},
                                        {"Port", "80"},
                                        {"DefaultActions.member.1.Type", "forward"},
                                        {"DefaultActions.member.1.TargetGroupArn", kTgArn}}));
  EXPECT_EQ(fixed->arn, kListenerArn);
  EXPECT_EQ(fixed->port, 80);
  EXPECT_EQ(fixed->protocol, "HTTP");
  ASSERT_EQ(fixed->default_actions.size(), 1u);
  EXPECT_EQ(fixed->default_actions[0].type, "fixed-response");
  EXPECT_EQ(fixed->default_actions[0].fixed_response.status_code, "404");
  EXPECT_EQ(fixed->default_actions[0].fixed_response.content_type, "text/plain");
}

// A CreateRule reply: the rule arn:rule/1 at priority 10.
const std::string kCreatedRule =
    Reply("CreateRule",
          "<Rules><member><RuleArn>arn:rule/1</RuleArn><Priority>10</Priority></member></Rules>");

TEST_F(Elbv2Test, CreateRuleSendsAPathPatternCondition) {
  transport_.Reply(kCreatedRule);
  auto rule = elb_.CreateRule(
      {kListenerArn, 10, {{"path-pattern", {"/api/*", "/v2/*"}}}, {ForwardTo(kTgArn)}});
  ASSERT_TRUE(rule) << rule.error().message;
  EXPECT_EQ(transport_.sent[0],
            (Params{{"Action", "CreateRule"},
                    {"Version", "2015-12-01"},
                    {"ListenerArn", kListenerArn},
                    {"Priority", "10"},
                    {"Conditions.member.1.Field", "path-pattern"},
                    {"Conditions.member.1.PathPatternConfig.Values.member.1", "/api/*"},
                    {"Conditions.member.1.PathPatternConfig.Values.member.2", "/v2/*"},
                    {"Actions.member.1.Type", "forward"},
                    {"Actions.member.1.TargetGroupArn", kTgArn}}));
  EXPECT_EQ(rule->arn, "arn:rule/1");
  EXPECT_EQ(rule->priority, "10");
}

TEST_F(Elbv2Test, ModifyRuleReplacesConditionsAndActions) {
  transport_.Reply(Reply("ModifyRule", "<Rules><member><RuleArn>arn:rule/1</RuleArn><Priority>47001</Priority>"
                                       "</member></Rules>"));
  auto rule = elb_.ModifyRule("arn:rule/1", {{"source-ip", {"127.0.0.2/32"}, "", {}}},
                              {{"fixed-response", "", {"403", "text/plain", "Forbidden"}}});
  ASSERT_TRUE(rule) << rule.error().message;
  EXPECT_EQ(transport_.sent[0],
            (Params{{"Action", "ModifyRule"},
                    {"Version", "2015-12-01"},
                    {"RuleArn", "arn:rule/1"},
                    {"Conditions.member.1.Field", "source-ip"},
                    {"Conditions.member.1.SourceIpConfig.Values.member.1", "127.0.0.2/32"},
                    {"Actions.member.1.Type", "fixed-response"},
                    {"Actions.member.1.FixedResponseConfig.StatusCode", "403"},
                    {"Actions.member.1.FixedResponseConfig.ContentType", "text/plain"},
                    {"Actions.member.1.FixedResponseConfig.MessageBody", "Forbidden"}}));
  EXPECT_EQ(rule->priority, "47001");
}

TEST_F(Elbv2Test, DeleteRuleNamesTheRule) {
  transport_.Reply(Reply("DeleteRule", ""));
  ASSERT_TRUE(elb_.DeleteRule("arn:rule/1"));
  EXPECT_EQ(transport_.sent[0], (Params{{"Action", "DeleteRule"}, {"Version", "2015-12-01"}, {"RuleArn", "arn:rule/1"}}));
}

TEST_F(Elbv2Test, CreateRuleSendsEachConditionInItsConfig) {
  transport_.Reply(kCreatedRule);
  RuleCondition header{"http-header", {"beta", "canary"}, "X-Channel", {}};
  RuleCondition ip{"source-ip", {"10.0.0.0/8"}, "", {}};
  RuleCondition query{"query-string", {}, "", {{"version", "2"}, {"", "debug"}}};
  auto rule = elb_.CreateRule({kListenerArn, 10, {header, ip, query}, {ForwardTo(kTgArn)}});
  ASSERT_TRUE(rule) << rule.error().message;
  EXPECT_EQ(transport_.sent[0],
            (Params{{"Action", "CreateRule"},
                    {"Version", "2015-12-01"},
                    {"ListenerArn", kListenerArn},
                    {"Priority", "10"},
                    {"Conditions.member.1.Field", "http-header"},
                    {"Conditions.member.1.HttpHeaderConfig.HttpHeaderName", "X-Channel"},
                    {"Conditions.member.1.HttpHeaderConfig.Values.member.1", "beta"},
                    {"Conditions.member.1.HttpHeaderConfig.Values.member.2", "canary"},
                    {"Conditions.member.2.Field", "source-ip"},
                    {"Conditions.member.2.SourceIpConfig.Values.member.1", "10.0.0.0/8"},
                    {"Conditions.member.3.Field", "query-string"},
                    {"Conditions.member.3.QueryStringConfig.Values.member.1.Key", "version"},
                    {"Conditions.member.3.QueryStringConfig.Values.member.1.Value", "2"},
                    {"Conditions.member.3.QueryStringConfig.Values.member.2.Value", "debug"},
                    {"Actions.member.1.Type", "forward"},
                    {"Actions.member.1.TargetGroupArn", kTgArn}}));
}

TEST_F(Elbv2Test, AForwardConfigIsSentWithItsWeights) {
  transport_.Reply(kCreatedRule);
  Action split{"forward", "", {}, {{"arn:tg/blue", 9}, {"arn:tg/green", std::nullopt}}};
  auto rule = elb_.CreateRule({kListenerArn, 10, {{"path-pattern", {"/*"}}}, {split}});
  ASSERT_TRUE(rule) << rule.error().message;
  const Params& sent = transport_.sent[0];
  EXPECT_EQ(sent.at("Actions.member.1.ForwardConfig.TargetGroups.member.1.TargetGroupArn"),
            "arn:tg/blue");
  EXPECT_EQ(sent.at("Actions.member.1.ForwardConfig.TargetGroups.member.1.Weight"), "9");
  EXPECT_EQ(sent.at("Actions.member.1.ForwardConfig.TargetGroups.member.2.TargetGroupArn"),
            "arn:tg/green");
  EXPECT_FALSE(sent.count("Actions.member.1.ForwardConfig.TargetGroups.member.2.Weight"));
  EXPECT_FALSE(sent.count("Actions.member.1.TargetGroupArn"));
}

TEST_F(Elbv2Test, DescribeRulesReadsHeaderSourceIpAndQueryConditionsAndForwardConfigs) {
  // Given rules as botocore's model shapes them: conditions in their configs only, and forwards
  // described by a ForwardConfig without a TargetGroupArn.
  transport_.Reply(Reply("DescribeRules", R"(
    <Rules>
      <member>
        <RuleArn>arn:rule/beta</RuleArn><Priority>5</Priority><IsDefault>false</IsDefault>
        <Conditions>
          <member><Field>http-header</Field>
            <HttpHeaderConfig><HttpHeaderName>X-Channel</HttpHeaderName>
              <Values><member>beta</member></Values></HttpHeaderConfig></member>
          <member><Field>source-ip</Field>
            <SourceIpConfig><Values><member>10.0.0.0/8</member><member>2001:db8::/32</member></Values>
            </SourceIpConfig></member>
          <member><Field>query-string</Field>
            <QueryStringConfig><Values>
              <member><Key>version</Key><Value>2</Value></member>
              <member><Value>debug</Value></member>
            </Values></QueryStringConfig></member>
        </Conditions>
        <Actions><member><Type>forward</Type><Order>1</Order>
          <ForwardConfig><TargetGroups><member><TargetGroupArn>arn:tg/beta</TargetGroupArn><Weight>1</Weight></member>
          </TargetGroups><TargetGroupStickinessConfig><Enabled>false</Enabled></TargetGroupStickinessConfig>
          </ForwardConfig></member></Actions>
      </member>
      <member>
        <RuleArn>arn:rule/split</RuleArn><Priority>6</Priority><IsDefault>false</IsDefault>
        <Conditions><member><Field>path-pattern</Field><Values><member>/shop/*</member></Values>
          <PathPatternConfig><Values><member>/shop/*</member></Values></PathPatternConfig></member></Conditions>
        <Actions><member><Type>forward</Type><Order>1</Order>
          <ForwardConfig><TargetGroups>
            <member><TargetGroupArn>arn:tg/blue</TargetGroupArn><Weight>90</Weight></member>
            <member><TargetGroupArn>arn:tg/green</TargetGroupArn><Weight>10</Weight></member>
          </TargetGroups></ForwardConfig></member></Actions>
      </member>
    </Rules>)"));
  auto rules = elb_.DescribeRules(kListenerArn);
  ASSERT_TRUE(rules) << rules.error().message;
  ASSERT_EQ(rules->size(), 2u);
  const Rule& beta = (*rules)[0];
  ASSERT_EQ(beta.conditions.size(), 3u);
  EXPECT_EQ(beta.conditions[0].field, "http-header");
  EXPECT_EQ(beta.conditions[0].http_header_name, "X-Channel");
  EXPECT_EQ(beta.conditions[0].values, std::vector<std::string>{"beta"});
  EXPECT_EQ(beta.conditions[1].field, "source-ip");
  EXPECT_EQ(beta.conditions[1].values, (std::vector<std::string>{"10.0.0.0/8", "2001:db8::/32"}));
  EXPECT_EQ(beta.conditions[2].field, "query-string");
  ASSERT_EQ(beta.conditions[2].query_strings.size(), 2u);
  EXPECT_EQ(beta.conditions[2].query_strings[0].key, "version");
  EXPECT_EQ(beta.conditions[2].query_strings[0].value, "2");
  EXPECT_EQ(beta.conditions[2].query_strings[1].key, "");
  EXPECT_EQ(beta.conditions[2].query_strings[1].value, "debug");
  // A ForwardConfig of one group is that group's forward.
  ASSERT_EQ(beta.actions.size(), 1u);
  EXPECT_EQ(beta.actions[0].target_group_arn, "arn:tg/beta");
  EXPECT_TRUE(beta.actions[0].ForwardsTo("arn:tg/beta"));
  // One of several groups is forwarded to too, with its weight.
  const Action& split = (*rules)[1].actions.at(0);
  EXPECT_EQ(split.target_group_arn, "");
  ASSERT_EQ(split.forward_target_groups.size(), 2u);
  EXPECT_EQ(split.forward_target_groups[1].arn, "arn:tg/green");
  EXPECT_EQ(split.forward_target_groups[1].weight, 10);
  EXPECT_TRUE(split.ForwardsTo("arn:tg/green"));
  EXPECT_FALSE(split.ForwardsTo("arn:tg/beta"));
  EXPECT_FALSE(split.ForwardsTo(""));
  EXPECT_EQ((*rules)[1].conditions.at(0).values, std::vector<std::string>{"/shop/*"});
}

TEST_F(Elbv2Test, ACreateRuleThatMayHaveArrivedReportsOutcomeUnknown) {
  transport_.replies.push_back(Fail("Empty reply from server", kTransportMaybeSent));
  auto rule =
      elb_.CreateRule({kListenerArn, 10, {{"path-pattern", {"/api/*"}}}, {ForwardTo(kTgArn)}});
  ASSERT_FALSE(rule);
  EXPECT_EQ(rule.error().code, kOutcomeUnknown);
  EXPECT_EQ(transport_.sent.size(), 1u);
}

TEST_F(Elbv2Test, DescribeRulesReadsEveryPage) {
  // Given two pages, the first ending in a NextMarker.
  transport_.Reply(Reply("DescribeRules", std::string(R"(
    <Rules>
      <member>
        <RuleArn>arn:rule/default</RuleArn><Priority>default</Priority><IsDefault>true</IsDefault>
        <Conditions/>
        <Actions><member><Type>forward</Type><TargetGroupArn>arn:tg/site</TargetGroupArn><Order>1</Order></member></Actions>
      </member>
      <member>
        <RuleArn>arn:rule/api</RuleArn><Priority>10</Priority><IsDefault>false</IsDefault>
        <Conditions><member><Field>path-pattern</Field>
          <PathPatternConfig><Values><member>/api/*</member></Values></PathPatternConfig></member></Conditions>
        <Actions><member><Type>forward</Type><TargetGroupArn>arn:tg/api</TargetGroupArn>
          <ForwardConfig><TargetGroups><member><TargetGroupArn>arn:tg/api</TargetGroupArn><Weight>1</Weight></member>
          </TargetGroups></ForwardConfig></member></Actions>
      </member>
    </Rules>
    <NextMarker>arn:rule/api</NextMarker>)")));
  transport_.Reply(Reply("DescribeRules", R"(
    <Rules>
      <member>
        <RuleArn>arn:rule/admin</RuleArn><Priority>20</Priority>
        <Conditions><member><Field>path-pattern</Field><Values><member>/admin/*</member></Values></member></Conditions>
        <Actions><member><Type>forward</Type><TargetGroupArn>arn:tg/admin</TargetGroupArn></member></Actions>
      </member>
    </Rules>)"));
  // When the rules are described.
  auto rules = elb_.DescribeRules(kListenerArn);
  // Then both pages' rules come back, and the second request carried the marker.
  ASSERT_TRUE(rules) << rules.error().message;
  ASSERT_EQ(transport_.sent.size(), 2u);
  EXPECT_EQ(transport_.sent[0], (Params{{"Action", "DescribeRules"},
                                        {"Version", "2015-12-01"},
                                        {"ListenerArn", kListenerArn}}));
  EXPECT_EQ(transport_.sent[1], (Params{{"Action", "DescribeRules"},
                                        {"Version", "2015-12-01"},
                                        {"ListenerArn", kListenerArn},
                                        {"Marker", "arn:rule/api"}}));
  ASSERT_EQ(rules->size(), 3u);
  EXPECT_EQ((*rules)[0].priority, "default");
  EXPECT_TRUE((*rules)[0].conditions.empty());
  EXPECT_EQ((*rules)[1].arn, "arn:rule/api");
  ASSERT_EQ((*rules)[1].conditions.size(), 1u);
  EXPECT_EQ((*rules)[1].conditions[0].field, "path-pattern");
  EXPECT_EQ((*rules)[1].conditions[0].values, std::vector<std::string>{"/api/*"});
  ASSERT_EQ((*rules)[1].actions.size(), 1u);
  EXPECT_EQ((*rules)[1].actions[0].type, "forward");
  EXPECT_EQ((*rules)[1].actions[0].target_group_arn, "arn:tg/api");
  EXPECT_EQ((*rules)[2].conditions[0].values, std::vector<std::string>{"/admin/*"});
  EXPECT_EQ((*rules)[2].actions[0].target_group_arn, "arn:tg/admin");
}

TEST_F(Elbv2Test, DescribeListenersReadsEveryPage) {
  transport_.Reply(Reply("DescribeListeners",
                         "<Listeners><member><ListenerArn>arn:l/443</ListenerArn><Port>443</Port>"
                         "<Protocol>HTTPS</Protocol></member></Listeners>"
                         "<NextMarker>m1</NextMarker>"));
  transport_.Reply(Reply("DescribeListeners",
                         "<Listeners><member><ListenerArn>arn:l/80</ListenerArn><Port>80</Port>"
                         "<Protocol>HTTP</Protocol><DefaultActions><member><Type>forward</Type>"
                         "<TargetGroupArn>arn:tg/site</TargetGroupArn></member></DefaultActions>"
                         "</member></Listeners>"));
  auto listeners = elb_.DescribeListeners(kLbArn);
  ASSERT_TRUE(listeners) << listeners.error().message;
  EXPECT_EQ(transport_.sent[0].at("LoadBalancerArn"), kLbArn);
  EXPECT_EQ(transport_.sent[0].count("Marker"), 0u);
  EXPECT_EQ(transport_.sent[1].at("Marker"), "m1");
  ASSERT_EQ(listeners->size(), 2u);
  EXPECT_EQ((*listeners)[0].port, 443);
  EXPECT_EQ((*listeners)[1].arn, "arn:l/80");
  EXPECT_EQ((*listeners)[1].port, 80);
  ASSERT_EQ((*listeners)[1].default_actions.size(), 1u);
  EXPECT_EQ((*listeners)[1].default_actions[0].target_group_arn, "arn:tg/site");
}

TEST_F(Elbv2Test, AMarkerThatComesBackIsAnErrorNotALoop) {
  for (int i = 0; i < 3; ++i) {
    transport_.Reply(Reply("DescribeRules", "<Rules/><NextMarker>again</NextMarker>"));
  }
  auto rules = elb_.DescribeRules(kListenerArn);
  ASSERT_FALSE(rules);
  EXPECT_EQ(rules.error().message,
            "elasticloadbalancing DescribeRules: unexpected reply: NextMarker again came twice");
  EXPECT_EQ(transport_.sent.size(), 2u);
}

TEST_F(Elbv2Test, MissingElementsReadAsDefaults) {
  transport_.Reply(Reply("DescribeListeners",
                         "<Listeners><member><ListenerArn>arn:l</ListenerArn><Port>eighty</Port>"
                         "</member><member/></Listeners>"));
  transport_.Reply(Reply("DescribeLoadBalancers", ""));
  auto listeners = elb_.DescribeListeners(kLbArn);
  ASSERT_TRUE(listeners) << listeners.error().message;
  ASSERT_EQ(listeners->size(), 2u);
  EXPECT_EQ((*listeners)[0].port, 0);
  EXPECT_EQ((*listeners)[1].arn, "");
  EXPECT_TRUE((*listeners)[1].default_actions.empty());
  auto lbs = elb_.DescribeLoadBalancers({"shop-prod"});
  ASSERT_TRUE(lbs) << lbs.error().message;
  EXPECT_TRUE(lbs->empty());
}

TEST_F(Elbv2Test, ACreateReplyWithoutTheCreatedObjectIsAnError) {
  transport_.Reply(Reply("CreateLoadBalancer", "<LoadBalancers/>"));
  transport_.Reply(Reply("CreateTargetGroup",
                         "<TargetGroups><member><TargetGroupName>x</TargetGroupName></member>"
                         "</TargetGroups>"));
  transport_.Reply("<html><body>Service Unavailable</body></html>");
  transport_.Reply("not xml at all <");
  auto lb =
      elb_.CreateLoadBalancer({"shop-prod", "application", "internet-facing", {"subnet-1"}, {}});
  ASSERT_FALSE(lb);
  EXPECT_EQ(lb.error().message,
            "elasticloadbalancing CreateLoadBalancer: unexpected reply: no LoadBalancers member");
  auto tg = elb_.CreateTargetGroup({.name = "shop-prod-web"});
  ASSERT_FALSE(tg);
  EXPECT_EQ(tg.error().message,
            "elasticloadbalancing CreateTargetGroup: unexpected reply: no "
            "TargetGroups/member/TargetGroupArn");
  auto listener = elb_.CreateListener({kLbArn, "HTTP", 80, {ForwardTo(kTgArn)}});
  ASSERT_FALSE(listener);
  EXPECT_EQ(listener.error().message,
            "elasticloadbalancing CreateListener: unexpected reply: no Listeners member");
  auto rule = elb_.CreateRule({kListenerArn, 10, {}, {ForwardTo(kTgArn)}});
  ASSERT_FALSE(rule);
  EXPECT_NE(rule.error().message.find("elasticloadbalancing CreateRule: xml:"), std::string::npos)
      << rule.error().message;
}

}  // namespace
}  // namespace slipway::aws
