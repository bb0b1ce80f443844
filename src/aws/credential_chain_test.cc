// The chain's order and each source it reaches, against fake STS, IMDS, container and SSO
// endpoints on 127.0.0.1. IMDS is disabled in every test that is not about it.
#include "aws/credential_chain.h"

#include <gtest/gtest.h>

#include "aws/testing/fake_credentials.h"
#include "aws/testing/loopback_http_server.h"
#include "aws/testing/temp_dir.h"
#include "base/crypto.h"

namespace slipway::aws {
namespace {

using testing::CredentialDocument;
using testing::LoopbackHttpServer;
using testing::ReceivedRequest;
using testing::Reply;
using testing::StsReply;
using testing::TempDir;

// A home directory with optional ~/.aws files, and the chain over it.
struct Chain {
  TempDir home;
  EnvVars env;
  std::string profile_flag;
  CurlTransport transport;
  FakeClock clock;

  Chain() : env{{"HOME", home.path()}, {"AWS_EC2_METADATA_DISABLED", "true"}} {}

  Result<std::shared_ptr<CredentialProvider>> Resolve() {
    auto files = ProfileFiles::Load(env);
    if (!files) return tl::unexpected(files.error());
    const EndpointConfig endpoints(env, files->Profile(ChosenProfile(profile_flag, env)), &*files);
    return ResolveCredentialChain(
        {env, profile_flag, &*files, &endpoints, "eu-west-1", &transport, &clock});
  }
  std::string KeyOf(CredentialProvider& p) { return p.Get()->access_key_id; }
};

// Answers AssumeRole and AssumeRoleWithWebIdentity, naming the issued key after the role.
Reply FakeSts(const ReceivedRequest& r) {
  const std::string action = r.FormValue("Action");
  const std::string role = r.FormValue("RoleArn");
  return Reply{200,
               StsReply(action, "ASIA-" + role.substr(role.rfind('/') + 1), "2023-11-14T23:13:20Z"),
               "text/xml"};
}

TEST(CredentialChain, EnvironmentVariablesComeFirst) {
  Chain c;
  c.env["AWS_ACCESS_KEY_ID"] = "AKIDENV";
  c.env["AWS_SECRET_ACCESS_KEY"] = "s";
  c.env["AWS_SESSION_TOKEN"] = "t";
  c.home.Write(".aws/credentials",
               "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = s\n");
  auto p = c.Resolve();
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ((*p)->Get()->session_token, "t");
  EXPECT_EQ(c.KeyOf(**p), "AKIDENV");
  EXPECT_EQ((*p)->Source(), "environment variables");
}

TEST(CredentialChain, WhenNothingIsFoundTheErrorListsEachSourceAndWhy) {
  Chain c;
  c.env["AWS_ACCESS_KEY_ID"] = "only-half";
  auto p = c.Resolve();
  ASSERT_FALSE(p);
  const std::string& m = p.error().message;
  EXPECT_NE(m.find("no AWS credentials found; tried:"), std::string::npos) << m;
  EXPECT_NE(m.find("environment variables: AWS_SECRET_ACCESS_KEY is not set"), std::string::npos)
      << m;
  EXPECT_NE(m.find("web identity: AWS_WEB_IDENTITY_TOKEN_FILE is not set"), std::string::npos) << m;
  EXPECT_NE(m.find("profile default: not in " + c.home.path() + "/.aws/config (no such file)"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("EC2 instance metadata: disabled by AWS_EC2_METADATA_DISABLED=true"),
            std::string::npos)
      << m;
}

TEST(CredentialChain, AProfileAskedForByNameMustExist) {
  Chain c;
  c.env["AWS_PROFILE"] = "prod";
  c.home.Write(".aws/config", "[profile dev]\nregion = eu-west-1\n");
  auto p = c.Resolve();
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("no profile prod in"), std::string::npos) << p.error().message;
}

TEST(CredentialChain, TheProfileFlagWinsOverAwsProfile) {
  Chain c;
  c.env["AWS_PROFILE"] = "other";
  c.profile_flag = "dev";
  c.home.Write(".aws/credentials",
               "[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = s\n"
               "[other]\naws_access_key_id = AKIDOTHER\naws_secret_access_key = s\n");
  auto p = c.Resolve();
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(c.KeyOf(**p), "AKIDDEV");
}

TEST(CredentialChain, RoleArnWithSourceProfileAssumesTheRoleWithTheSourceKeys) {
  Chain c;
  LoopbackHttpServer sts(FakeSts);
  c.env["AWS_ENDPOINT_URL_STS"] = sts.url();
  c.env["AWS_PROFILE"] = "deploy";
  c.home.Write(".aws/config",
               "[profile deploy]\nrole_arn = arn:aws:iam::1:role/deployer\nsource_profile = base\n"
               "external_id = ext\nduration_seconds = 900\nrole_session_name = ci-run\n");
  c.home.Write(".aws/credentials",
               "[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = s\n");
  auto p = c.Resolve();
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(c.KeyOf(**p), "ASIA-deployer");
  const ReceivedRequest r = sts.requests().at(0);
  EXPECT_EQ(r.FormValue("ExternalId"), "ext");
  EXPECT_EQ(r.FormValue("DurationSeconds"), "900");
  EXPECT_EQ(r.FormValue("RoleSessionName"), "ci-run");
  EXPECT_NE(r.Header("authorization").find("Credential=AKIDBASE/"), std::string::npos);
}

TEST(CredentialChain, ChainedRolesAssumeEachInTurnAndLoopsAreRefused) {
  Chain c;
  LoopbackHttpServer sts(FakeSts);
  c.env["AWS_ENDPOINT_URL_STS"] = sts.url();
  c.profile_flag = "outer";
  c.home.Write(".aws/config",
               "[profile outer]\nrole_arn = arn:aws:iam::1:role/outer\nsource_profile = inner\n"
               "[profile inner]\nrole_arn = arn:aws:iam::1:role/inner\nsource_profile = base\n"
               "[profile base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = s\n"
               "[profile loop]\nrole_arn = arn:aws:iam::1:role/loop\nsource_profile = loop2\n"
               "[profile loop2]\nrole_arn = arn:aws:iam::1:role/loop2\nsource_profile = loop\n");
  auto p = c.Resolve();
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(c.KeyOf(**p), "ASIA-outer");
  ASSERT_EQ(sts.requests().size(), 2u);
  EXPECT_NE(sts.requests()[1].Header("authorization").find("Credential=ASIA-inner/"),
            std::string::npos);
  c.profile_flag = "loop";
  auto loop = c.Resolve();
  ASSERT_FALSE(loop);
  EXPECT_NE(loop.error().message.find("loops back"), std::string::npos) << loop.error().message;
}

TEST(CredentialChain, RoleArnWithCredentialSourceEnvironmentOrEcsContainer) {
  Chain c;
  LoopbackHttpServer sts(FakeSts);
  LoopbackHttpServer agent([](const ReceivedRequest&) {
    return Reply{200, CredentialDocument("ASIAAGENT", "2023-11-15T04:13:20Z")};
  });
  c.env["AWS_ENDPOINT_URL_STS"] = sts.url();
  c.home.Write(
      ".aws/config",
      "[profile env]\nrole_arn = arn:aws:iam::1:role/from-env\ncredential_source = Environment\n"
      "[profile ecs]\nrole_arn = arn:aws:iam::1:role/from-ecs\ncredential_source = EcsContainer\n"
      "[profile bad]\nrole_arn = arn:aws:iam::1:role/x\ncredential_source = Somewhere\n");
  c.profile_flag = "env";
  auto none = c.Resolve();
  ASSERT_FALSE(none);  // the profile needs the variables it names
  EXPECT_NE(none.error().message.find("credential_source Environment"), std::string::npos)
      << none.error().message;
  c.profile_flag = "ecs";
  c.env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = agent.url() + "/creds";
  auto ecs = c.Resolve();
  ASSERT_TRUE(ecs) << ecs.error().message;
  EXPECT_EQ(c.KeyOf(**ecs), "ASIA-from-ecs");
  EXPECT_NE(sts.requests().back().Header("authorization").find("Credential=ASIAAGENT/"),
            std::string::npos);
  c.profile_flag = "bad";
  auto bad = c.Resolve();
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("credential_source Somewhere is not one of"),
            std::string::npos);
}

TEST(CredentialChain, WebIdentityFromTheEnvironmentComesBeforeProfiles) {
  Chain c;
  LoopbackHttpServer sts(FakeSts);
  c.env["AWS_ENDPOINT_URL_STS"] = sts.url();
  c.env["AWS_WEB_IDENTITY_TOKEN_FILE"] = c.home.Write("token", "jwt-from-file\n");
  c.env["AWS_ROLE_ARN"] = "arn:aws:iam::1:role/ci";
  c.env["AWS_ROLE_SESSION_NAME"] = "pipeline-7";
  c.home.Write(".aws/credentials",
               "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = s\n");
  auto p = c.Resolve();
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(c.KeyOf(**p), "ASIA-ci");
  const ReceivedRequest r = sts.requests().at(0);
  EXPECT_EQ(r.FormValue("WebIdentityToken"), "jwt-from-file");
  EXPECT_EQ(r.FormValue("RoleSessionName"), "pipeline-7");
}

TEST(CredentialChain, CredentialProcessProfile) {
  Chain c;
  c.home.Write(".aws/config",
               "[default]\ncredential_process = printf "
               "'{\"Version\":1,\"AccessKeyId\":\"AKIDPROC\",\"SecretAccessKey\":\"s\"}'\n");
  auto p = c.Resolve();
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(c.KeyOf(**p), "AKIDPROC");
  EXPECT_EQ((*p)->Source(), "profile default (credential_process)");
}

TEST(CredentialChain, SsoSessionProfileUsesTheCachedTokenAndThePortal) {
  Chain c;
  LoopbackHttpServer portal([](const ReceivedRequest& r) {
    if (r.Header("x-amz-sso_bearer_token") != "bearer") return Reply{401, "{}"};
    return Reply{
        200,
        R"({"roleCredentials":{"accessKeyId":"ASIASSO","secretAccessKey":"s","sessionToken":"t","expiration":1700003600000}})"};
  });
  c.env["AWS_ENDPOINT_URL_SSO"] = portal.url();
  c.home.Write(".aws/config",
               "[profile dev]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = Deployer\n"
               "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = "
               "eu-west-1\n");
  c.home.Write(".aws/sso/cache/" + Sha1Hex("corp") + ".json",
               R"({"accessToken":"bearer","expiresAt":"2023-11-15T00:00:00Z"})");
  c.profile_flag = "dev";
  auto p = c.Resolve();
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(c.KeyOf(**p), "ASIASSO");
}

TEST(CredentialChain, ContainerCredentialsComeAfterProfiles) {
  Chain c;
  LoopbackHttpServer agent([](const ReceivedRequest& r) {
    return r.Header("authorization") == "tok"
               ? Reply{200, CredentialDocument("ASIAAGENT", "2023-11-15T04:13:20Z")}
               : Reply{401, "{}"};
  });
  c.env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = agent.url() + "/v2/creds";
  c.env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "tok";
  auto p = c.Resolve();
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(c.KeyOf(**p), "ASIAAGENT");
  c.env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://192.0.2.1/creds";
  auto refused = c.Resolve();
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("must be https"), std::string::npos);
}

TEST(CredentialChain, InstanceMetadataIsLastAndItsFailureIsListed) {
  Chain c;
  LoopbackHttpServer imds([](const ReceivedRequest& r) {
    if (r.method == "PUT") return Reply{200, "t"};
    if (r.target.back() == '/') return Reply{200, "role", "text/plain"};
    return Reply{200, CredentialDocument("ASIAIMDS", "2023-11-15T04:13:20Z")};
  });
  c.env.erase("AWS_EC2_METADATA_DISABLED");
  c.env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = imds.url();
  auto p = c.Resolve();
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(c.KeyOf(**p), "ASIAIMDS");
  EXPECT_EQ((*p)->Source(), "EC2 instance metadata");

  LoopbackHttpServer no_role([](const ReceivedRequest& r) {
    return r.method == "PUT" ? Reply{200, "t"} : Reply{404, ""};
  });
  c.env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = no_role.url();
  auto none = c.Resolve();
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("instance metadata " + no_role.url() +
                                      ": the instance has no IAM role"),
            std::string::npos)
      << none.error().message;
}

}  // namespace
}  // namespace slipway::aws
