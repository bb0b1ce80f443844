// Each credential source against a fake endpoint on 127.0.0.1 (real sockets, real libcurl).
#include <gtest/gtest.h>

#include "aws/metadata_credentials.h"
#include "aws/process_credentials.h"
#include "aws/sso_credentials.h"
#include "aws/sts.h"
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

const WallTime kNow = WallTime(std::chrono::seconds(1'700'000'000));  // 2023-11-14T22:13:20Z

TEST(Sts, AssumeRoleIsSignedWithTheSourceCredentialsAndCarriesTheProfileSettings) {
  LoopbackHttpServer sts([](const ReceivedRequest&) {
    return Reply{200, StsReply("AssumeRole", "ASIAROLE", "2023-11-14T23:13:20Z"), "text/xml"};
  });
  CurlTransport transport;
  auto got = AssumeRole(transport, {sts.url(), "eu-west-1"}, {"AKIDSOURCE", "source-secret", ""},
                        {"arn:aws:iam::123456789012:role/deploy", "s1", "ext-42", 1800}, kNow);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->creds.access_key_id, "ASIAROLE");
  EXPECT_EQ(got->creds.session_token, "TOKEN");
  EXPECT_EQ(got->expiration, kNow + std::chrono::hours(1));
  ASSERT_EQ(sts.requests().size(), 1u);
  const ReceivedRequest r = sts.requests()[0];
  EXPECT_EQ(r.FormValue("Action"), "AssumeRole");
  EXPECT_EQ(r.FormValue("RoleArn"), "arn:aws:iam::123456789012:role/deploy");
  EXPECT_EQ(r.FormValue("RoleSessionName"), "s1");
  EXPECT_EQ(r.FormValue("ExternalId"), "ext-42");
  EXPECT_EQ(r.FormValue("DurationSeconds"), "1800");
  EXPECT_NE(
      r.Header("authorization").find("Credential=AKIDSOURCE/20231114/eu-west-1/sts/aws4_request"),
      std::string::npos);
}

TEST(Sts, AnStsErrorNamesTheRoleAndCode) {
  LoopbackHttpServer sts([](const ReceivedRequest&) {
    return Reply{403,
                 "<ErrorResponse><Error><Code>AccessDenied</Code><Message>not "
                 "allowed</Message></Error></ErrorResponse>",
                 "text/xml"};
  });
  CurlTransport transport;
  auto got =
      AssumeRole(transport, {sts.url(), "us-east-1"}, {"A", "B", ""}, {"arn:r", "s", "", 0}, kNow);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().message, "sts AssumeRole arn:r: AccessDenied: not allowed");
}

TEST(Sts, WebIdentityIsUnsignedAndSendsTheToken) {
  LoopbackHttpServer sts([](const ReceivedRequest&) {
    return Reply{200, StsReply("AssumeRoleWithWebIdentity", "ASIAWEB", "2023-11-14T23:13:20Z"),
                 "text/xml"};
  });
  CurlTransport transport;
  auto got = AssumeRoleWithWebIdentity(transport, {sts.url(), "us-east-1"},
                                       {"arn:web", "ci", "", 0}, "oidc.jwt");
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->creds.access_key_id, "ASIAWEB");
  const ReceivedRequest r = sts.requests().at(0);
  EXPECT_EQ(r.FormValue("WebIdentityToken"), "oidc.jwt");
  EXPECT_EQ(r.FormValue("RoleSessionName"), "ci");
  EXPECT_EQ(r.Header("authorization"), "");
}

TEST(ContainerCredentials, FullUriMustBeHttpsOrLoopback) {
  EXPECT_FALSE(*ContainerEndpointFromEnv({}));
  EXPECT_FALSE(ContainerEndpointFromEnv(
      {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://example.com/creds"}}));
  EXPECT_FALSE(ContainerEndpointFromEnv(
      {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1.evil.com/"}}));
  EXPECT_TRUE(ContainerEndpointFromEnv(
      {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "https://example.com/creds"}}));
  EXPECT_TRUE(
      ContainerEndpointFromEnv({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://[::1]:80/creds"}}));
  auto relative =
      ContainerEndpointFromEnv({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc"}});
  ASSERT_TRUE(relative && *relative);
  EXPECT_EQ((*relative)->url, "http://169.254.170.2/v2/credentials/abc");
}

TEST(ContainerCredentials, FetchesWithTheAuthorizationTokenFromItsFile) {
  LoopbackHttpServer agent([](const ReceivedRequest& r) {
    if (r.Header("authorization") != "file-token") return Reply{401, "{}"};
    return Reply{200, CredentialDocument("ASIACONTAINER", "2023-11-15T04:13:20Z")};
  });
  TempDir dir;
  auto endpoint = ContainerEndpointFromEnv(
      {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", agent.url() + "/creds"},
       {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "env-token"},
       {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", dir.Write("token", "file-token\n")}});
  ASSERT_TRUE(endpoint && *endpoint);
  CurlTransport transport;
  auto got = FetchContainerCredentials(transport, **endpoint);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->creds.access_key_id, "ASIACONTAINER");
  EXPECT_EQ(got->creds.session_token, "TOKEN-ASIACONTAINER");
  EXPECT_EQ(got->expiration, kNow + std::chrono::hours(6));
  EXPECT_EQ(agent.requests().at(0).target, "/creds");
}

TEST(Imds, PutsATokenThenReadsTheRoleAndItsCredentials) {
  LoopbackHttpServer imds([](const ReceivedRequest& r) {
    if (r.method == "PUT" && r.target == "/latest/api/token") {
      return r.Header("x-aws-ec2-metadata-token-ttl-seconds").empty() ? Reply{400, ""}
                                                                      : Reply{200, "imds-token"};
    }
    if (r.Header("x-aws-ec2-metadata-token") != "imds-token") return Reply{401, ""};
    if (r.target == "/latest/meta-data/iam/security-credentials/")
      return Reply{200, "web-role\n", "text/plain"};
    if (r.target == "/latest/meta-data/iam/security-credentials/web-role") {
      return Reply{200, CredentialDocument("ASIAIMDS", "2023-11-15T04:13:20Z")};
    }
    return Reply{404, ""};
  });
  const EnvVars env{{"AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url() + "/"}};
  EXPECT_EQ(ImdsEndpoint(env), imds.url());
  EXPECT_EQ(ImdsEndpoint({}), "http://169.254.169.254");
  EXPECT_TRUE(ImdsDisabled({{"AWS_EC2_METADATA_DISABLED", "TRUE"}}));
  CurlTransport transport;
  auto got = FetchImdsCredentials(transport, ImdsEndpoint(env));
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->creds.access_key_id, "ASIAIMDS");
  EXPECT_EQ(imds.requests().size(), 3u);
}

TEST(Imds, AnInstanceWithoutARoleSaysSo) {
  LoopbackHttpServer imds([](const ReceivedRequest& r) {
    return r.method == "PUT" ? Reply{200, "t"} : Reply{404, ""};
  });
  CurlTransport transport;
  auto got = FetchImdsCredentials(transport, imds.url());
  ASSERT_FALSE(got);
  EXPECT_NE(got.error().message.find("the instance has no IAM role"), std::string::npos)
      << got.error().message;
}

TEST(CredentialProcess, ParsesVersionOneOutputWithExpiration) {
  auto got = RunCredentialProcess(
      R"(echo noise >&2; printf '%s' '{"Version": 1, "AccessKeyId": "AKIDPROC", "SecretAccessKey": "s", "SessionToken": "t", "Expiration": "2023-11-14T23:13:20+00:00"}')");
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->creds.access_key_id, "AKIDPROC");
  EXPECT_EQ(got->creds.session_token, "t");
  EXPECT_EQ(got->expiration, kNow + std::chrono::hours(1));
  EXPECT_FALSE(
      ParseProcessCredentials(R"({"Version": 2, "AccessKeyId": "a", "SecretAccessKey": "s"})"));
  EXPECT_FALSE(ParseProcessCredentials(R"({"Version": 1, "AccessKeyId": "a"})"));
}

TEST(CredentialProcess, AFieldOfTheWrongTypeIsNamed) {
  auto got = ParseProcessCredentials(R"({"Version": 1, "AccessKeyId": "a", "SecretAccessKey": 5})");
  ASSERT_FALSE(got);
  EXPECT_EQ(
      got.error().message,
      "credential_process output: unexpected reply: SecretAccessKey is a number, not a string");
}

TEST(CredentialDocument, AFieldOfTheWrongTypeIsNamedAndAFailedCodeComesFirst) {
  auto odd = ParseCredentialDocument(R"({"AccessKeyId": ["a"], "SecretAccessKey": "s"})", "imds");
  ASSERT_FALSE(odd);
  EXPECT_EQ(odd.error().message, "imds: unexpected reply: AccessKeyId is a list, not a string");
  auto failed =
      ParseCredentialDocument(R"({"Code": "Failure", "Message": "no role", "Token": 1})", "imds");
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().message, "imds: Failure: no role");
}

TEST(CredentialProcess, AFailingCommandReportsItsExitCodeAndStderr) {
  auto got = RunCredentialProcess("echo 'token expired, log in again' >&2; exit 3");
  ASSERT_FALSE(got);
  EXPECT_NE(got.error().message.find("exit code 3: token expired, log in again"), std::string::npos)
      << got.error().message;
}

TEST(Sso, ReadsTheCachedTokenAndGetsRoleCredentials) {
  TempDir dir;
  SsoRole role{"dev",       "corp",         "https://corp.awsapps.com/start",
               "eu-west-1", "123456789012", "Deployer"};
  EXPECT_EQ(SsoCacheFile(role, dir.path()), dir.path() + "/" + Sha1Hex("corp") + ".json");
  dir.Write(Sha1Hex("corp") + ".json",
            R"({"accessToken": "bearer-1", "expiresAt": "2023-11-15T00:00:00Z"})");
  LoopbackHttpServer portal([](const ReceivedRequest& r) {
    if (r.Header("x-amz-sso_bearer_token") != "bearer-1") return Reply{401, "{}"};
    return Reply{
        200,
        R"({"roleCredentials":{"accessKeyId":"ASIASSO","secretAccessKey":"s","sessionToken":"t","expiration":1700003600000}})"};
  });
  CurlTransport transport;
  auto got = FetchSsoCredentials(transport, role, dir.path(), portal.url(), kNow);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->creds.access_key_id, "ASIASSO");
  EXPECT_EQ(got->expiration, kNow + std::chrono::hours(1));
  EXPECT_EQ(portal.requests().at(0).target,
            "/federation/credentials?account_id=123456789012&role_name=Deployer");
}

TEST(Sso, RoleCredentialsOfTheWrongTypeAreAnUnexpectedReply) {
  TempDir dir;
  SsoRole role{"dev",       "corp",         "https://corp.awsapps.com/start",
               "eu-west-1", "123456789012", "Deployer"};
  dir.Write(Sha1Hex("corp") + ".json",
            R"({"accessToken": "bearer-1", "expiresAt": "2023-11-15T00:00:00Z"})");
  LoopbackHttpServer portal([](const ReceivedRequest&) {
    return Reply{
        200,
        R"({"roleCredentials":{"accessKeyId":7,"secretAccessKey":"s","expiration":1700003600000}})"};
  });
  CurlTransport transport;
  auto got = FetchSsoCredentials(transport, role, dir.path(), portal.url(), kNow);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().message,
            "sso GetRoleCredentials 123456789012/Deployer: unexpected reply: accessKeyId is a "
            "number, not a string");
}

TEST(Sso, AnExpiredTokenSaysToRunAwsSsoLogin) {
  TempDir dir;
  SsoRole role{"dev",          "",        "https://corp.awsapps.com/start", "eu-west-1",
               "123456789012", "Deployer"};
  dir.Write(Sha1Hex(role.start_url) + ".json",
            R"({"accessToken": "old", "expiresAt": "2023-11-14T22:00:00Z"})");
  CurlTransport transport;
  auto got = FetchSsoCredentials(transport, role, dir.path(), "http://127.0.0.1:9", kNow);
  ASSERT_FALSE(got);
  EXPECT_NE(got.error().message.find("expired"), std::string::npos) << got.error().message;
  EXPECT_NE(got.error().message.find("aws sso login --profile dev"), std::string::npos)
      << got.error().message;
}

}  // namespace
}  // namespace slipway::aws
