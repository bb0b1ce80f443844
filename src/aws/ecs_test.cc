// The typed ECS client against a scripted transport: the requests each call sends, replies shaped
// as botocore's ECS model says, pagination, and replies that are not what the model says.
#include "aws/ecs.h"

#include <gtest/gtest.h>

#include <deque>
#include <nlohmann/json.hpp>

#include "aws/aws_client.h"

namespace slipway::aws {
namespace {

using nlohmann::json;

// Answers each call with the next scripted reply; records each operation and request body.
class ScriptedEcs final : public HttpTransport {
 public:
  std::deque<Result<HttpResponse>> replies;
  std::vector<std::string> ops;
  std::vector<json> bodies;

  Result<HttpResponse> Send(const HttpRequest& r) override {
    for (const auto& [k, v] : r.headers) {
      if (k == "X-Amz-Target") ops.push_back(v.substr(v.find('.') + 1));
    }
    bodies.push_back(json::parse(r.body, nullptr, false));
    if (replies.empty()) return Fail("script ran out");
    auto next = replies.front();
    replies.pop_front();
    return next;
  }
  void Reply(const json& body) { replies.push_back(HttpResponse{200, body.dump()}); }
  void ReplyText(const std::string& body) { replies.push_back(HttpResponse{200, body}); }
};

struct EcsTest : ::testing::Test {
  ScriptedEcs t;
  FakeClock clock;
  AwsClient client{t, clock, Credentials{"AKID", "SECRET", ""}, Endpoint{"us-east-1", "http://127.0.0.1:1"}};
  Ecs ecs{client};
};

// A service as botocore's model shapes it (Service, Deployment, ServiceEvent, Tag).
json BotocoreService() {
  return {{"serviceArn", "arn:aws:ecs:us-east-1:123456789012:service/demo-dev/demo-dev-web"},
          {"serviceName", "demo-dev-web"},
          {"clusterArn", "arn:aws:ecs:us-east-1:123456789012:cluster/demo-dev"},
          {"loadBalancers", {{{"targetGroupArn", "arn:tg/web"}, {"containerName", "web"}, {"containerPort", 8080}}}},
          {"status", "ACTIVE"},
          {"desiredCount", 2},
          {"runningCount", 1},
          {"pendingCount", 1},
          {"launchType", "FARGATE"},
          {"taskDefinition", "arn:aws:ecs:us-east-1:123456789012:task-definition/demo-web:7"},
          {"deploymentConfiguration",
           {{"deploymentCircuitBreaker", {{"enable", true}, {"rollback", true}}},
            {"maximumPercent", 200},
            {"minimumHealthyPercent", 100}}},
          {"deployments",
           {{{"id", "ecs-svc/2"},
             {"status", "PRIMARY"},
             {"taskDefinition", "arn:aws:ecs:us-east-1:123456789012:task-definition/demo-web:7"},
             {"desiredCount", 2},
             {"pendingCount", 1},
             {"runningCount", 1},
             {"failedTasks", 3},
             {"createdAt", 1764950400.5},
             {"updatedAt", 1764950460.0},
             {"launchType", "FARGATE"},
             {"rolloutState", "IN_PROGRESS"},
             {"rolloutStateReason", "ECS deployment ecs-svc/2 in progress."}},
            {{"id", "ecs-svc/1"},
             {"status", "ACTIVE"},
             {"taskDefinition", "arn:aws:ecs:us-east-1:123456789012:task-definition/demo-web:6"},
             {"rolloutState", "COMPLETED"}}}},
          {"events",
           {{{"id", "e2"}, {"createdAt", 1764950461.25}, {"message", "(service demo-dev-web) has started 1 tasks."}},
            {{"id", "e1"}, {"createdAt", 1764950400.0}, {"message", "(service demo-dev-web) has reached a steady state."}}}},
          {"createdAt", 1764000000.0},
          {"currentServiceDeployment", "arn:aws:ecs:us-east-1:123456789012:service-deployment/demo-dev/demo-dev-web/x"},
          {"networkConfiguration", {{"awsvpcConfiguration", {{"subnets", {"subnet-a"}}, {"assignPublicIp", "ENABLED"}}}}},
          {"healthCheckGracePeriodSeconds", 30},
          {"tags", {{{"key", "slipway:lock"}, {"value", "r1 2026-12-07T00:00:00Z 1765000000 alice"}}}}};
}

TEST_F(EcsTest, DescribeServicesReadsEveryFieldSlipwayUses) {
  t.Reply({{"services", {BotocoreService()}},
           {"failures", {{{"arn", "arn:aws:ecs:us-east-1:123456789012:service/demo-dev/demo-dev-api"}, {"reason", "MISSING"}}}}});
  auto r = ecs.DescribeServices("demo-dev", {"demo-dev-web", "demo-dev-api"}, /*with_tags=*/true);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(t.ops, std::vector<std::string>{"DescribeServices"});
  EXPECT_EQ(t.bodies[0], (json{{"cluster", "demo-dev"}, {"services", {"demo-dev-web", "demo-dev-api"}}, {"include", {"TAGS"}}}));
  ASSERT_EQ(r->services.size(), 1u);
  const Service& s = r->services[0];
  EXPECT_EQ(s.arn, "arn:aws:ecs:us-east-1:123456789012:service/demo-dev/demo-dev-web");
  EXPECT_EQ(s.name, "demo-dev-web");
  EXPECT_EQ(s.status, "ACTIVE");
  EXPECT_EQ(s.task_definition, "arn:aws:ecs:us-east-1:123456789012:task-definition/demo-web:7");
  EXPECT_EQ(s.desired_count, 2);
  EXPECT_EQ(s.running_count, 1);
  EXPECT_EQ(s.pending_count, 1);
  EXPECT_EQ(s.current_service_deployment, "arn:aws:ecs:us-east-1:123456789012:service-deployment/demo-dev/demo-dev-web/x");
  ASSERT_EQ(s.deployments.size(), 2u);
  EXPECT_EQ(s.deployments[0].id, "ecs-svc/2");
  EXPECT_EQ(s.deployments[0].status, "PRIMARY");
  EXPECT_EQ(s.deployments[0].task_definition, "arn:aws:ecs:us-east-1:123456789012:task-definition/demo-web:7");
  EXPECT_EQ(s.deployments[0].rollout_state, "IN_PROGRESS");
  EXPECT_EQ(s.deployments[0].rollout_state_reason, "ECS deployment ecs-svc/2 in progress.");
  EXPECT_EQ(s.deployments[0].failed_tasks, 3);
  EXPECT_DOUBLE_EQ(s.deployments[0].created_at, 1764950400.5);
  EXPECT_EQ(s.deployments[0].desired_count, 2);
  EXPECT_EQ(s.deployments[0].running_count, 1);
  EXPECT_EQ(s.deployments[0].pending_count, 1);
  EXPECT_EQ(s.target_group_arns, std::vector<std::string>{"arn:tg/web"});
  EXPECT_EQ(s.deployments[1].rollout_state_reason, "");
  ASSERT_EQ(s.events.size(), 2u);
  EXPECT_EQ(s.events[0].id, "e2");
  EXPECT_EQ(s.events[0].message, "(service demo-dev-web) has started 1 tasks.");
  EXPECT_DOUBLE_EQ(s.events[0].created_at, 1764950461.25);
  ASSERT_EQ(s.tags.size(), 1u);
  EXPECT_EQ(s.tags[0].key, "slipway:lock");
  ASSERT_NE(s.document, nullptr);
  EXPECT_EQ((*s.document)["healthCheckGracePeriodSeconds"], 30);
  ASSERT_EQ(r->failures.size(), 1u);
  EXPECT_EQ(r->failures[0].reason, "MISSING");
  EXPECT_EQ(r->failures[0].arn, "arn:aws:ecs:us-east-1:123456789012:service/demo-dev/demo-dev-api");
}

TEST_F(EcsTest, DescribeServicesAsksForTagsOnlyWhenTold) {
  t.Reply({{"services", json::array()}, {"failures", json::array()}});
  ASSERT_TRUE(ecs.DescribeServices("c", {"web"}));
  EXPECT_EQ(t.bodies[0], (json{{"cluster", "c"}, {"services", {"web"}}}));
}

TEST_F(EcsTest, ErrorsKeepTheServicesCodeAndMessage) {
  t.replies.push_back(HttpResponse{400, R"({"__type":"ClusterNotFoundException","message":"Cluster not found."})"});
  auto r = ecs.DescribeServices("gone", {"web"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "ClusterNotFoundException");
  EXPECT_EQ(r.error().message, "ecs DescribeServices: ClusterNotFoundException: Cluster not found.");
}

TEST_F(EcsTest, AnEndpointThatDoesNotAnswerIsTheClientsError) {
  for (int i = 0; i < 1000; ++i) t.replies.push_back(Fail("Couldn't connect to server", kTransportNotSent));
  auto r = ecs.DescribeClusters({"c"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, kEndpointUnreachable);
  EXPECT_TRUE(IsUnreachable(r.error()));
}

TEST_F(EcsTest, AReplyThatIsNotAnObjectIsAnUnexpectedReply) {
  t.ReplyText("[1,2]");
  auto r = ecs.DescribeServices("c", {"web"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "ecs DescribeServices: unexpected reply: not a JSON object");
  t.ReplyText("not json");
  auto l = ecs.ListTagsForResource("arn:x");
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().message, "ecs ListTagsForResource: malformed JSON reply");
}

TEST_F(EcsTest, AServiceNestedHundredsOfThousandsDeepIsAnUnexpectedReply) {
  const int levels = 300'000;
  t.ReplyText(R"({"services":[{"serviceName":"web","deep":)" + std::string(levels, '[') +
              std::string(levels, ']') + "}]}");
  auto r = ecs.DescribeServices("c", {"web"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "ecs DescribeServices: unexpected reply: nested deeper than 64 levels");
}

TEST_F(EcsTest, NullFieldsReadAsTheirDefaults) {
  t.Reply({{"services",
            {{{"serviceName", nullptr}, {"desiredCount", nullptr}, {"runningCount", 2.5}, {"deployments", nullptr},
              {"taskDefinition", nullptr}, {"events", {{{"id", "ok"}, {"message", nullptr}}}}}}},
           {"failures", nullptr}});
  auto r = ecs.DescribeServices("c", {"web"});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->services.size(), 1u);
  const Service& s = r->services[0];
  EXPECT_EQ(s.name, "");
  EXPECT_EQ(s.desired_count, 0);
  EXPECT_EQ(s.running_count, 2) << "a fraction is dropped";
  EXPECT_EQ(s.task_definition, "");
  EXPECT_TRUE(s.deployments.empty());
  ASSERT_EQ(s.events.size(), 1u);
  EXPECT_EQ(s.events[0].message, "");
  EXPECT_TRUE(r->failures.empty());
}

TEST_F(EcsTest, AFieldOfTheWrongTypeIsAnUnexpectedReply) {
  const json service = BotocoreService();
  auto with = [&](const char* key, const json& value) {
    json s = service;
    s[key] = value;
    return json{{"services", {s}}};
  };
  const std::vector<std::pair<json, std::string>> cases = {
      {{{"services", {5, service}}}, "services is a number, not a list of objects"},
      {{{"services", {service}}, {"failures", "none"}}, "failures is a string, not a list"},
      {with("serviceName", 7), "serviceName is a number, not a string"},
      {with("status", json::array({"ACTIVE"})), "status is a list, not a string"},
      {with("desiredCount", "2"), "desiredCount is a string, not a number"},
      {with("pendingCount", 1e300), "pendingCount is 1e+300, beyond a 32-bit number"},
      {with("deployments", "none"), "deployments is a string, not a list"},
      {with("events", {{{"id", "e"}, {"message", {{"text", "x"}}}}}), "message is an object, not a string"},
      {with("tags", {{{"key", "k"}, {"value", 9}}}), "value is a number, not a string"},
  };
  for (const auto& [reply, problem] : cases) {
    t.Reply(reply);
    auto r = ecs.DescribeServices("c", {"web"});
    ASSERT_FALSE(r) << "accepted " << reply.dump();
    EXPECT_EQ(r.error().message, "ecs DescribeServices: unexpected reply: " + problem);
  }
}

TEST_F(EcsTest, MissingListsAndAnEmptyReplyReadAsEmpty) {
  t.ReplyText("");
  auto r = ecs.DescribeServices("c", {"web"});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->services.empty());
  EXPECT_TRUE(r->failures.empty());
  t.Reply(json::object());
  auto tasks = ecs.DescribeTasks("c", {"t1"});
  ASSERT_TRUE(tasks) << tasks.error().message;
  EXPECT_TRUE(tasks->tasks.empty());
}

TEST_F(EcsTest, AnExitCodeBeyond32BitsIsAnUnexpectedReply) {
  auto task_with = [](const json& exit_code) {
    return json{{"tasks",
                 {{{"taskArn", "arn:task/1"},
                   {"containers", {{{"name", "a"}, {"exitCode", -1}}, {{"name", "b"}, {"exitCode", exit_code}}}}}}}};
  };
  t.Reply(task_with(nullptr));
  auto r = ecs.DescribeTasks("c", {"arn:task/1"});
  ASSERT_TRUE(r) << r.error().message;
  const auto& cs = r->tasks.at(0).containers;
  ASSERT_EQ(cs.size(), 2u);
  EXPECT_EQ(cs[0].exit_code, -1);
  EXPECT_FALSE(cs[1].exit_code);

  t.Reply(task_with(4294967296LL));
  auto big = ecs.DescribeTasks("c", {"arn:task/1"});
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().message, "ecs DescribeTasks: unexpected reply: exitCode is 4294967296, beyond a 32-bit number");
  t.Reply(task_with(18446744073709551615ULL));
  auto huge = ecs.DescribeTasks("c", {"arn:task/1"});
  ASSERT_FALSE(huge);
  EXPECT_EQ(huge.error().message,
            "ecs DescribeTasks: unexpected reply: exitCode is 18446744073709551615, beyond a 32-bit number");
}

TEST_F(EcsTest, DescribeClustersAndCreateCluster) {
  t.Reply({{"clusters", {{{"clusterArn", "arn:cluster/demo"}, {"clusterName", "demo"}, {"status", "ACTIVE"},
                          {"runningTasksCount", 2}}}},
           {"failures", json::array()}});
  auto r = ecs.DescribeClusters({"demo"});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(t.bodies[0], (json{{"clusters", {"demo"}}}));
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].arn, "arn:cluster/demo");
  EXPECT_EQ((*r)[0].name, "demo");
  EXPECT_EQ((*r)[0].status, "ACTIVE");

  t.Reply({{"cluster", {{"clusterArn", "arn:cluster/new"}, {"clusterName", "new"}, {"status", "ACTIVE"}}}});
  auto c = ecs.CreateCluster("new");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(t.bodies[1], (json{{"clusterName", "new"}}));
  EXPECT_EQ(c->arn, "arn:cluster/new");
}

TEST_F(EcsTest, CreateServiceSendsTheInputWithTheClientToken) {
  const json input{{"cluster", "c"}, {"serviceName", "web"}, {"taskDefinition", "arn:td/web:1"}, {"desiredCount", 2}};
  t.Reply({{"service", BotocoreService()}});
  auto r = ecs.CreateService(input, "tok123");
  ASSERT_TRUE(r) << r.error().message;
  json want = input;
  want["clientToken"] = "tok123";
  EXPECT_EQ(t.bodies[0], want);
  EXPECT_EQ(r->deployments.at(0).id, "ecs-svc/2");

  t.Reply({{"service", BotocoreService()}});
  ASSERT_TRUE(ecs.CreateService(input, ""));
  EXPECT_EQ(t.bodies[1], input) << "no token: none sent";
}

TEST_F(EcsTest, UpdateServiceSendsOnlyWhatIsSet) {
  t.Reply({{"service", BotocoreService()}});
  auto r = ecs.UpdateService({.cluster = "c", .service = "web", .desired_count = 4});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(t.bodies[0], (json{{"cluster", "c"}, {"service", "web"}, {"desiredCount", 4}}));
  EXPECT_EQ(r->name, "demo-dev-web");

  t.Reply({{"service", BotocoreService()}});
  ASSERT_TRUE(ecs.UpdateService({.cluster = "c", .service = "web", .task_definition = "arn:td/web:3",
                                 .force_new_deployment = true}));
  EXPECT_EQ(t.bodies[1], (json{{"cluster", "c"}, {"service", "web"}, {"taskDefinition", "arn:td/web:3"},
                               {"forceNewDeployment", true}}));
}

TEST_F(EcsTest, UpdateServiceWithoutAServiceInTheReplyGivesDefaults) {
  t.Reply(json::object());
  auto r = ecs.UpdateServiceWith({{"cluster", "c"}, {"service", "web"}});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->deployments.empty());
  ASSERT_NE(r->document, nullptr);
  EXPECT_EQ(*r->document, json::object());
}

TEST_F(EcsTest, UpdateServiceWithAServiceThatIsNotAnObjectIsAnUnexpectedReply) {
  t.Reply({{"service", "gone"}});
  auto r = ecs.UpdateServiceWith({{"cluster", "c"}, {"service", "web"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "ecs UpdateService: unexpected reply: service is a string, not an object");
}

TEST_F(EcsTest, DescribeTaskDefinitionWithTags) {
  t.Reply({{"taskDefinition",
            {{"taskDefinitionArn", "arn:aws:ecs:us-east-1:123456789012:task-definition/demo-web:7"},
             {"family", "demo-web"},
             {"revision", 7},
             {"status", "ACTIVE"},
             {"registeredAt", 1764950400.0},
             {"cpu", "256"},
             {"containerDefinitions",
              {{{"name", "web"}, {"image", "repo@sha256:abc"}, {"essential", true}},
               {{"name", "sidecar"}, {"image", "busybox"}}}}}},
           {"tags", {{{"key", "slipway:result"}, {"value", "released"}}}}});
  auto r = ecs.DescribeTaskDefinition("arn:td", /*with_tags=*/true);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(t.bodies[0], (json{{"taskDefinition", "arn:td"}, {"include", {"TAGS"}}}));
  EXPECT_EQ(r->arn, "arn:aws:ecs:us-east-1:123456789012:task-definition/demo-web:7");
  EXPECT_EQ(r->family, "demo-web");
  EXPECT_EQ(r->revision, 7);
  EXPECT_EQ(r->status, "ACTIVE");
  EXPECT_DOUBLE_EQ(r->registered_at, 1764950400.0);
  EXPECT_EQ(r->images, (std::vector<std::string>{"repo@sha256:abc", "busybox"}));
  ASSERT_EQ(r->tags.size(), 1u);
  EXPECT_EQ(r->tags[0].key, "slipway:result");
  EXPECT_EQ(r->tags[0].value, "released");
  ASSERT_NE(r->document, nullptr);
  EXPECT_EQ((*r->document)["cpu"], "256");

  t.Reply({{"taskDefinition", {{"family", "demo-web"}}}});
  ASSERT_TRUE(ecs.DescribeTaskDefinition("demo-web"));
  EXPECT_EQ(t.bodies[1], (json{{"taskDefinition", "demo-web"}}));
}

TEST_F(EcsTest, ADescribedTaskDefinitionWithoutItsDocumentIsAnEmptyObject) {
  t.Reply({{"taskDefinition", nullptr}});
  auto r = ecs.DescribeTaskDefinition("arn:td");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->family, "");
  EXPECT_TRUE(r->images.empty());
  EXPECT_TRUE(r->tags.empty());
  ASSERT_NE(r->document, nullptr);
  EXPECT_EQ(*r->document, json::object());
}

TEST_F(EcsTest, ATaskDefinitionOrTagsOfTheWrongTypeAreAnUnexpectedReply) {
  t.Reply({{"taskDefinition", 3}});
  auto td = ecs.DescribeTaskDefinition("arn:td");
  ASSERT_FALSE(td);
  EXPECT_EQ(td.error().message,
            "ecs DescribeTaskDefinition: unexpected reply: taskDefinition is a number, not an object");
  t.Reply({{"taskDefinition", {{"family", "web"}}}, {"tags", "x"}});
  auto tags = ecs.DescribeTaskDefinition("arn:td");
  ASSERT_FALSE(tags);
  EXPECT_EQ(tags.error().message, "ecs DescribeTaskDefinition: unexpected reply: tags is a string, not a list");
}

TEST_F(EcsTest, RegisterTaskDefinitionSendsTheDocumentAndNeedsAnArnBack) {
  const json td{{"family", "demo-web"},
                {"containerDefinitions", {{{"name", "web"}, {"image", "repo@sha256:abc"}}}},
                {"tags", {{{"key", "slipway:release"}, {"value", "r1"}}}}};
  t.Reply({{"taskDefinition", {{"taskDefinitionArn", "arn:td/demo-web:8"}, {"family", "demo-web"}, {"revision", 8}}},
           {"tags", {{{"key", "slipway:release"}, {"value", "r1"}}}}});
  auto r = ecs.RegisterTaskDefinition(td);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(t.bodies[0], td);
  EXPECT_EQ(r->arn, "arn:td/demo-web:8");
  EXPECT_EQ(r->revision, 8);
  EXPECT_EQ(r->tags.size(), 1u);

  t.Reply({{"taskDefinition", {{"family", "demo-web"}}}});
  auto missing = ecs.RegisterTaskDefinition(td);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "ecs RegisterTaskDefinition: unexpected reply: no taskDefinitionArn");
}

TEST_F(EcsTest, ListTaskDefinitionsFollowsEveryPage) {
  t.Reply({{"taskDefinitionArns", {"arn:td/web:3", "arn:td/web:2"}}, {"nextToken", "page2"}});
  t.Reply({{"taskDefinitionArns", {"arn:td/web:1"}}, {"nextToken", nullptr}});
  auto r = ecs.ListTaskDefinitions({.family_prefix = "web", .status = "ACTIVE", .sort = "DESC"});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, (std::vector<std::string>{"arn:td/web:3", "arn:td/web:2", "arn:td/web:1"}));
  ASSERT_EQ(t.bodies.size(), 2u);
  EXPECT_EQ(t.bodies[0], (json{{"familyPrefix", "web"}, {"sort", "DESC"}, {"status", "ACTIVE"}}));
  EXPECT_EQ(t.bodies[1], (json{{"familyPrefix", "web"}, {"sort", "DESC"}, {"status", "ACTIVE"}, {"nextToken", "page2"}}));
}

TEST_F(EcsTest, ListTaskDefinitionsStopsAtAnArnThatIsNotAString) {
  t.Reply({{"taskDefinitionArns", {"arn:td/web:3"}}, {"nextToken", "page2"}});
  t.Reply({{"taskDefinitionArns", {"arn:td/web:1", 5}}, {"nextToken", "page3"}});
  auto r = ecs.ListTaskDefinitions({.family_prefix = "web"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "ecs ListTaskDefinitions: unexpected reply: taskDefinitionArns is a number, not a list of strings");
  EXPECT_EQ(t.bodies.size(), 2u) << "no page is asked for after a garbled one";
}

TEST_F(EcsTest, ListTaskDefinitionsStopsAtAnErrorOnALaterPage) {
  t.Reply({{"taskDefinitionArns", {"arn:td/web:3"}}, {"nextToken", "page2"}});
  t.replies.push_back(HttpResponse{400, R"({"__type":"ClientException","message":"bad token"})"});
  auto r = ecs.ListTaskDefinitions({.family_prefix = "web"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "ecs ListTaskDefinitions: ClientException: bad token");
}

TEST_F(EcsTest, APaginationThatNeverEndsIsAnError) {
  for (int i = 0; i < 1001; ++i) {
    t.Reply({{"taskArns", json::array()}, {"nextToken", "t" + std::to_string(i)}});
  }
  auto r = ecs.ListTasks({.cluster = "c"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "ecs ListTasks: unexpected reply: more than 1000 pages");
  EXPECT_EQ(t.ops.size(), 1000u);
}

TEST_F(EcsTest, ATokenThatComesBackIsAnError) {
  t.Reply({{"taskDefinitionArns", {"arn:td:1"}}, {"nextToken", "A"}});
  t.Reply({{"taskDefinitionArns", {"arn:td:2"}}, {"nextToken", "B"}});
  t.Reply({{"taskDefinitionArns", {"arn:td:1"}}, {"nextToken", "A"}});
  auto r = ecs.ListTaskDefinitions({});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "ecs ListTaskDefinitions: unexpected reply: nextToken A came twice");
  EXPECT_EQ(t.ops.size(), 3u);
}

TEST_F(EcsTest, ListTasksSendsTheQueryAndFollowsEveryPage) {
  t.Reply({{"taskArns", {"arn:task/c/1"}}, {"nextToken", "n"}});
  t.Reply({{"taskArns", {"arn:task/c/2"}}});
  auto r = ecs.ListTasks({.cluster = "c", .service_name = "web", .started_by = "slipway-migrate",
                          .desired_status = "STOPPED"});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, (std::vector<std::string>{"arn:task/c/1", "arn:task/c/2"}));
  EXPECT_EQ(t.bodies[0], (json{{"cluster", "c"}, {"serviceName", "web"}, {"startedBy", "slipway-migrate"},
                               {"desiredStatus", "STOPPED"}}));
  EXPECT_EQ(t.bodies[1]["nextToken"], "n");
  t.Reply({{"taskArns", json::array()}});
  ASSERT_TRUE(ecs.ListTasks({.cluster = "c"}));
  EXPECT_EQ(t.bodies[2], (json{{"cluster", "c"}}));
}

// A stopped task as botocore's model shapes it (Task, Container, NetworkBinding).
json BotocoreStoppedTask() {
  return {{"taskArn", "arn:aws:ecs:us-east-1:123456789012:task/demo-dev/0123abcd"},
          {"clusterArn", "arn:aws:ecs:us-east-1:123456789012:cluster/demo-dev"},
          {"taskDefinitionArn", "arn:aws:ecs:us-east-1:123456789012:task-definition/demo-web:7"},
          {"lastStatus", "STOPPED"},
          {"desiredStatus", "STOPPED"},
          {"healthStatus", "UNKNOWN"},
          {"startedBy", "ecs-svc/2"},
          {"stopCode", "EssentialContainerExited"},
          {"stoppedReason", "Essential container in task exited"},
          {"createdAt", 1764950400.0},
          {"startedAt", 1764950405.0},
          {"stoppedAt", 1764950407.5},
          {"cpu", "256"},
          {"version", 4},
          {"containers",
           {{{"containerArn", "arn:container/1"},
             {"name", "web"},
             {"lastStatus", "STOPPED"},
             {"exitCode", 137},
             {"reason", "OutOfMemoryError: Container killed due to memory usage"},
             {"networkBindings", {{{"bindIP", "0.0.0.0"}, {"containerPort", 8080}, {"hostPort", 49153}, {"protocol", "tcp"}}}}},
            {{"name", "sidecar"}, {"lastStatus", "STOPPED"}}}}};
}

TEST_F(EcsTest, DescribeTasksReadsTasksContainersAndFailures) {
  t.Reply({{"tasks", {BotocoreStoppedTask()}}, {"failures", {{{"arn", "arn:task/gone"}, {"reason", "MISSING"}}}}});
  auto r = ecs.DescribeTasks("demo-dev", {"arn:task/1", "arn:task/gone"});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(t.bodies[0], (json{{"cluster", "demo-dev"}, {"tasks", {"arn:task/1", "arn:task/gone"}}}));
  ASSERT_EQ(r->tasks.size(), 1u);
  const Task& task = r->tasks[0];
  EXPECT_EQ(task.arn, "arn:aws:ecs:us-east-1:123456789012:task/demo-dev/0123abcd");
  EXPECT_EQ(task.task_definition_arn, "arn:aws:ecs:us-east-1:123456789012:task-definition/demo-web:7");
  EXPECT_EQ(task.last_status, "STOPPED");
  EXPECT_EQ(task.desired_status, "STOPPED");
  EXPECT_EQ(task.health_status, "UNKNOWN");
  EXPECT_EQ(task.started_by, "ecs-svc/2");
  EXPECT_EQ(task.stop_code, "EssentialContainerExited");
  EXPECT_EQ(task.stopped_reason, "Essential container in task exited");
  EXPECT_DOUBLE_EQ(task.created_at, 1764950400.0);
  EXPECT_DOUBLE_EQ(task.started_at, 1764950405.0);
  EXPECT_DOUBLE_EQ(task.stopped_at, 1764950407.5);
  ASSERT_EQ(task.containers.size(), 2u);
  EXPECT_EQ(task.containers[0].name, "web");
  EXPECT_EQ(task.containers[0].exit_code, 137);
  EXPECT_EQ(task.containers[0].reason, "OutOfMemoryError: Container killed due to memory usage");
  ASSERT_EQ(task.containers[0].network_bindings.size(), 1u);
  EXPECT_EQ(task.containers[0].network_bindings[0].container_port, 8080);
  EXPECT_EQ(task.containers[0].network_bindings[0].host_port, 49153);
  EXPECT_FALSE(task.containers[1].exit_code) << "a container that never ran has no exit code";
  ASSERT_EQ(r->failures.size(), 1u);
  EXPECT_EQ(r->failures[0].arn, "arn:task/gone");
}

TEST_F(EcsTest, RunTaskSendsTheOverrideTokenAndNetwork) {
  t.Reply({{"tasks", {BotocoreStoppedTask()}}, {"failures", json::array()}});
  const json network{{"awsvpcConfiguration", {{"subnets", {"subnet-a"}}, {"assignPublicIp", "DISABLED"}}}};
  auto r = ecs.RunTask({.cluster = "c", .task_definition = "arn:td/web:7", .started_by = "slipway-migrate",
                        .client_token = "tok", .container = "web", .command = {"rake", "db:migrate"}},
                       network);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(t.bodies[0],
            (json{{"cluster", "c"}, {"taskDefinition", "arn:td/web:7"}, {"count", 1}, {"launchType", "FARGATE"},
                  {"startedBy", "slipway-migrate"}, {"clientToken", "tok"},
                  {"overrides", {{"containerOverrides", {{{"name", "web"}, {"command", {"rake", "db:migrate"}}}}}}},
                  {"networkConfiguration", network}}));
  ASSERT_EQ(r->tasks.size(), 1u);

  t.Reply({{"tasks", json::array()}, {"failures", {{{"arn", "arn:td/web:7"}, {"reason", "RESOURCE:MEMORY"}}}}});
  auto none = ecs.RunTask({.cluster = "c", .task_definition = "arn:td/web:7"}, json());
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_FALSE(t.bodies[1].contains("networkConfiguration"));
  EXPECT_FALSE(t.bodies[1].contains("overrides"));
  EXPECT_FALSE(t.bodies[1].contains("clientToken"));
  ASSERT_EQ(none->failures.size(), 1u);
  EXPECT_EQ(none->failures[0].reason, "RESOURCE:MEMORY");
}

TEST_F(EcsTest, StopTask) {
  t.Reply({{"task", BotocoreStoppedTask()}});
  auto r = ecs.StopTask("c", "arn:task/1", "slipway: migration timed out");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(t.bodies[0], (json{{"cluster", "c"}, {"task", "arn:task/1"}, {"reason", "slipway: migration timed out"}}));
  EXPECT_EQ(r->last_status, "STOPPED");
}

TEST_F(EcsTest, TagsAreSetRemovedAndListed) {
  t.Reply(json::object());
  ASSERT_TRUE(ecs.TagResource("arn:svc", {{"slipway:lock", "v1"}, {"slipway:by", "alice"}}));
  EXPECT_EQ(t.bodies[0], (json{{"resourceArn", "arn:svc"},
                               {"tags", {{{"key", "slipway:lock"}, {"value", "v1"}}, {{"key", "slipway:by"}, {"value", "alice"}}}}}));
  t.Reply(json::object());
  ASSERT_TRUE(ecs.UntagResource("arn:svc", {"slipway:lock"}));
  EXPECT_EQ(t.bodies[1], (json{{"resourceArn", "arn:svc"}, {"tagKeys", {"slipway:lock"}}}));
  t.Reply({{"tags", {{{"key", "slipway:lock"}, {"value", "v1"}}, {{"key", "team"}}}}});
  auto tags = ecs.ListTagsForResource("arn:svc");
  ASSERT_TRUE(tags) << tags.error().message;
  EXPECT_EQ(t.bodies[2], (json{{"resourceArn", "arn:svc"}}));
  ASSERT_EQ(tags->size(), 2u);
  EXPECT_EQ((*tags)[0].value, "v1");
  EXPECT_EQ((*tags)[1].key, "team");
  EXPECT_EQ((*tags)[1].value, "");
  EXPECT_EQ(t.ops, (std::vector<std::string>{"TagResource", "UntagResource", "ListTagsForResource"}));
}

TEST_F(EcsTest, DescribeServiceDeployments) {
  t.Reply({{"serviceDeployments",
            {{{"serviceDeploymentArn", "arn:sd/1"},
              {"serviceArn", "arn:svc"},
              {"status", "ROLLBACK_SUCCESSFUL"},
              {"statusReason", "tasks failed."},
              {"rollback", {{"reason", "circuit breaker"}, {"startedAt", 1764950400.0}}}}}},
           {"failures", json::array()}});
  auto r = ecs.DescribeServiceDeployments({"arn:sd/1"});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(t.bodies[0], (json{{"serviceDeploymentArns", {"arn:sd/1"}}}));
  ASSERT_EQ(r->service_deployments.size(), 1u);
  EXPECT_EQ(r->service_deployments[0].arn, "arn:sd/1");
  EXPECT_EQ(r->service_deployments[0].status, "ROLLBACK_SUCCESSFUL");
  EXPECT_EQ(r->service_deployments[0].status_reason, "tasks failed.");
}

TEST_F(EcsTest, DeregisterAndDeleteTaskDefinitions) {
  t.Reply({{"taskDefinition", {{"taskDefinitionArn", "arn:td/web:1"}, {"status", "INACTIVE"}}}});
  auto d = ecs.DeregisterTaskDefinition("arn:td/web:1");
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(t.bodies[0], (json{{"taskDefinition", "arn:td/web:1"}}));
  EXPECT_EQ(d->status, "INACTIVE");

  t.Reply({{"taskDefinitions", {{{"taskDefinitionArn", "arn:td/web:1"}, {"status", "DELETE_IN_PROGRESS"}}}},
           {"failures", {{{"arn", "arn:td/web:2"}, {"reason", "TASK_DEFINITION_IN_USE"}, {"detail", "in use"}}}}});
  auto del = ecs.DeleteTaskDefinitions({"arn:td/web:1", "arn:td/web:2"});
  ASSERT_TRUE(del) << del.error().message;
  EXPECT_EQ(t.bodies[1], (json{{"taskDefinitions", {"arn:td/web:1", "arn:td/web:2"}}}));
  EXPECT_EQ(del->arns, std::vector<std::string>{"arn:td/web:1"});
  ASSERT_EQ(del->failures.size(), 1u);
  EXPECT_EQ(del->failures[0].detail, "in use");
}

}  // namespace
}  // namespace slipway::aws
