// The AWS config-file reader, profiles, region and endpoint resolution, on in-memory and temp
// files.
#include "aws/config_file.h"

#include <gtest/gtest.h>

#include "aws/endpoints.h"
#include "aws/profile_config.h"
#include "aws/testing/temp_dir.h"

namespace slipway::aws {
namespace {

using testing::TempDir;

TEST(ConfigFile, ReadsSectionsKeysAndIndentedServiceSubKeys) {
  auto f = ParseIni(
      "# comment\n[profile  dev]\nRegion = eu-west-1\nservices: dev-svcs\n\n"
      "[services dev-svcs]\necs =\n  endpoint_url = http://127.0.0.1:1\n"
      "elastic_load_balancing_v2 =\n\tendpoint_url = http://127.0.0.1:2\n",
      "config");
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ((*f)["profile dev"].values["region"], "eu-west-1");
  EXPECT_EQ((*f)["profile dev"].values["services"], "dev-svcs");
  EXPECT_EQ((*f)["services dev-svcs"].nested["ecs"]["endpoint_url"], "http://127.0.0.1:1");
  EXPECT_EQ((*f)["services dev-svcs"].nested["elastic_load_balancing_v2"]["endpoint_url"],
            "http://127.0.0.1:2");
}

TEST(ConfigFile, KeepsLongSessionTokensWhole) {
  const std::string token(3000, 'T');
  auto f = ParseIni("[default]\naws_session_token = " + token + "\n", "credentials");
  ASSERT_TRUE(f);
  EXPECT_EQ((*f)["default"].values["aws_session_token"], token);
}

TEST(ConfigFile, ErrorsNameFileAndLine) {
  auto f = ParseIni("[default]\nregion = x\njust words\n", "/home/u/.aws/config");
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().message, "/home/u/.aws/config:3: expected 'key = value'");
  EXPECT_FALSE(ParseIni("key = before section\n", "c"));
}

TEST(ProfileFiles, CredentialsFileOverlaysConfigFileAndDefaultMayBePlain) {
  TempDir dir;
  EnvVars env{{"HOME", dir.path()}};
  dir.Write(".aws/config",
            "[default]\nregion = us-west-2\n[profile dev]\nregion = eu-west-1\naws_access_key_id = "
            "OLD\n");
  dir.Write(".aws/credentials", "[dev]\naws_access_key_id = NEW\naws_secret_access_key = S\n");
  auto files = ProfileFiles::Load(env);
  ASSERT_TRUE(files) << files.error().message;
  EXPECT_EQ((*files->Profile("default"))["region"], "us-west-2");
  auto dev = files->Profile("dev");
  ASSERT_TRUE(dev);
  EXPECT_EQ((*dev)["region"], "eu-west-1");
  EXPECT_EQ((*dev)["aws_access_key_id"], "NEW");
  EXPECT_FALSE(files->Profile("prod"));
}

TEST(ProfileFiles, HonoursAwsConfigFileAndSharedCredentialsFile) {
  TempDir dir;
  EnvVars env{{"HOME", "/nonexistent"},
              {"AWS_CONFIG_FILE", dir.Write("cfg", "[profile x]\nregion = ap-south-1\n")},
              {"AWS_SHARED_CREDENTIALS_FILE", dir.path() + "/missing"}};
  auto files = ProfileFiles::Load(env);
  ASSERT_TRUE(files);
  EXPECT_TRUE(files->config_exists);
  EXPECT_FALSE(files->credentials_exists);
  EXPECT_EQ((*files->Profile("x"))["region"], "ap-south-1");
  EXPECT_EQ(ChosenProfile("", {{"AWS_PROFILE", "x"}}), "x");
  EXPECT_EQ(ChosenProfile("flag", {{"AWS_PROFILE", "x"}}), "flag");
  EXPECT_EQ(ChosenProfile("", {}), "default");
}

TEST(Region, ComesFromConfigThenFlagThenEnvironmentThenProfile) {
  const ProfileSettings profile{{"region", "from-profile"}};
  const EnvVars env{{"AWS_REGION", "from-aws-region"}, {"AWS_DEFAULT_REGION", "from-default"}};
  EXPECT_EQ(ResolveRegion("yaml", "flag", env, profile, "p")->region, "yaml");
  EXPECT_EQ(ResolveRegion("", "flag", env, profile, "p")->region, "flag");
  EXPECT_EQ(ResolveRegion("", "", env, profile, "p")->from, "AWS_REGION");
  EXPECT_EQ(ResolveRegion("", "", {{"AWS_DEFAULT_REGION", "d"}}, profile, "p")->region, "d");
  EXPECT_EQ(ResolveRegion("", "", {}, profile, "p")->from, "profile p");
  auto none = ResolveRegion("", "", {}, std::nullopt, "default");
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("no AWS region"), std::string::npos);
  EXPECT_NE(none.error().message.find("--region"), std::string::npos);
}

TEST(Endpoints, EnvVarNamesFollowBotocoreServiceIds) {
  EXPECT_EQ(EndpointEnvSuffix("Elastic Load Balancing v2"), "ELASTIC_LOAD_BALANCING_V2");
  EXPECT_EQ(EndpointEnvSuffix("CloudWatch Logs"), "CLOUDWATCH_LOGS");
  EXPECT_EQ(EndpointEnvSuffix("Secrets Manager"), "SECRETS_MANAGER");
  EXPECT_EQ(EndpointConfigKey("Elastic Load Balancing v2"), "elastic_load_balancing_v2");
}

TEST(Endpoints, ServiceVariableThenGlobalThenProfileServicesThenProfileUrl) {
  TempDir dir;
  dir.Write(".aws/config",
            "[profile p]\nendpoint_url = http://profile\nservices = s\n"
            "[services s]\nsts =\n  endpoint_url = http://services-sts\n");
  auto files = ProfileFiles::Load({{"HOME", dir.path()}});
  ASSERT_TRUE(files);
  const auto profile = files->Profile("p");
  EndpointConfig only_profile({}, profile, &*files);
  EXPECT_EQ(only_profile.UrlFor("STS"), "http://services-sts");
  EXPECT_EQ(only_profile.UrlFor("ECS"), "http://profile");
  EndpointConfig global({{"AWS_ENDPOINT_URL", "http://global"}}, profile, &*files);
  EXPECT_EQ(global.UrlFor("STS"), "http://global");
  EndpointConfig specific(
      {{"AWS_ENDPOINT_URL", "http://global"}, {"AWS_ENDPOINT_URL_ECS", "http://ecs"}}, profile,
      &*files);
  EXPECT_EQ(specific.UrlFor("ECS"), "http://ecs");
  EXPECT_EQ(specific.UrlFor("CloudWatch Logs"), "http://global");
  EndpointConfig ignored(
      {{"AWS_ENDPOINT_URL_ECS", "http://ecs"}, {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"}},
      profile, &*files);
  EXPECT_EQ(ignored.UrlFor("ECS"), "");
  EndpointConfig none({}, std::nullopt, &*files);
  EXPECT_EQ(none.UrlFor("ECS"), "");
}

}  // namespace
}  // namespace slipway::aws
