// Template mistakes are found before a release contacts anything.
#include "deploy/template_check.h"

#include <gtest/gtest.h>

#include "aws/testing/temp_dir.h"

namespace slipway::deploy {
namespace {

constexpr const char* kGood = R"({
  "family": "demo-web",
  "containerDefinitions": [
    {"name": "web", "image": "${IMAGE:-web:1}", "portMappings": [{"containerPort": 8080}]}
  ]
})";

struct Fixture {
  aws::testing::TempDir dir;
  config::Config cfg;
  config::Environment env;

  explicit Fixture(const std::string& template_text) {
    config::ServiceSpec& svc = cfg.services["web"];
    svc.name = "web";
    svc.container = "web";
    svc.container_port = 8080;
    svc.task_definition_path = dir.Write("web.taskdef.json", template_text);
    env.name = "dev";
    env.services["web"].service_name = "demo-dev-web";
  }
  std::string Check(const std::map<std::string, std::string>& vars = {}) {
    auto r = CheckTemplates(cfg, env, vars);
    return r ? "" : r.error().message;
  }
};

TEST(CheckTemplates, AcceptsAGoodTemplate) { EXPECT_EQ(Fixture(kGood).Check(), ""); }

TEST(CheckTemplates, AJsonSyntaxErrorNamesFileLineAndColumn) {
  Fixture f("{\n  \"family\": \"x\",\n  \"containerDefinitions\": [,]\n}");
  EXPECT_NE(f.Check().find("web.taskdef.json:3:28: invalid JSON"), std::string::npos) << f.Check();
}

TEST(CheckTemplates, AnUnsetVariableIsAnError) {
  Fixture f(R"({"containerDefinitions": [{"name": "web", "image": "${NOPE}"}]})");
  EXPECT_NE(f.Check().find("${NOPE} is not set"), std::string::npos) << f.Check();
}

TEST(CheckTemplates, TheLoadBalancerVariablesHavePlaceholders) {
  Fixture f(R"({"containerDefinitions": [{"name": "web", "image": "x", "portMappings": [{"containerPort": 8080}],
    "environment": [{"name": "B", "value": "${LOAD_BALANCER_URL}/api ${LOAD_BALANCER_DNS}"}]}]})");
  EXPECT_EQ(f.Check(), "");
}

TEST(CheckTemplates, AContainerThatNamesNoContainerIsRefusedNamingThoseThereAre) {
  Fixture f(kGood);
  f.cfg.services["web"].container = "app";
  EXPECT_NE(f.Check().find("container 'app' names no container of the template (it has: web)"), std::string::npos)
      << f.Check();
}

TEST(CheckTemplates, AnEmptyContainerListIsRefused) {
  Fixture f(R"({"containerDefinitions": []})");
  EXPECT_NE(f.Check().find("containerDefinitions: must list at least one container"), std::string::npos) << f.Check();
}

TEST(CheckTemplates, AMigrationContainerThatNamesNoContainerIsRefused) {
  Fixture f(kGood);
  f.cfg.services["web"].migrate_command = {"migrate"};
  f.cfg.services["web"].migrate_container = "db";
  EXPECT_NE(f.Check().find("migrate.container 'db'"), std::string::npos) << f.Check();
}

TEST(CheckTemplates, AContainerPortWithoutAPortMappingIsRefusedNamingBoth) {
  Fixture f(kGood);
  f.cfg.services["web"].container_port = 9090;
  EXPECT_NE(f.Check().find("containerPort 9090 matches no port mapping of container 'web' (its containerPorts: 8080)"),
            std::string::npos)
      << f.Check();
}

}  // namespace
}  // namespace slipway::deploy
