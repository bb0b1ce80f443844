#include "deploy/plan.h"

#include <gtest/gtest.h>

#include "deploy/service_request.h"

namespace slipway::deploy {
namespace {

using nlohmann::json;

// The demo-like config: one service `web` in environment dev.
struct Fixture {
  config::Config cfg;
  config::Environment env;
  Fixture() {
    config::ServiceSpec web;
    web.name = "web";
    web.container = "web";
    web.container_port = 8080;
    cfg.app = "demo";
    cfg.services["web"] = web;
    env.name = "dev";
    env.cluster = "demo-dev";
    env.load_balancer_name = "demo-dev";
    env.listener_port = 8080;
    config::ServiceEnv se;
    se.service_name = "demo-dev-web";
    se.desired_count = 2;
    env.services["web"] = se;
  }
};

json Template(const std::string& version = "v1") {
  return {{"family", "demo-web"},
          {"cpu", "256"},
          {"memory", "512"},
          {"containerDefinitions",
           {{{"name", "web"},
             {"image", "slipway/demo-web:" + version},
             {"portMappings", {{{"containerPort", 8080}}}},
             {"environment", {{{"name", "APP_VERSION"}, {"value", version}}, {{"name", "DATABASE_URL"}, {"value", "x"}}}}}}}};
}

// `td` as ECS shows it once registered: registration fields and filled-in defaults added.
json Registered(json td, int revision) {
  td["revision"] = revision;
  td["taskDefinitionArn"] = "arn:aws:ecs:us-east-1:000000000000:task-definition/demo-web:" + std::to_string(revision);
  td["status"] = "ACTIVE";
  td["registeredAt"] = 1733550000.5;
  td["registeredBy"] = "arn:aws:iam::000000000000:root";
  td["requiresAttributes"] = json::array({{{"name", "ecs.capability.task-eni"}}});
  td["compatibilities"] = {"EC2", "FARGATE"};
  td["networkMode"] = "awsvpc";
  td["volumes"] = json::array();
  td["placementConstraints"] = json::array();
  auto& c = td["containerDefinitions"][0];
  c["cpu"] = 0;
  c["essential"] = true;
  c["mountPoints"] = json::array();
  c["volumesFrom"] = json::array();
  c["portMappings"][0]["hostPort"] = 8080;
  c["portMappings"][0]["protocol"] = "tcp";
  // ECS may list the environment in another order.
  std::swap(c["environment"][0], c["environment"][1]);
  return td;
}

json Service(int desired, int running, const std::string& revision = "demo-web:3") {
  return {{"serviceName", "demo-dev-web"},
          {"status", "ACTIVE"},
          {"taskDefinition", "arn:aws:ecs:us-east-1:000000000000:task-definition/" + revision},
          {"desiredCount", desired},
          {"runningCount", running},
          {"healthCheckGracePeriodSeconds", 0},
          {"deploymentConfiguration",
           {{"maximumPercent", 200},
            {"minimumHealthyPercent", 100},
            {"deploymentCircuitBreaker", {{"enable", true}, {"rollback", true}}}}},
          {"loadBalancers", {{{"targetGroupArn", "arn:tg/web"}, {"containerName", "web"}, {"containerPort", 8080}}}}};
}

InfrastructureState AllThere() {
  InfrastructureState infra;
  infra.cluster = infra.load_balancer = infra.listener = true;
  infra.load_balancer_dns = "demo-dev-1.us-east-1.elb.localhost";
  infra.target_groups["web"] = "arn:tg/web";
  return infra;
}

PlanInput Released(const json& running_template, const json& rendered, const json& service) {
  PlanInput in;
  in.definitions["web"] = rendered;
  in.services["web"] = {service, Registered(running_template, 3)};
  in.infrastructure = AllThere();
  return in;
}

std::vector<std::string> Paths(const std::vector<FieldChange>& changes) {
  std::vector<std::string> out;
  for (const auto& c : changes) out.push_back(c.path);
  return out;
}

TEST(Plan, NothingChangesWhenTheRunningRevisionIsTheRenderedOne) {
  Fixture f;
  Plan plan = PlanRelease(f.cfg, f.env, Released(Template(), Template(), Service(2, 2)));
  EXPECT_FALSE(plan.Changes());
  ASSERT_EQ(plan.services.size(), 1u);
  EXPECT_TRUE(plan.services[0].definition.empty()) << PlanJson(plan).dump(2);
  EXPECT_EQ(plan.services[0].running_revision, "demo-web:3");
  EXPECT_NE(FormatPlan(plan, "dev").find("nothing would change"), std::string::npos);
}

TEST(Plan, AChangedEnvironmentVariableIsNamedByItsKey) {
  Fixture f;
  Plan plan = PlanRelease(f.cfg, f.env, Released(Template("v1"), Template("v2"), Service(2, 2)));
  EXPECT_TRUE(plan.Changes());
  EXPECT_EQ(Paths(plan.services[0].definition),
            (std::vector<std::string>{"containerDefinitions[web].environment[APP_VERSION].value",
                                      "containerDefinitions[web].image"}));
  EXPECT_EQ(plan.services[0].definition[0].before, "v1");
  EXPECT_EQ(plan.services[0].definition[0].after, "v2");
  EXPECT_NE(FormatPlan(plan, "dev").find("~ containerDefinitions[web].environment[APP_VERSION].value: \"v1\" -> \"v2\""),
            std::string::npos);
}

TEST(Plan, AddedAndRemovedKeysShowAsSuch) {
  Fixture f;
  json rendered = Template();
  rendered["containerDefinitions"][0]["environment"].push_back({{"name", "NEW"}, {"value", "1"}});
  rendered["containerDefinitions"][0]["environment"].erase(1);  // DATABASE_URL
  Plan plan = PlanRelease(f.cfg, f.env, Released(Template(), rendered, Service(2, 2)));
  EXPECT_EQ(Paths(plan.services[0].definition),
            (std::vector<std::string>{"containerDefinitions[web].environment[DATABASE_URL]",
                                      "containerDefinitions[web].environment[NEW]"}));
  EXPECT_TRUE(plan.services[0].definition[0].after.is_null());
  EXPECT_TRUE(plan.services[0].definition[1].before.is_null());
}

TEST(Plan, AValueTheTemplateSetsIsComparedEvenWhenItIsAnECSDefault) {
  Fixture f;
  json rendered = Template();
  rendered["containerDefinitions"][0]["essential"] = false;
  Plan plan = PlanRelease(f.cfg, f.env, Released(Template(), rendered, Service(2, 2)));
  EXPECT_EQ(Paths(plan.services[0].definition), std::vector<std::string>{"containerDefinitions[web].essential"});
}

TEST(Plan, EverythingIsCreatedBeforeTheFirstRelease) {
  Fixture f;
  f.env.services["web"].path_pattern = "/api/*";
  f.env.services["web"].priority = 10;
  PlanInput in;
  in.definitions["web"] = Template();
  in.services["web"] = {};
  Plan plan = PlanRelease(f.cfg, f.env, in);
  EXPECT_TRUE(plan.Changes());
  EXPECT_EQ(plan.create, (std::vector<std::string>{"cluster demo-dev", "load balancer demo-dev",
                                                   "target group demo-dev-web for web", "listener on port 8080",
                                                   "rule /api/* (priority 10) to web"}));
  ASSERT_TRUE(plan.services[0].create);
  EXPECT_EQ(plan.services[0].family, "demo-web");
  EXPECT_NE(FormatPlan(plan, "dev").find("would be created, running a new revision of demo-web"), std::string::npos);
  EXPECT_EQ(Paths(plan.services[0].settings),
            (std::vector<std::string>{"desiredCount", "deploymentConfiguration", "healthCheckGracePeriodSeconds",
                                      "loadBalancers"}));
  EXPECT_EQ(plan.services[0].settings[3].after[0]["targetGroupArn"], "(created at release)");
}

TEST(Plan, ASecurityGroupToCreateIsListedAndNamedInTheNewService) {
  Fixture f;
  f.env.provider = "aws";
  f.env.subnets = {"subnet-a", "subnet-b"};
  PlanInput in;
  in.definitions["web"] = Template();
  in.services["web"] = {};
  in.infrastructure.security_group_to_create = "slipway-demo-dev";
  Plan plan = PlanRelease(f.cfg, f.env, in);
  EXPECT_EQ(plan.create[1], "security group slipway-demo-dev");
  json req = CreateServiceInput(f.env, f.cfg.services["web"], f.env.services["web"], "demo-web", "arn:tg/web",
                                SecurityGroups(in.infrastructure));
  EXPECT_EQ(req["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"], json({"(created at release)"}));
  // Once it exists (or the config names groups), its id is used and nothing is to create.
  in.infrastructure.security_group_to_create.clear();
  in.infrastructure.security_groups = {"sg-1"};
  EXPECT_EQ(PlanRelease(f.cfg, f.env, in).create[1], "load balancer demo-dev");
  EXPECT_EQ(SecurityGroups(in.infrastructure), std::vector<std::string>{"sg-1"});
}

TEST(Plan, OnlyTheMissingPiecesOfInfrastructureAreCreated) {
  Fixture f;
  PlanInput in = Released(Template(), Template(), Service(2, 2));
  in.infrastructure.listener = false;
  Plan plan = PlanRelease(f.cfg, f.env, in);
  EXPECT_EQ(plan.create, std::vector<std::string>{"listener on port 8080"});
}

TEST(Plan, ScaleDriftIsADesiredCountOtherThanTheConfigs) {
  struct Case {
    int desired, running;
    bool drift;  ///< a release would set desiredCount back
    bool note;   ///< other than desired tasks run, at the config's count: said, but not a change
  };
  for (const Case& c : {Case{2, 2, false, false}, Case{3, 3, true, false}, Case{1, 1, true, false},
                        Case{2, 1, false, true}, Case{2, 3, false, true}, Case{3, 2, true, false}}) {
    Fixture f;
    Plan plan = PlanRelease(f.cfg, f.env, Released(Template(), Template(), Service(c.desired, c.running)));
    const std::string label = std::to_string(c.desired) + "/" + std::to_string(c.running);
    EXPECT_EQ(plan.services[0].drift.has_value(), c.drift) << label;
    EXPECT_EQ(plan.Changes(), c.drift) << label;
    EXPECT_EQ(plan.services[0].notes.size(), c.note ? 1u : 0u) << label;
    const std::string text = FormatPlan(plan, "dev");
    if (c.drift) {
      EXPECT_EQ(plan.services[0].drift->configured, 2);
      EXPECT_EQ(plan.services[0].drift->desired, c.desired);
      EXPECT_EQ(plan.services[0].drift->running, c.running);
      EXPECT_NE(text.find("scale drift: desired " + std::to_string(c.desired) + ", running " +
                          std::to_string(c.running) + "; the config says 2 (a release sets 2)"),
                std::string::npos)
          << text;
    }
    if (c.note) {
      EXPECT_NE(text.find("note: " + std::to_string(c.running) + " of " + std::to_string(c.desired) +
                          " desired tasks are running"),
                std::string::npos)
          << text;
    }
  }
}

TEST(Plan, ADesiredCountOverrideIsShownAndKeptNotDrift) {
  Fixture f;
  json service = Service(0, 0);
  service["tags"] = json::array({{{"key", "slipway:desiredCount"}, {"value", "0 by=env-down was=2"}}});
  Plan plan = PlanRelease(f.cfg, f.env, Released(Template(), Template(), service));
  ASSERT_TRUE(plan.services[0].override_);
  EXPECT_EQ(plan.services[0].override_->count, 0);
  EXPECT_FALSE(plan.services[0].drift);
  EXPECT_FALSE(plan.Changes());
  const std::string text = FormatPlan(plan, "dev");
  EXPECT_NE(text.find("desiredCount override: 0 (set by env down; was 2); the config says 2; a release keeps"),
            std::string::npos)
      << text;
  EXPECT_EQ(PlanJson(plan)["services"][0]["desiredCountOverride"]["count"], 0);
  // Scaled by hand past the override: drift from the override, which a release sets back.
  service["desiredCount"] = 1;
  plan = PlanRelease(f.cfg, f.env, Released(Template(), Template(), service));
  ASSERT_TRUE(plan.services[0].drift);
  EXPECT_EQ(plan.services[0].drift->configured, 0);
  EXPECT_NE(FormatPlan(plan, "dev").find("the override says 0 (a release sets 0)"), std::string::npos);
}

TEST(Plan, AStoppedOnDemandServiceIsNoDrift) {
  Fixture f;
  f.env.services["web"].on_demand = true;
  Plan plan = PlanRelease(f.cfg, f.env, Released(Template(), Template(), Service(0, 0)));
  EXPECT_FALSE(plan.services[0].drift);
  EXPECT_TRUE(plan.services[0].on_demand);
  EXPECT_NE(FormatPlan(plan, "dev").find("on demand: stopped unless started"), std::string::npos);
  // Running without the start's override: a release stops it.
  plan = PlanRelease(f.cfg, f.env, Released(Template(), Template(), Service(2, 2)));
  ASSERT_TRUE(plan.services[0].drift);
  EXPECT_EQ(plan.services[0].drift->configured, 0);
}

TEST(Plan, ServiceSettingsThatDifferFromTheConfigAreChanges) {
  Fixture f;
  f.env.services["web"].minimum_healthy_percent = 50;
  f.env.services["web"].health_check_grace_period_seconds = 30;
  json service = Service(2, 2);
  service["deploymentConfiguration"]["alarms"] = {{"enable", false}};  // ECS's own, not compared
  Plan plan = PlanRelease(f.cfg, f.env, Released(Template(), Template(), service));
  EXPECT_EQ(Paths(plan.services[0].settings),
            (std::vector<std::string>{"deploymentConfiguration.minimumHealthyPercent", "healthCheckGracePeriodSeconds"}));
  EXPECT_TRUE(plan.Changes());
}

// A release sets the target group's deregistration delay on every run.
TEST(Plan, ADeregistrationDelayOtherThanTheConfigsIsAChange) {
  Fixture f;
  f.cfg.services["web"].deregistration_delay_seconds = 30;
  PlanInput in = Released(Template(), Template(), Service(2, 2));
  in.infrastructure.deregistration_delays["web"] = 30;
  EXPECT_FALSE(PlanRelease(f.cfg, f.env, in).Changes());
  in.infrastructure.deregistration_delays["web"] = 300;
  Plan plan = PlanRelease(f.cfg, f.env, in);
  ASSERT_EQ(plan.services[0].settings.size(), 1u);
  EXPECT_EQ(plan.services[0].settings[0].path, "targetGroup.deregistrationDelaySeconds");
  EXPECT_EQ(plan.services[0].settings[0].before, 300);
  EXPECT_EQ(plan.services[0].settings[0].after, 30);
  EXPECT_TRUE(plan.Changes());
}

// Every release runs the migration, so the plan says it will without calling it a change.
TEST(Plan, AMigrationIsShownButIsNotAChange) {
  Fixture f;
  f.cfg.services["web"].migrate_command = {"bin/migrate", "--up"};
  Plan plan = PlanRelease(f.cfg, f.env, Released(Template(), Template(), Service(2, 2)));
  EXPECT_EQ(plan.services[0].migration, "bin/migrate --up");
  EXPECT_FALSE(plan.Changes());
  EXPECT_NE(FormatPlan(plan, "dev").find("migration run before the rollout (every release): bin/migrate --up"),
            std::string::npos);
  EXPECT_EQ(PlanJson(plan)["services"][0]["migration"], "bin/migrate --up");
  f.cfg.services["web"].migrate_command.clear();
  EXPECT_TRUE(PlanJson(PlanRelease(f.cfg, f.env, Released(Template(), Template(), Service(2, 2))))["services"][0]["migration"].is_null());
}

// A release's UpdateService sends the networking settings, so a change to them is a change.
TEST(Plan, NetworkSettingsThatDifferFromTheConfigAreChanges) {
  Fixture f;
  f.env.subnets = {"subnet-b", "subnet-a"};
  f.env.security_groups = {"sg-1"};
  json service = Service(2, 2);
  service["networkConfiguration"] = {{"awsvpcConfiguration", {{"subnets", {"subnet-a", "subnet-b"}},
                                                             {"securityGroups", {"sg-1"}}}}};
  auto in = Released(Template(), Template(), service);
  in.infrastructure.security_groups = {"sg-1"};
  Plan same = PlanRelease(f.cfg, f.env, in);
  EXPECT_TRUE(same.services[0].settings.empty()) << "order, or assignPublicIp left to its default, is no change";
  EXPECT_FALSE(same.Changes());

  f.env.subnets = {"subnet-a", "subnet-c"};
  Plan moved = PlanRelease(f.cfg, f.env, in);
  EXPECT_EQ(Paths(moved.services[0].settings), (std::vector<std::string>{"networkConfiguration.awsvpcConfiguration.subnets"}));
  EXPECT_TRUE(moved.Changes());

  f.env.subnets = {"subnet-a", "subnet-b"};
  f.env.assign_public_ip = true;
  Plan public_ip = PlanRelease(f.cfg, f.env, in);
  EXPECT_EQ(Paths(public_ip.services[0].settings),
            (std::vector<std::string>{"networkConfiguration.awsvpcConfiguration.assignPublicIp"}));
}

TEST(Plan, DifferentLoadBalancerWiringIsANoteNotAChange) {
  Fixture f;
  json service = Service(2, 2);
  service["loadBalancers"][0]["containerPort"] = 9090;
  Plan plan = PlanRelease(f.cfg, f.env, Released(Template(), Template(), service));
  EXPECT_FALSE(plan.Changes());
  ASSERT_EQ(plan.services[0].notes.size(), 1u);
  EXPECT_NE(plan.services[0].notes[0].find("9090"), std::string::npos);
}

TEST(Plan, ImagesSlipwayBuildsAreListedAndShownAsBuiltAtRelease) {
  Fixture f;
  f.cfg.services["web"].builds["web"].context = "/app";
  json rendered = Template();
  rendered["containerDefinitions"][0]["image"] = kBuiltAtRelease;
  json running = Template();
  running["containerDefinitions"][0]["image"] = "127.0.0.1:5000/demo/web@sha256:" + std::string(64, 'a');
  Plan plan = PlanRelease(f.cfg, f.env, Released(running, rendered, Service(2, 2)));
  EXPECT_EQ(plan.services[0].builds, std::vector<std::string>{"web (/app)"});
  EXPECT_EQ(Paths(plan.services[0].definition), std::vector<std::string>{"containerDefinitions[web].image"});
  EXPECT_EQ(plan.services[0].definition[0].after, kBuiltAtRelease);
  EXPECT_TRUE(plan.Changes());
  json j = PlanJson(plan);
  EXPECT_EQ(j["services"][0]["builds"][0], "web (/app)");
}

TEST(NormalizeDefinition, DropsRegistrationFieldsAndFilledInDefaults) {
  json registered = Registered(Template(), 7);
  registered["cpu"] = 256;  // a number where the template has a string
  json normalized = NormalizeDefinition(registered, Template());
  for (const char* key : {"revision", "taskDefinitionArn", "status", "registeredAt", "registeredBy",
                          "requiresAttributes", "compatibilities", "networkMode", "volumes", "placementConstraints"}) {
    EXPECT_FALSE(normalized.contains(key)) << key;
  }
  EXPECT_EQ(normalized["cpu"], "256");
  EXPECT_TRUE(DiffJson(normalized, NormalizeDefinition(Template(), json())).empty());
}

TEST(DiffJson, AnEmptyListIsTheSameAsNone) {
  EXPECT_TRUE(DiffJson({{"volumes", json::array()}}, json::object()).empty());
  EXPECT_TRUE(DiffJson(json::object(), {{"dockerLabels", json::object()}}).empty());
  EXPECT_EQ(DiffJson(json::object(), {{"command", {"a"}}}).size(), 1u);
}

TEST(DiffJson, ComparesArraysWithoutNamesAsWholeValues) {
  auto changes = DiffJson({{"command", {"a", "b"}}}, {{"command", {"a", "c"}}});
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].path, "command");
  EXPECT_EQ(changes[0].after, json({"a", "c"}));
}

}  // namespace
}  // namespace slipway::deploy
