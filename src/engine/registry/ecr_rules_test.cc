// ECR's value rules on names, tags, digests, ARNs and tokens, including hostile ones.
#include "engine/registry/ecr_rules.h"

#include <gtest/gtest.h>

namespace slipway::engine {
namespace {

TEST(RepositoryName, AcceptsWhatEcrAccepts) {
  for (const char* name : {"web", "team/web", "a.b", "a_b", "a__b", "a---b", "0x/1y/2z", "ab"}) {
    EXPECT_TRUE(ValidRepositoryName(name)) << name;
  }
}

TEST(RepositoryName, RefusesNamesThatCouldEscapeTheStorageDir) {
  for (const char* name : {"..", "../etc", "a/../b", "/abs", "a//b", "a/", "./a", "a/.", "a/..", "A", "web app",
                           "a___b", "a.-b", "-a", "a-", "a", "", "a\nb", "a\0b"}) {
    EXPECT_FALSE(ValidRepositoryName(name)) << name;
  }
  EXPECT_FALSE(ValidRepositoryName(std::string("ab\0cd", 5)));
  EXPECT_TRUE(ValidRepositoryName(std::string(256, 'a')));
  EXPECT_FALSE(ValidRepositoryName(std::string(257, 'a')));
}

TEST(ImageTag, FollowsTheDistributionGrammar) {
  EXPECT_TRUE(ValidImageTag("v1.2.3"));
  EXPECT_TRUE(ValidImageTag("_latest-1"));
  EXPECT_TRUE(ValidImageTag(std::string(128, 'a')));
  EXPECT_FALSE(ValidImageTag(std::string(129, 'a')));
  for (const char* tag : {"", ".hidden", "-x", "a/b", "a:b", "..", "a b", "a%2f"}) EXPECT_FALSE(ValidImageTag(tag)) << tag;
}

TEST(ImageDigest, IsSha256InLowerCaseHex) {
  const std::string hex(64, 'a');
  EXPECT_TRUE(ValidImageDigest("sha256:" + hex));
  EXPECT_FALSE(ValidImageDigest("sha256:" + std::string(64, 'A')));
  EXPECT_FALSE(ValidImageDigest("sha256:" + hex.substr(1)));
  EXPECT_FALSE(ValidImageDigest("sha512:" + hex));
  EXPECT_FALSE(ValidImageDigest("sha256:../" + hex.substr(3)));
}

TEST(RepositoryArn, RoundTripsOnlyForThisRegionAndAccount) {
  const std::string arn = RepositoryArn("us-east-1", "000000000000", "team/web");
  EXPECT_EQ(arn, "arn:aws:ecr:us-east-1:000000000000:repository/team/web");
  EXPECT_EQ(RepositoryFromArn(arn, "us-east-1", "000000000000"), "team/web");
  EXPECT_FALSE(RepositoryFromArn(arn, "eu-west-1", "000000000000"));
  EXPECT_FALSE(RepositoryFromArn(arn, "us-east-1", "111111111111"));
  EXPECT_FALSE(RepositoryFromArn("arn:aws:ecr:us-east-1:000000000000:repository/../x", "us-east-1", "000000000000"));
  EXPECT_FALSE(RepositoryFromArn("arn:aws:ecr:us-east-1:000000000000:repository/", "us-east-1", "000000000000"));
}

TEST(AuthorizationToken, IsBase64OfTheUserAndPassword) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode(std::string("\xff\x00\x80", 3)), "/wCA");
  // What `docker login` and `aws ecr get-login-password` clients decode and split at the colon.
  EXPECT_EQ(AuthorizationToken("s3cret"), "QVdTOnMzY3JldA==");
}

}  // namespace
}  // namespace slipway::engine
