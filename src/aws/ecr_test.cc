// Ecr against a scripted transport: the bodies each call sends, botocore-shaped replies,
// pagination, the error codes callers decide on, and replies that are not what the model says.
#include "aws/ecr.h"

#include <gtest/gtest.h>

#include "aws/testing/scripted_json_transport.h"

namespace slipway::aws {
namespace {

using nlohmann::json;
using testing::ScriptedJsonTransport;

struct EcrFixture {
  ScriptedJsonTransport transport;
  FakeClock clock;
  AwsClient client{transport, clock, Credentials{"AKID", "SECRET", ""},
                   Endpoint{"us-east-1", "http://x", {}}};
  Ecr ecr{client};
};

constexpr const char* kRepositoryJson = R"({
  "repositoryArn":"arn:aws:ecr:us-east-1:123456789012:repository/shop/api",
  "registryId":"123456789012","repositoryName":"shop/api",
  "repositoryUri":"123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/api",
  "createdAt":1700000000.0,"imageTagMutability":"MUTABLE",
  "imageScanningConfiguration":{"scanOnPush":false},
  "encryptionConfiguration":{"encryptionType":"AES256"}})";

TEST(Ecr, GetAuthorizationTokenReadsTheFirstLogin) {
  EcrFixture f;
  f.transport.Answer(R"({"authorizationData":[{"authorizationToken":"QVdTOnNlY3JldA==",
      "expiresAt":1700043200.5,"proxyEndpoint":"https://123456789012.dkr.ecr.us-east-1.amazonaws.com"}]})");
  auto token = f.ecr.GetAuthorizationToken();
  ASSERT_TRUE(token) << token.error().message;
  EXPECT_EQ(token->token, "QVdTOnNlY3JldA==");
  EXPECT_EQ(token->proxy_endpoint, "https://123456789012.dkr.ecr.us-east-1.amazonaws.com");
  EXPECT_DOUBLE_EQ(token->expires_at, 1700043200.5);
  EXPECT_EQ(f.transport.calls[0].target,
            "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken");
  EXPECT_EQ(f.transport.calls[0].body, json::object());
}

TEST(Ecr, GetAuthorizationTokenWithoutAnyLoginIsAnError) {
  for (const char* reply :
       {R"({})", R"({"authorizationData":[]})", R"({"authorizationData":[7]})"}) {
    EcrFixture f;
    f.transport.Answer(reply);
    auto token = f.ecr.GetAuthorizationToken();
    ASSERT_FALSE(token) << reply;
    EXPECT_EQ(token.error().message,
              "ecr GetAuthorizationToken: the reply has no authorizationData")
        << reply;
  }
  EcrFixture f;
  f.transport.Answer(R"({"authorizationData":{"authorizationToken":"x"}})");
  auto token = f.ecr.GetAuthorizationToken();
  ASSERT_FALSE(token);
  EXPECT_EQ(
      token.error().message,
      "ecr GetAuthorizationToken: unexpected reply: authorizationData is an object, not a list");
}

TEST(Ecr, DescribeRepositoriesNamesTheRepositoriesAndReadsThem) {
  EcrFixture f;
  f.transport.Answer(std::string(R"({"repositories":[)") + kRepositoryJson + "]}");
  auto repos = f.ecr.DescribeRepositories({"shop/api"});
  ASSERT_TRUE(repos) << repos.error().message;
  ASSERT_EQ(repos->size(), 1u);
  EXPECT_EQ((*repos)[0].name, "shop/api");
  EXPECT_EQ((*repos)[0].uri, "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/api");
  EXPECT_EQ((*repos)[0].arn, "arn:aws:ecr:us-east-1:123456789012:repository/shop/api");
  EXPECT_EQ(f.transport.calls[0].target,
            "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories");
  EXPECT_EQ(f.transport.calls[0].body, json({{"repositoryNames", {"shop/api"}}}));
}

TEST(Ecr, DescribeRepositoriesFollowsNextToken) {
  EcrFixture f;
  f.transport.Answer(R"({"repositories":[{"repositoryName":"a"}],"nextToken":"1"})");
  f.transport.Answer(R"({"repositories":[{"repositoryName":"b"}]})");
  auto repos = f.ecr.DescribeRepositories({});
  ASSERT_TRUE(repos) << repos.error().message;
  ASSERT_EQ(repos->size(), 2u);
  EXPECT_EQ((*repos)[1].name, "b");
  ASSERT_EQ(f.transport.calls.size(), 2u);
  EXPECT_EQ(f.transport.calls[0].body, json::object());
  EXPECT_EQ(f.transport.calls[1].body, json({{"nextToken", "1"}}));
}

TEST(Ecr, DescribeRepositoriesFailsOnTokensThatAlternate) {
  EcrFixture f;
  // Given a service that answers A, B, A, B, ...
  for (int i = 0; i < 2000; ++i) {
    f.transport.Answer(R"({"repositories":[{"repositoryName":"a"}],"nextToken":")" +
                       std::string(i % 2 == 0 ? "A" : "B") + "\"}");
  }
  auto repos = f.ecr.DescribeRepositories({});
  ASSERT_FALSE(repos);
  EXPECT_EQ(repos.error().message,
            "ecr DescribeRepositories: unexpected reply: nextToken A came twice");
  EXPECT_EQ(f.transport.calls.size(), 3u);
}

TEST(Ecr, DescribeRepositoriesKeepsTheCodeOfAMissingRepository) {
  EcrFixture f;
  f.transport.Refuse(
      "RepositoryNotFoundException",
      "The repository with name 'shop/api' does not exist in the registry with id '123456789012'");
  auto repos = f.ecr.DescribeRepositories({"shop/api"});
  ASSERT_FALSE(repos);
  EXPECT_EQ(repos.error().code, "RepositoryNotFoundException");
}

TEST(Ecr, CreateRepositoryReadsTheNewRepository) {
  EcrFixture f;
  f.transport.Answer(std::string(R"({"repository":)") + kRepositoryJson + "}");
  auto repo = f.ecr.CreateRepository("shop/api");
  ASSERT_TRUE(repo) << repo.error().message;
  EXPECT_EQ(repo->uri, "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/api");
  EXPECT_EQ(f.transport.calls[0].target, "AmazonEC2ContainerRegistry_V20150921.CreateRepository");
  EXPECT_EQ(f.transport.calls[0].body, json({{"repositoryName", "shop/api"}}));
}

TEST(Ecr, CreateRepositoryKeepsTheCodeOfARepositoryThatExists) {
  EcrFixture f;
  f.transport.Refuse("RepositoryAlreadyExistsException",
                     "The repository with name 'shop/api' already exists");
  auto repo = f.ecr.CreateRepository("shop/api");
  ASSERT_FALSE(repo);
  EXPECT_EQ(repo.error().code, "RepositoryAlreadyExistsException");
}

TEST(Ecr, CreateRepositoryFailsOnAGarbledRepository) {
  EcrFixture f;
  f.transport.Answer(R"({"repository":"shop/api"})");
  auto repo = f.ecr.CreateRepository("shop/api");
  ASSERT_FALSE(repo);
  EXPECT_EQ(repo.error().message,
            "ecr CreateRepository: unexpected reply: repository is a string, not an object");
}

TEST(Ecr, DescribeImagesSendsTheIdsAndReadsTheDetails) {
  EcrFixture f;
  f.transport.Answer(R"({"imageDetails":[
      {"registryId":"123456789012","repositoryName":"shop/api","imageDigest":"sha256:aaa",
       "imageTags":["r1","v1.2"],"imageSizeInBytes":31457280,"imagePushedAt":1700000000.25,
       "imageManifestMediaType":"application/vnd.oci.image.manifest.v1+json"},
      {"repositoryName":"shop/api","imageDigest":"sha256:bbb"}]})");
  auto images = f.ecr.DescribeImages("shop/api", {{"", "r1"}, {"sha256:bbb", ""}});
  ASSERT_TRUE(images) << images.error().message;
  ASSERT_EQ(images->size(), 2u);
  EXPECT_EQ((*images)[0].digest, "sha256:aaa");
  EXPECT_EQ((*images)[0].tags, (std::vector<std::string>{"r1", "v1.2"}));
  EXPECT_EQ((*images)[0].size, 31457280);
  EXPECT_DOUBLE_EQ((*images)[0].pushed_at, 1700000000.25);
  EXPECT_TRUE((*images)[1].tags.empty());  // untagged
  EXPECT_EQ(f.transport.calls[0].target, "AmazonEC2ContainerRegistry_V20150921.DescribeImages");
  EXPECT_EQ(
      f.transport.calls[0].body,
      json::parse(
          R"({"repositoryName":"shop/api","imageIds":[{"imageTag":"r1"},{"imageDigest":"sha256:bbb"}]})"));
}

TEST(Ecr, DescribeImagesKeepsTheCodesCallersDecideOn) {
  for (const char* code : {"ImageNotFoundException", "RepositoryNotFoundException"}) {
    EcrFixture f;
    f.transport.Refuse(code, "no such thing");
    auto images = f.ecr.DescribeImages("shop/api", {{"", "gone"}});
    ASSERT_FALSE(images);
    EXPECT_EQ(images.error().code, code);
    // AwsClient names ECR by its endpoint prefix.
    EXPECT_EQ(images.error().message,
              std::string("api.ecr DescribeImages: ") + code + ": no such thing");
  }
}

TEST(Ecr, DescribeImagesFailsOnGarbledTags) {
  EcrFixture f;
  f.transport.Answer(R"({"imageDetails":[{"imageDigest":"sha256:aaa","imageTags":["r1",2]}]})");
  auto images = f.ecr.DescribeImages("shop/api", {{"", "r1"}});
  ASSERT_FALSE(images);
  EXPECT_EQ(images.error().message,
            "ecr DescribeImages: unexpected reply: imageTags is a number, not a list of strings");
}

TEST(Ecr, BatchDeleteImageReadsWhatWentAndWhatDidNot) {
  EcrFixture f;
  f.transport.Answer(R"({"imageIds":[{"imageDigest":"sha256:aaa","imageTag":"r1"}],
      "failures":[{"imageId":{"imageDigest":"sha256:bbb"},"failureCode":"ImageNotFound",
                   "failureReason":"Requested image not found"},
                  {"imageId":{"imageDigest":"sha256:ccc"},"failureCode":"ImageReferencedByManifestList",
                   "failureReason":"Requested image is referenced by an image index"}]})");
  auto deleted = f.ecr.BatchDeleteImage(
      "shop/api", {{"sha256:aaa", ""}, {"sha256:bbb", ""}, {"sha256:ccc", ""}});
  ASSERT_TRUE(deleted) << deleted.error().message;
  ASSERT_EQ(deleted->deleted.size(), 1u);
  EXPECT_EQ(deleted->deleted[0].digest, "sha256:aaa");
  EXPECT_EQ(deleted->deleted[0].tag, "r1");
  ASSERT_EQ(deleted->failures.size(), 2u);
  EXPECT_EQ(deleted->failures[0].image.digest, "sha256:bbb");
  EXPECT_EQ(deleted->failures[0].code, "ImageNotFound");
  EXPECT_EQ(deleted->failures[1].code, "ImageReferencedByManifestList");
  EXPECT_EQ(deleted->failures[1].reason, "Requested image is referenced by an image index");
  EXPECT_EQ(f.transport.calls[0].target, "AmazonEC2ContainerRegistry_V20150921.BatchDeleteImage");
  EXPECT_EQ(f.transport.calls[0].body, json::parse(R"({"repositoryName":"shop/api","imageIds":[
      {"imageDigest":"sha256:aaa"},{"imageDigest":"sha256:bbb"},{"imageDigest":"sha256:ccc"}]})"));
}

TEST(Ecr, BatchDeleteImageFailsOnGarbledFailures) {
  EcrFixture f;
  f.transport.Answer(R"({"imageIds":[],"failures":{"imageId":{}}})");
  auto deleted = f.ecr.BatchDeleteImage("shop/api", {{"sha256:aaa", ""}});
  ASSERT_FALSE(deleted);
  EXPECT_EQ(deleted.error().message,
            "ecr BatchDeleteImage: unexpected reply: failures is an object, not a list");
}

}  // namespace
}  // namespace slipway::aws
