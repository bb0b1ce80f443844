// The pure decisions about the VPC, security groups and execution role, as tables.
#include "deploy/network.h"

#include <gtest/gtest.h>

#include "deploy/execution_role.h"

namespace slipway::deploy {
namespace {

using nlohmann::json;

TEST(Network, TheVpcIsTheOneEverySubnetLiesIn) {
  const std::map<std::string, std::string> vpcs{{"subnet-a", "vpc-1"}, {"subnet-b", "vpc-1"}, {"subnet-c", "vpc-2"}};
  struct Case {
    std::vector<std::string> subnets;
    std::string configured, vpc, error;
  };
  const Case cases[] = {
      {{"subnet-a", "subnet-b"}, "", "vpc-1", ""},
      {{"subnet-a", "subnet-b"}, "vpc-1", "vpc-1", ""},
      {{"subnet-a", "subnet-b"}, "vpc-2", "", "the subnets subnet-a, subnet-b lie in vpc-1, not in vpc vpc-2"},
      {{"subnet-a", "subnet-c"}, "", "", "lie in more than one VPC (vpc-1, vpc-2)"},
      {{"subnet-a", "subnet-x"}, "", "", "subnet subnet-x was not found by EC2 DescribeSubnets"},
  };
  for (const auto& c : cases) {
    auto r = VpcOfSubnets(c.subnets, vpcs, c.configured);
    if (c.error.empty()) {
      ASSERT_TRUE(r) << r.error().message;
      EXPECT_EQ(*r, c.vpc);
    } else {
      ASSERT_FALSE(r) << *r;
      EXPECT_NE(r.error().message.find(c.error), std::string::npos) << r.error().message;
    }
  }
}

TEST(Network, AListenerPortIsAdmittedByATcpRangeOrEveryProtocol) {
  struct Case {
    std::vector<IngressRule> rules;
    int port;
    bool admitted;
  };
  const Case cases[] = {
      {{}, 80, false},
      {{{"tcp", 80, 80}}, 80, true},
      {{{"tcp", 1000, 2000}}, 1500, true},
      {{{"tcp", 1000, 2000}}, 80, false},
      {{{"udp", 80, 80}}, 80, false},
      {{{"-1", 0, 0}}, 443, true},
      {{{"icmp", -1, -1}, {"tcp", 443, 443}}, 443, true},
  };
  for (const auto& c : cases) EXPECT_EQ(AdmitsTcpPort(c.rules, c.port), c.admitted) << c.port;
}

TEST(Network, SlipwaysGroupGetsOnlyTheRulesItLacks) {
  auto rule = [](std::string protocol, int from, int to, bool addresses, std::vector<std::string> groups) {
    return IngressRule{std::move(protocol), from, to, addresses, std::move(groups)};
  };
  struct Case {
    const char* what;
    std::vector<IngressRule> existing;
    int listener;
    std::vector<int> tasks;
    std::vector<IngressGrant> missing;
  };
  const Case cases[] = {
      {"a new group", {}, 80, {8080, 8080, 9000}, {{80, ""}, {8080, "sg-own"}, {9000, "sg-own"}}},
      {"tasks on the listener's port", {}, 8080, {8080}, {{8080, ""}}},
      {"a port of 0 (no load balancer)", {}, 80, {0}, {{80, ""}}},
      {"the self rule revoked", {rule("tcp", 80, 80, true, {})}, 80, {8080}, {{8080, "sg-own"}}},
      {"complete, whatever range the listener's rule names (narrowed by hand: it stays)",
       {rule("tcp", 80, 80, true, {}), rule("tcp", 8080, 8080, false, {"sg-own"})}, 80, {8080}, {}},
      {"a self rule does not open the listener", {rule("tcp", 8080, 8080, false, {"sg-own"})}, 8080, {8080},
       {{8080, ""}}},
      {"another group's rule does not admit the load balancer", {rule("tcp", 8080, 8080, false, {"sg-other"})}, 80,
       {8080}, {{80, ""}, {8080, "sg-own"}}},
      {"addresses admit the tasks too", {rule("tcp", 0, 65535, true, {})}, 80, {8080}, {}},
      {"every protocol from the group", {rule("-1", 0, 0, false, {"sg-own"})}, 80, {8080, 9000}, {{80, ""}}},
      {"udp is not tcp", {rule("udp", 80, 80, true, {}), rule("udp", 8080, 8080, false, {"sg-own"})}, 80, {8080},
       {{80, ""}, {8080, "sg-own"}}},
  };
  for (const auto& c : cases) EXPECT_EQ(MissingIngress(c.existing, "sg-own", c.listener, c.tasks), c.missing) << c.what;
}

TEST(Network, TasksGetTheSubnetsGroupsAndPublicIpSetting) {
  config::Environment env;
  EXPECT_TRUE(NetworkConfiguration(env, {"sg-1"}).is_null());  // the engine without networking settings
  env.subnets = {"subnet-a", "subnet-b"};
  env.assign_public_ip = true;
  EXPECT_EQ(NetworkConfiguration(env, {"sg-1"}),
            json::parse(R"({"awsvpcConfiguration": {"subnets": ["subnet-a", "subnet-b"], "securityGroups": ["sg-1"],
                                                    "assignPublicIp": "ENABLED"}})"));
  env.assign_public_ip = false;
  EXPECT_EQ(NetworkConfiguration(env, {})["awsvpcConfiguration"],
            json::parse(R"({"subnets": ["subnet-a", "subnet-b"], "assignPublicIp": "DISABLED"})"));
}

TEST(ExecutionRole, IsRequiredForAwslogsEcrImagesAndSecrets) {
  struct Case {
    const char* td;
    const char* problem;  // substring, or "" for none
  };
  const Case cases[] = {
      {R"({"family": "web", "containerDefinitions": [{"name": "web", "image": "nginx"}]})", ""},
      {R"({"family": "web", "containerDefinitions": [{"name": "web", "image": "nginx",
           "logConfiguration": {"logDriver": "awslogs", "options": {}}}]})",
       "task definition web: container web uses the awslogs log driver"},
      {R"({"family": "web", "containerDefinitions": [
           {"name": "web", "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/web@sha256:ab"}]})",
       "container web pulls its image from ECR"},
      {R"({"family": "web", "containerDefinitions": [{"name": "web", "image": "example.com/x/dkr.ecr.y"}]})", ""},
      {R"({"family": "web", "containerDefinitions": [{"name": "web", "image": "nginx",
           "secrets": [{"name": "A", "valueFrom": "arn:aws:ssm:us-east-1:1:parameter/a"}]}]})",
       "container web reads secrets"},
      {R"({"family": "web", "executionRoleArn": "arn:aws:iam::1:role/exec", "containerDefinitions": [
           {"name": "web", "image": "nginx", "logConfiguration": {"logDriver": "awslogs"}}]})", ""},
  };
  for (const auto& c : cases) {
    const std::string problem = MissingExecutionRole(json::parse(c.td));
    if (*c.problem == '\0') {
      EXPECT_EQ(problem, "") << c.td;
    } else {
      EXPECT_NE(problem.find(c.problem), std::string::npos) << problem;
      EXPECT_NE(problem.find("executionRoleArn is not set"), std::string::npos) << problem;
    }
  }
}

}  // namespace
}  // namespace slipway::deploy
