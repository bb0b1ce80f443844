// Config loading: a valid file, and errors that name file:line and the key.
#include "config/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace slipway::config {
namespace {

std::string Write(const std::string& name, const std::string& text) {
  std::string path = testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

const char* kValid = R"(app: demo
services:
  web:
    taskDefinition: web.taskdef.json
    containerPort: 8080
    healthCheck:
      path: /healthz
      intervalSeconds: 5
      timeoutSeconds: 2
environments:
  dev:
    provider: local
    loadBalancer:
      listenerPort: 8080
    services:
      web:
        desiredCount: 2
    verify:
      - path: /
        status: 200
)";

class ConfigTest : public testing::Test {
 protected:
  void SetUp() override { Write("web.taskdef.json", "{}"); }
};

TEST_F(ConfigTest, LoadsAValidFileWithDefaults) {
  auto cfg = LoadConfig(Write("ok.yaml", kValid));
  ASSERT_TRUE(cfg) << cfg.error().message;
  const Environment& dev = cfg->environments.at("dev");
  EXPECT_EQ(dev.cluster, "demo-dev");
  EXPECT_EQ(dev.load_balancer_name, "demo-dev");
  EXPECT_EQ(dev.services.at("web").service_name, "demo-dev-web");
  EXPECT_EQ(dev.services.at("web").desired_count, 2);
  EXPECT_EQ(cfg->services.at("web").health_check.interval_seconds, 5);
  EXPECT_EQ(cfg->services.at("web").deregistration_delay_seconds, 300);
  EXPECT_EQ(cfg->services.at("web").health_check.matcher, "200");
  EXPECT_TRUE(dev.pin_images);
  ASSERT_EQ(dev.verify.size(), 1u);
}

struct BadCase {
  const char* what;
  std::string from, to;
  std::string expected;  // substring of the error
};

TEST_F(ConfigTest, ErrorsNameFileLineAndKey) {
  const std::vector<BadCase> cases = {
      {"wrong type", "desiredCount: 2", "desiredCount: two",
       ":17: environments.dev.services.web.desiredCount: must be an integer"},
      {"unknown key", "desiredCount: 2", "desiredCont: 2",
       ":17: environments.dev.services.web.desiredCont: unknown key"},
      {"bad provider", "provider: local", "provider: gcp", ":12: environments.dev.provider: must be 'local' or 'aws'"},
      {"undeclared service", "      web:\n        desiredCount", "      api:\n        desiredCount",
       ":16: environments.dev.services.api: is not a service declared under services:"},
      {"missing template", "web.taskdef.json", "nope.json", ":4: services.web.taskDefinition: file not found"},
      {"timeout not below interval", "timeoutSeconds: 2", "timeoutSeconds: 5",
       ":9: services.web.healthCheck.timeoutSeconds: must be less than intervalSeconds"},
      {"empty health-check path", "path: /healthz", "path: \"\"",
       ":7: services.web.healthCheck.path: must start with /"},
      {"relative health-check path", "path: /healthz", "path: healthz",
       ":7: services.web.healthCheck.path: must start with /"},
      {"empty matcher", "timeoutSeconds: 2", "timeoutSeconds: 2\n      matcher: \"\"",
       ":10: services.web.healthCheck.matcher: must be HTTP codes from 200 to 499"},
      {"matcher out of the ALB's range", "timeoutSeconds: 2", "timeoutSeconds: 2\n      matcher: \"200,503\"",
       ":10: services.web.healthCheck.matcher: must be HTTP codes"},
      {"matcher range backwards", "timeoutSeconds: 2", "timeoutSeconds: 2\n      matcher: \"299-200\"",
       ":10: services.web.healthCheck.matcher: must be HTTP codes"},
      {"out of range", "status: 200", "status: 700", ":20: environments.dev.verify[0].status: must be between 100 and 599"},
      {"migrate command not a list", "    containerPort: 8080", "    containerPort: 8080\n    migrate:\n      command: migrate",
       ":7: services.web.migrate.command: must be a non-empty list of arguments"},
      {"approval not a boolean", "    provider: local", "    provider: local\n    approval: maybe",
       ":13: environments.dev.approval: must be true or false"},
      {"empty approval phrase", "    provider: local", "    provider: local\n    approval:\n      phrase: \"\"",
       ":14: environments.dev.approval.phrase: must not be empty"},
      {"build without context", "    containerPort: 8080", "    containerPort: 8080\n    build:\n      dockerfile: x",
       ":7: services.web.build.context: is required"},
      {"build context missing", "    containerPort: 8080", "    containerPort: 8080\n    build:\n      context: nowhere",
       ":7: services.web.build.context: directory not found"},
      {"unknown builder", "app: demo", "app: demo\nbuilder: kaniko", ":2: builder: must be auto, podman, buildah or docker"},
      {"engine listen without a port", "app: demo", "app: demo\nengine:\n  listen: 127.0.0.1",
       ":3: engine.listen: want host:port"},
      {"engine listen port out of range", "app: demo", "app: demo\nengine:\n  listen: \"127.0.0.1:70000\"",
       ":3: engine.listen: want host:port"},
      {"unknown engine key", "app: demo", "app: demo\nengine:\n  port: 1", ":3: engine.port: unknown key"},
      {"pinImages not a boolean", "    provider: local", "    provider: local\n    pinImages: sometimes",
       ":13: environments.dev.pinImages: must be true or false"},
      {"aws without subnets", "provider: local", "provider: aws",
       ":12: environments.dev.subnets: provider aws needs at least two subnets"},
      {"aws with one subnet", "provider: local", "provider: aws\n    subnets: [subnet-1]",
       ":13: environments.dev.subnets: provider aws needs at least two subnets"},
      {"unknown scheme", "      listenerPort: 8080", "      listenerPort: 8080\n      scheme: public",
       ":15: environments.dev.loadBalancer.scheme: must be internet-facing or internal"},
      {"vpc not an id", "    provider: local", "    provider: local\n    vpc: main",
       ":13: environments.dev.vpc: must be a VPC id"},
      {"onDemand not a boolean", "desiredCount: 2", "desiredCount: 2\n        onDemand: later",
       ":18: environments.dev.services.web.onDemand: must be true or false"},
      {"onDemand with nothing to start", "desiredCount: 2", "desiredCount: 0\n        onDemand: true",
       ":17: environments.dev.services.web.desiredCount: must be at least 1 with onDemand: true"},
      {"pricing not a number", "    provider: local", "    provider: local\n    pricing:\n      vcpuHour: cheap",
       ":14: environments.dev.pricing.vcpuHour: must be a number"},
      {"negative price", "    provider: local", "    provider: local\n    pricing: {gbHour: -1}",
       ":13: environments.dev.pricing.gbHour: must be between 0 and 100"},
      {"unknown pricing key", "    provider: local", "    provider: local\n    pricing:\n      vcpu: 1",
       ":14: environments.dev.pricing.vcpu: unknown key"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    std::string text = kValid;
    size_t at = text.find(c.from);
    ASSERT_NE(at, std::string::npos);
    text.replace(at, c.from.size(), c.to);
    std::string path = Write("bad.yaml", text);
    auto cfg = LoadConfig(path);
    ASSERT_FALSE(cfg);
    EXPECT_NE(cfg.error().message.find(path + c.expected), std::string::npos) << c.what << ": " << cfg.error().message;
  }
}

TEST_F(ConfigTest, OnDemandAndPricingDefaultsAndOverrides) {
  auto plain = LoadConfig(Write("plain.yaml", kValid));
  ASSERT_TRUE(plain) << plain.error().message;
  const Environment& dev = plain->environments.at("dev");
  EXPECT_FALSE(dev.services.at("web").on_demand);
  EXPECT_DOUBLE_EQ(dev.pricing.vcpu_hour, 0.04048);
  EXPECT_DOUBLE_EQ(dev.pricing.gb_hour, 0.004445);
  std::string text = kValid;
  text.replace(text.find("desiredCount: 2"), 15, "onDemand: true");
  text.replace(text.find("    provider: local"), 19, "    provider: local\n    pricing: {vcpuHour: 0.05, gbHour: 0.005}");
  auto cfg = LoadConfig(Write("ondemand.yaml", text));
  ASSERT_TRUE(cfg) << cfg.error().message;
  const Environment& e = cfg->environments.at("dev");
  EXPECT_TRUE(e.services.at("web").on_demand);
  EXPECT_EQ(e.services.at("web").desired_count, 1);  // what `service start` runs by default
  EXPECT_DOUBLE_EQ(e.pricing.vcpu_hour, 0.05);
  EXPECT_DOUBLE_EQ(e.pricing.gb_hour, 0.005);
}

TEST_F(ConfigTest, MigrationAndApprovalSettings) {
  std::string text = kValid;
  text.replace(text.find("    containerPort: 8080"), 23,
               "    containerPort: 8080\n    migrate:\n      command: [\"bin/migrate\", \"--up\"]\n      timeoutSeconds: 60");
  text.replace(text.find("    provider: local"), 19, "    provider: local\n    approval: true");
  auto cfg = LoadConfig(Write("ok2.yaml", text));
  ASSERT_TRUE(cfg) << cfg.error().message;
  const ServiceSpec& web = cfg->services.at("web");
  EXPECT_EQ(web.migrate_command, (std::vector<std::string>{"bin/migrate", "--up"}));
  EXPECT_EQ(web.migrate_container, "web");
  EXPECT_EQ(web.migrate_timeout_seconds, 60);
  EXPECT_TRUE(cfg->environments.at("dev").require_approval);
  EXPECT_EQ(cfg->environments.at("dev").approval_phrase, "deploy-dev");
  text.replace(text.find("    approval: true"), 18, "    approval: true\n    pinImages: false");
  auto unpinned = LoadConfig(Write("ok4.yaml", text));
  ASSERT_TRUE(unpinned) << unpinned.error().message;
  EXPECT_FALSE(unpinned->environments.at("dev").pin_images);
}

TEST_F(ConfigTest, EngineListenAddress) {
  auto plain = LoadConfig(Write("plain.yaml", kValid));
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_EQ(plain->engine_listen, "");  // unset: the environment's or the default address
  std::string text = kValid;
  text.replace(text.find("app: demo"), 9, "app: demo\nengine:\n  listen: \"127.0.0.1:4591\"");
  auto cfg = LoadConfig(Write("listen.yaml", text));
  ASSERT_TRUE(cfg) << cfg.error().message;
  EXPECT_EQ(cfg->engine_listen, "127.0.0.1:4591");
  EXPECT_TRUE(ValidListenAddress("localhost:1"));
  EXPECT_FALSE(ValidListenAddress(":4580"));
  EXPECT_FALSE(ValidListenAddress("127.0.0.1:"));
  EXPECT_FALSE(ValidListenAddress("127.0.0.1:0"));
  EXPECT_FALSE(ValidListenAddress("127.0.0.1:45x0"));
}

TEST_F(ConfigTest, BuildsForTheMainContainerAndOthers) {
  Write("Dockerfile", "FROM scratch\n");
  Write("nginx.Dockerfile", "FROM scratch\n");
  std::string text = kValid;
  text.replace(text.find("    containerPort: 8080"), 23,
               "    containerPort: 8080\n    build:\n      context: .\n      target: run\n      args: {A: \"1\"}\n"
               "    containers:\n      nginx:\n        build: {context: ., dockerfile: nginx.Dockerfile, repository: x/y}");
  auto cfg = LoadConfig(Write("build.yaml", text));
  ASSERT_TRUE(cfg) << cfg.error().message;
  EXPECT_EQ(cfg->builder, "auto");
  const auto& builds = cfg->services.at("web").builds;
  ASSERT_EQ(builds.size(), 2u);
  const std::string dir = testing::TempDir();
  EXPECT_EQ(builds.at("web").dockerfile, std::filesystem::path(dir + "/Dockerfile").lexically_normal().string());
  EXPECT_EQ(builds.at("web").target, "run");
  EXPECT_EQ(builds.at("web").args.at("A"), "1");
  EXPECT_EQ(builds.at("web").repository, "demo/web");
  EXPECT_EQ(builds.at("nginx").dockerfile, std::filesystem::path(dir + "/nginx.Dockerfile").lexically_normal().string());
  EXPECT_EQ(builds.at("nginx").repository, "x/y");
  auto plain = LoadConfig(Write("ok3.yaml", kValid));
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->environments.at("dev").require_approval);
  EXPECT_TRUE(plain->services.at("web").migrate_command.empty());
}

TEST_F(ConfigTest, AwsNetworkingSettings) {
  std::string text = kValid;
  text.replace(text.find("    provider: local"), 19,
               "    provider: aws\n    subnets: [subnet-a, subnet-b]\n    securityGroups: [sg-1]\n    vpc: vpc-9\n"
               "    assignPublicIp: true");
  text.replace(text.find("      listenerPort: 8080"), 24, "      listenerPort: 8080\n      scheme: internal");
  auto cfg = LoadConfig(Write("aws.yaml", text));
  ASSERT_TRUE(cfg) << cfg.error().message;
  const Environment& dev = cfg->environments.at("dev");
  EXPECT_EQ(dev.subnets, (std::vector<std::string>{"subnet-a", "subnet-b"}));
  EXPECT_EQ(dev.security_groups, (std::vector<std::string>{"sg-1"}));
  EXPECT_EQ(dev.vpc, "vpc-9");
  EXPECT_EQ(dev.scheme, "internal");
  EXPECT_TRUE(dev.assign_public_ip);
  auto plain = LoadConfig(Write("local.yaml", kValid));
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->environments.at("dev").scheme, "internet-facing");
  EXPECT_EQ(plain->environments.at("dev").vpc, "");
  EXPECT_FALSE(plain->environments.at("dev").assign_public_ip);
}

TEST_F(ConfigTest, InvalidYamlReportsTheLine) {
  auto cfg = LoadConfig(Write("broken.yaml", "app: demo\nservices: [\n"));
  ASSERT_FALSE(cfg);
  EXPECT_NE(cfg.error().message.find("broken.yaml:"), std::string::npos);
  EXPECT_NE(cfg.error().message.find("invalid YAML"), std::string::npos);
}

TEST_F(ConfigTest, ADuplicateKeyIsRefusedWithFileAndLine) {
  // Given desiredCount twice (lines 17 and 18), yaml-cpp would silently keep one of them.
  std::string text = kValid;
  text.replace(text.find("        desiredCount: 2\n"), 0, "        desiredCount: 5\n");
  auto cfg = LoadConfig(Write("dup.yaml", text));
  ASSERT_FALSE(cfg);
  EXPECT_NE(cfg.error().message.find("dup.yaml:18: environments.dev.services.web.desiredCount: duplicate key (first "
                                     "given on line 17)"),
            std::string::npos)
      << cfg.error().message;
}

TEST_F(ConfigTest, ADuplicateTopLevelKeyIsRefused) {
  auto cfg = LoadConfig(Write("dup2.yaml", std::string(kValid) + "app: other\n"));
  ASSERT_FALSE(cfg);
  EXPECT_NE(cfg.error().message.find("dup2.yaml:21: app: duplicate key (first given on line 1)"), std::string::npos)
      << cfg.error().message;
}

TEST_F(ConfigTest, AVerifyPathThatNoPathRuleRoutesIsRefused) {
  // Given the only service behind /api/*, a check of / reaches the listener's default action.
  std::string text = kValid;
  text.replace(text.find("        desiredCount: 2\n"), 0, "        pathPattern: \"/api/*\"\n        priority: 10\n");
  auto cfg = LoadConfig(Write("unrouted.yaml", text));
  ASSERT_FALSE(cfg);
  EXPECT_NE(cfg.error().message.find("environments.dev.verify[0].path: '/' reaches no service"), std::string::npos)
      << cfg.error().message;
  text.replace(text.find("      - path: /\n"), 15, "      - path: /api/stats\n");
  EXPECT_TRUE(LoadConfig(Write("routed.yaml", text))) << text;
}

TEST(ServiceForPath, TheLowestPriorityRuleThatMatchesElseTheDefaultService) {
  Environment env;
  env.services["web"] = ServiceEnv{.service_name = "web"};
  env.services["api"] = ServiceEnv{.service_name = "api", .path_pattern = "/api/*", .priority = 20};
  env.services["admin"] = ServiceEnv{.service_name = "admin", .path_pattern = "/api/admin*", .priority = 10};
  EXPECT_EQ(ServiceForPath(env, "/"), "web");
  EXPECT_EQ(ServiceForPath(env, "/api/items?x=1"), "api");
  EXPECT_EQ(ServiceForPath(env, "/api/admin/users"), "admin");
  env.services.erase("web");
  EXPECT_EQ(ServiceForPath(env, "/"), "");
}

// Every ```yaml block of the README is a config slipway loads, with the files it names beside it.
TEST(Readme, ItsConfigExamplesLoad) {
  std::ifstream in(std::string(SLIPWAY_SOURCE_DIR) + "/README.md");
  ASSERT_TRUE(in) << "README.md not found";
  const std::string dir = testing::TempDir() + "/readme";
  std::filesystem::create_directories(dir + "/nginx");
  std::ofstream(dir + "/web.taskdef.json") << "{}";
  std::ofstream(dir + "/Dockerfile") << "FROM scratch\n";
  std::ofstream(dir + "/nginx/Dockerfile") << "FROM scratch\n";
  std::string line, block;
  bool inside = false;
  int blocks = 0;
  while (std::getline(in, line)) {
    if (!inside && line == "```yaml") {
      inside = true;
      block.clear();
    } else if (inside && line == "```") {
      inside = false;
      ++blocks;
      const std::string path = dir + "/example" + std::to_string(blocks) + ".yaml";
      std::ofstream(path) << block;
      auto cfg = LoadConfig(path);
      ASSERT_TRUE(cfg) << "README yaml block " << blocks << ": " << cfg.error().message;
      EXPECT_FALSE(cfg->environments.empty()) << "README yaml block " << blocks;
    } else if (inside) {
      block += line + "\n";
    }
  }
  EXPECT_FALSE(inside) << "an unclosed ```yaml block";
  EXPECT_GE(blocks, 1);
}

TEST(Template, ExpandsVariablesAndDefaults) {
  auto out = ExpandTemplate("v=${APP_VERSION:-v1} f=${DEMO_FAIL:-} b=${BIN}", "t.json",
                            {{"BIN", "/opt/bin"}, {"DEMO_FAIL", ""}});
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, "v=v1 f= b=/opt/bin");
  EXPECT_EQ(*ExpandTemplate("${APP_VERSION:-v1}", "t", {{"APP_VERSION", "v2"}}), "v2");
}

TEST(Template, UnsetVariableWithoutDefaultNamesFileAndLine) {
  auto out = ExpandTemplate("{\n  \"x\": \"${MISSING}\"\n}", "web.taskdef.json", {});
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().message.rfind("web.taskdef.json:2: ${MISSING} is not set", 0), 0u);
}

}  // namespace
}  // namespace slipway::config
