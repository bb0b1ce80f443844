// `allow:` in slipway.yaml: CIDR blocks checked with file:line and key, the service's list
// replacing the environment's, an empty list admitting no one.
#include <gtest/gtest.h>

#include <fstream>

#include "config/config.h"

namespace slipway::config {
namespace {

std::string Write(const std::string& name, const std::string& text) {
  std::string path = testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

// A config whose dev environment carries `env_allow` (a line under dev, or "") and whose api
// service's settings carry `api_allow`.
std::string Config(const std::string& env_allow, const std::string& api_allow, int api_priority = 10) {
  Write("allow-web.taskdef.json", "{}");
  return "app: demo\n"
         "services:\n"
         "  web: {taskDefinition: allow-web.taskdef.json, containerPort: 8080}\n"
         "  api: {taskDefinition: allow-web.taskdef.json, containerPort: 8080}\n"
         "environments:\n"
         "  dev:\n"
         "    loadBalancer: {listenerPort: 8080}\n" +
         env_allow +
         "    services:\n"
         "      web: {desiredCount: 1}\n"
         "      api:\n"
         "        pathPattern: /api/*\n"
         "        priority: " + std::to_string(api_priority) + "\n" + api_allow;
}

TEST(Allow, AbsentMeansNoAllowlist) {
  auto cfg = LoadConfig(Write("allow-none.yaml", Config("", "")));
  ASSERT_TRUE(cfg) << cfg.error().message;
  const Environment& dev = cfg->environments.at("dev");
  EXPECT_FALSE(dev.allow);
  EXPECT_FALSE(AllowFor(dev, "web"));
  EXPECT_FALSE(AllowFor(dev, "api"));
}

TEST(Allow, TheServiceListReplacesTheEnvironmentList) {
  auto cfg = LoadConfig(Write("allow-both.yaml", Config("    allow: [127.0.0.2/32, \"2001:DB8::/32\"]\n",
                                                        "        allow: [10.0.0.0/8]\n")));
  ASSERT_TRUE(cfg) << cfg.error().message;
  const Environment& dev = cfg->environments.at("dev");
  EXPECT_EQ(*AllowFor(dev, "web"), (std::vector<std::string>{"127.0.0.2/32", "2001:db8::/32"}));
  EXPECT_EQ(*AllowFor(dev, "api"), (std::vector<std::string>{"10.0.0.0/8"}));
}

TEST(Allow, AnEmptyListAdmitsNoOne) {
  auto cfg = LoadConfig(Write("allow-empty.yaml", Config("    allow: []\n", "")));
  ASSERT_TRUE(cfg) << cfg.error().message;
  ASSERT_TRUE(AllowFor(cfg->environments.at("dev"), "web"));
  EXPECT_TRUE(AllowFor(cfg->environments.at("dev"), "web")->empty());
}

TEST(Allow, ABadBlockNamesFileLineAndKey) {
  const std::string path = Write("allow-bad.yaml", Config("", "        allow:\n          - 10.0.0.0/8\n          - 10.1.2.3/16\n"));
  auto cfg = LoadConfig(path);
  ASSERT_FALSE(cfg);
  EXPECT_EQ(cfg.error().message.rfind(path + ":15: environments.dev.services.api.allow[1]: ", 0), 0) << cfg.error().message;
  EXPECT_NE(cfg.error().message.find("10.1.0.0/16"), std::string::npos) << cfg.error().message;
}

TEST(Allow, RefusesWhatIsNoCidrList) {
  for (const char* bad : {"    allow: 127.0.0.2/32\n", "    allow: [127.0.0.2]\n", "    allow: [300.0.0.1/32]\n",
                                 "    allow: [\"::1/129\"]\n", "    allow: [{a: b}]\n",
                                 "    allow: [127.0.0.2/32, 127.0.0.2/32]\n"}) {
    auto cfg = LoadConfig(Write("allow-refused.yaml", Config(bad, "")));
    ASSERT_FALSE(cfg) << bad;
    EXPECT_NE(cfg.error().message.find(":8: environments.dev.allow"), std::string::npos) << cfg.error().message;
  }
}

TEST(Allow, APathPriorityInSlipwaysBandIsRefusedWithAnAllowlist) {
  EXPECT_TRUE(LoadConfig(Write("allow-band-open.yaml", Config("", "", 48000))));
  auto cfg = LoadConfig(Write("allow-band.yaml", Config("    allow: [10.0.0.0/8]\n", "", 48000)));
  ASSERT_FALSE(cfg);
  EXPECT_NE(cfg.error().message.find("environments.dev.services.api.priority: must be below 47001"), std::string::npos)
      << cfg.error().message;
}

}  // namespace
}  // namespace slipway::config
