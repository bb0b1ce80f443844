#include <gtest/gtest.h>

#include "engine/validate.h"

namespace slipway::engine {
namespace {

using nlohmann::json;

const Shape& Input(const std::string& action) {
  return *ApiShapes::Embedded().ByName("elbv2")->operations.at(action);
}

/// The parameters the deployer sends to create a target group (src/deploy/release.cc).
QueryParams DeployerTargetGroup() {
  return {{"Name", "demo-dev-web"},
          {"Protocol", "HTTP"},
          {"Port", "8080"},
          {"TargetType", "ip"},
          {"VpcId", "vpc-local"},
          {"HealthCheckPath", "/healthz"},
          {"HealthCheckIntervalSeconds", "5"},
          {"HealthCheckTimeoutSeconds", "2"},
          {"HealthyThresholdCount", "2"},
          {"UnhealthyThresholdCount", "2"},
          {"Matcher.HttpCode", "200"}};
}

QueryParams With(QueryParams p, const std::string& key, const std::string& value) {
  p[key] = value;
  return p;
}

TEST(QueryToJson, ReadsScalarsListsAndStructuresByTheModel) {
  QueryParams p = DeployerTargetGroup();
  p["HealthCheckEnabled"] = "true";
  p["Tags.member.1.Key"] = "team";
  p["Tags.member.1.Value"] = "web";
  p["Tags.member.2.Key"] = "tier";
  p["Unmodelled.Thing"] = "ignored";
  auto got = QueryToJson(Input("CreateTargetGroup"), p);
  ASSERT_TRUE(got.has_value()) << got.error().path << " " << got.error().constraint;
  EXPECT_EQ((*got)["Port"], 8080);
  EXPECT_EQ((*got)["HealthCheckIntervalSeconds"], 5);
  EXPECT_EQ((*got)["HealthCheckEnabled"], true);
  EXPECT_EQ((*got)["Matcher"], json({{"HttpCode", "200"}}));
  EXPECT_EQ((*got)["Tags"], json::parse(R"([{"Key":"team","Value":"web"},{"Key":"tier"}])"));
  EXPECT_FALSE(got->contains("Unmodelled"));
}

TEST(QueryToJson, ReadsNestedListsOfStructures) {
  auto got = QueryToJson(Input("CreateRule"),
                         {{"ListenerArn", "arn:l"},
                          {"Priority", "10"},
                          {"Conditions.member.1.Field", "path-pattern"},
                          {"Conditions.member.1.PathPatternConfig.Values.member.1", "/api/*"},
                          {"Conditions.member.1.PathPatternConfig.Values.member.2", "/v2/*"},
                          {"Actions.member.1.Type", "forward"},
                          {"Actions.member.1.TargetGroupArn", "arn:tg"}});
  ASSERT_TRUE(got.has_value()) << got.error().path;
  EXPECT_EQ((*got)["Priority"], 10);
  EXPECT_EQ((*got)["Conditions"][0]["PathPatternConfig"]["Values"], json({"/api/*", "/v2/*"}));
  EXPECT_EQ((*got)["Actions"][0]["TargetGroupArn"], "arn:tg");
}

TEST(QueryToJson, ReadsAnEmptyListAsSdksSendIt) {
  auto got = QueryToJson(Input("DescribeTargetGroups"), {{"Names", ""}});
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ((*got)["Names"], json::array());
}

TEST(QueryToJson, RefusesIntegersThatAreNotPlainDecimalsOfTheModelledWidth) {
  for (const std::string bad : {"99999999999", "abc", "1.5", "+80", " 80", "80 ", "", "0x50", "1e3",
                                "99999999999999999999999"}) {
    auto got = QueryToJson(Input("CreateTargetGroup"), With(DeployerTargetGroup(), "Port", bad));
    ASSERT_FALSE(got.has_value()) << bad;
    EXPECT_EQ(got.error().path, "Port") << bad;
    EXPECT_EQ(got.error().constraint, "Member must be an integer from -2147483648 to 2147483647")
        << bad;
  }
}

TEST(QueryToJson, RefusesListsWithGapsOrBadIndices) {
  for (const QueryParams& p :
       std::vector<QueryParams>{{{"Names.member.1", "a"}, {"Names.member.3", "c"}},
                                {{"Names.member.x", "a"}},
                                {{"Names.member.0", "a"}},
                                {{"Names.member.01", "a"}},
                                {{"Names", "a"}}}) {
    auto got = QueryToJson(Input("DescribeTargetGroups"), p);
    ASSERT_FALSE(got.has_value()) << p.begin()->first;
    EXPECT_EQ(got.error().path, "Names") << p.begin()->first;
  }
}

TEST(QueryToJson, RefusesBooleansOtherThanTrueOrFalseAndTextThatIsNotUtf8) {
  auto flag = QueryToJson(Input("CreateTargetGroup"),
                          With(DeployerTargetGroup(), "HealthCheckEnabled", "yes"));
  ASSERT_FALSE(flag.has_value());
  EXPECT_EQ(flag.error().constraint, "Member must be a boolean");
  auto name =
      QueryToJson(Input("CreateTargetGroup"), With(DeployerTargetGroup(), "Name", "tg\xff"));
  ASSERT_FALSE(name.has_value());
  EXPECT_EQ(name.error().constraint, "Member must be valid UTF-8");
}

/// One Query request that must be refused with ValidationError and text its message must hold.
struct RefusedQuery {
  std::string action;
  QueryParams params;
  std::string message;
};

TEST(CheckQueryRequest, RefusesEachBadInputWithValidationErrorNamingTheMember) {
  const auto tg = DeployerTargetGroup();
  QueryParams no_name = tg;
  no_name.erase("Name");
  const std::vector<RefusedQuery> cases = {
      {"CreateTargetGroup", With(tg, "Port", "99999999999"),
       "1 validation error detected: Value '99999999999' at 'port' failed to satisfy constraint: "
       "Member must be an integer from -2147483648 to 2147483647"},
      {"CreateTargetGroup", With(tg, "Port", "0"),
       "Value '0' at 'port' failed to satisfy constraint: Member must have value greater than or "
       "equal to 1"},
      {"CreateTargetGroup", With(tg, "Port", "-80"), "Value '-80' at 'port'"},
      {"CreateTargetGroup", With(tg, "Port", "abc"), "Value 'abc' at 'port'"},
      {"CreateTargetGroup", With(tg, "Port", "65536"),
       "Member must have value less than or equal to 65535"},
      {"CreateTargetGroup", no_name,
       "Value null at 'name' failed to satisfy constraint: Member must not be null"},
      {"CreateTargetGroup", With(tg, "Name", "-web"), "Value '-web' at 'name'"},
      {"CreateTargetGroup", With(tg, "Name", "web-"), "Value 'web-' at 'name'"},
      {"CreateTargetGroup", With(tg, "Name", "web_1"), "Value 'web_1' at 'name'"},
      {"CreateTargetGroup", With(tg, "Name", std::string(33, 'a')), "at 'name'"},
      {"CreateTargetGroup", With(tg, "HealthCheckPort", "0"), "Value '0' at 'healthCheckPort'"},
      {"CreateTargetGroup", With(tg, "HealthCheckPort", "http"), "at 'healthCheckPort'"},
      {"CreateTargetGroup", With(tg, "HealthCheckIntervalSeconds", "301"),
       "at 'healthCheckIntervalSeconds'"},
      {"CreateTargetGroup", With(tg, "Protocol", "GOPHER"), "Member must satisfy enum value set"},
      {"CreateTargetGroup", With(tg, "Tags.member.1.Key", std::string(129, 'k')),
       "at 'tags.1.member.key'"},
      {"CreateLoadBalancer", {{"Name", "internal-lb"}}, "at 'name'"},
      {"CreateListener",
       {{"LoadBalancerArn", "arn:lb"}, {"Port", "70000"}},
       "Value '70000' at 'port'"},
      {"RegisterTargets",
       {{"TargetGroupArn", "arn:tg"},
        {"Targets.member.1.Id", "10.0.0.1"},
        {"Targets.member.1.Port", "-1"}},
       "at 'targets.1.member.port'"},
      {"RegisterTargets",
       {{"TargetGroupArn", "arn:tg"}, {"Targets.member.1.Id", "1.2.3.4|x"}, {"Targets.member.1.Port", "80"}},
       "Value '1.2.3.4|x' at 'targets.1.member.id'"},
      {"RegisterTargets",
       {{"TargetGroupArn", "arn:tg"}, {"Targets.member.1.Id", "not-an-ip"}},
       "Member must be an IP address"},
      {"CreateRule", {{"ListenerArn", "arn:l"}, {"Priority", "50001"}}, "at 'priority'"},
      {"ModifyTargetGroupAttributes",
       {{"TargetGroupArn", "arn:tg"},
        {"Attributes.member.1.Key", "deregistration_delay.timeout_seconds"},
        {"Attributes.member.1.Value", "abc"}},
       "at 'attributes.1.member'"},
      {"ModifyTargetGroupAttributes",
       {{"TargetGroupArn", "arn:tg"},
        {"Attributes.member.1.Key", "deregistration_delay.timeout_seconds"},
        {"Attributes.member.1.Value", "3601"}},
       "from 0 to 3600"},
  };
  for (const auto& c : cases) {
    auto got = CheckQueryRequest(c.action, c.params);
    ASSERT_FALSE(got.has_value()) << c.action << " " << c.message;
    EXPECT_EQ(got.error().code, "ValidationError") << c.message;
    EXPECT_EQ(got.error().status, 400);
    EXPECT_NE(got.error().message.find(c.message), std::string::npos) << got.error().message;
  }
}

TEST(CheckQueryRequest, AcceptsWhatTheDeployerSends) {
  EXPECT_TRUE(CheckQueryRequest("CreateTargetGroup", DeployerTargetGroup()));
  EXPECT_TRUE(CheckQueryRequest("CreateTargetGroup",
                                With(DeployerTargetGroup(), "HealthCheckPort", "traffic-port")));
  EXPECT_TRUE(CheckQueryRequest("CreateTargetGroup",
                                With(DeployerTargetGroup(), "HealthCheckPort", "8081")));
  EXPECT_TRUE(
      CheckQueryRequest("CreateLoadBalancer", {{"Name", "demo-dev"}, {"Type", "application"}}));
  EXPECT_TRUE(CheckQueryRequest("DescribeTargetGroups", {{"Names.member.1", "demo-dev-web"}}));
  EXPECT_TRUE(
      CheckQueryRequest("ModifyTargetGroupAttributes",
                        {{"TargetGroupArn", "arn:tg"},
                         {"Attributes.member.1.Key", "deregistration_delay.timeout_seconds"},
                         {"Attributes.member.1.Value", "3"}}));
  EXPECT_TRUE(CheckQueryRequest(
      "CreateListener",
      {{"LoadBalancerArn", "arn:lb"},
       {"Protocol", "HTTP"},
       {"Port", "8080"},
       {"DefaultActions.member.1.Type", "fixed-response"},
       {"DefaultActions.member.1.FixedResponseConfig.StatusCode", "404"},
       {"DefaultActions.member.1.FixedResponseConfig.ContentType", "text/plain"}}));
}

TEST(CheckQueryRequest, AnswersInvalidActionForActionsTheEngineDoesNotServe) {
  auto got = CheckQueryRequest("DeleteLoadBalancer", {{"LoadBalancerArn", "arn:lb"}});
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code, "InvalidAction");
}

TEST(ApiShapes, EmbeddedShapesCoverEveryServedOperation) {
  const auto& shapes = ApiShapes::Embedded();
  EXPECT_FALSE(shapes.botocore_version().empty());
  EXPECT_EQ(shapes.ByTargetPrefix("AmazonEC2ContainerServiceV20141113")->operations.size(), 22u);
  EXPECT_EQ(shapes.ByName("elbv2")->operations.size(), 16u);
  EXPECT_EQ(shapes.ByTargetPrefix("Logs_20140328")->operations.size(), 9u);
}

TEST(ApiShapes, ParseRefusesBrokenData) {
  const std::string head =
      R"({"services":{"ecs":{"protocol":"json","operations":{"Op":"In"},"shapes":{)";
  EXPECT_FALSE(
      ApiShapes::Parse(head + R"("In":{"type":"structure","members":{"a":"Missing"}}}}}})"));
  EXPECT_FALSE(ApiShapes::Parse(head + R"("In":{"type":"string","pattern":"(unclosed"}}}}})"));
  EXPECT_FALSE(ApiShapes::Parse(head + R"("In":{"type":"quaternion"}}}}})"));
  EXPECT_TRUE(ApiShapes::Parse(
      head + R"("In":{"type":"structure","members":{"a":"S"}},"S":{"type":"string"}}}}})"));
}

}  // namespace
}  // namespace slipway::engine
