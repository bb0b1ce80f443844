// Image references as Docker reads them, in a table.
#include "registry/reference.h"

#include <gtest/gtest.h>

namespace slipway::registry {
namespace {

const std::string kDigest = "sha256:" + std::string(64, 'a');

TEST(ParseImageReference, SplitsRegistryRepositoryTagAndDigest) {
  struct Row {
    std::string image, name, registry, repository, tag, digest;
    bool loopback;
  };
  const Row rows[] = {
      {"nginx", "nginx", "registry-1.docker.io", "library/nginx", "latest", "", false},
      {"nginx:1.27", "nginx", "registry-1.docker.io", "library/nginx", "1.27", "", false},
      {"docker.io/nginx:1.27", "docker.io/nginx", "registry-1.docker.io", "library/nginx", "1.27", "", false},
      {"bitnami/redis:7", "bitnami/redis", "registry-1.docker.io", "bitnami/redis", "7", "", false},
      {"127.0.0.1:5000/shop/api:v1", "127.0.0.1:5000/shop/api", "127.0.0.1:5000", "shop/api", "v1", "", true},
      {"localhost/app", "localhost/app", "localhost", "app", "latest", "", true},
      {"localhost:30123/a__b/c-d.e:x_y", "localhost:30123/a__b/c-d.e", "localhost:30123", "a__b/c-d.e", "x_y", "", true},
      {"123456789012.dkr.ecr.eu-west-1.amazonaws.com/api@" + kDigest,
       "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api", "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "api", "",
       kDigest, false},
      {"ghcr.io/org/tool:2@" + kDigest, "ghcr.io/org/tool", "ghcr.io", "org/tool", "2", kDigest, false},
  };
  for (const auto& row : rows) {
    auto r = ParseImageReference(row.image);
    ASSERT_TRUE(r) << row.image << ": " << r.error().message;
    EXPECT_EQ(r->name, row.name) << row.image;
    EXPECT_EQ(r->registry, row.registry) << row.image;
    EXPECT_EQ(r->repository, row.repository) << row.image;
    EXPECT_EQ(r->tag, row.tag) << row.image;
    EXPECT_EQ(r->digest, row.digest) << row.image;
    EXPECT_EQ(r->Loopback(), row.loopback) << row.image;
    EXPECT_EQ(r->Reference(), row.digest.empty() ? row.tag : row.digest) << row.image;
  }
}

TEST(ParseImageReference, PinnedDropsTheTag) {
  auto r = ParseImageReference("127.0.0.1:5000/shop/api:v1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->Pinned(kDigest), "127.0.0.1:5000/shop/api@" + kDigest);
}

TEST(ParseImageReference, RefusesWhatNoRegistryWouldServe) {
  const std::string bad[] = {"",
                             "Nginx",
                             "nginx:",
                             "nginx:-x",
                             "nginx@sha256:abc",
                             "nginx@md5:" + std::string(32, 'a'),
                             "shop//api",
                             "shop/api/",
                             "-volume=/:/host",
                             "a/b:c:d",
                             std::string(600, 'a'),
                             "host:5000/Bad",
                             "nginx:" + std::string(129, 'x')};
  for (const auto& image : bad) {
    auto r = ParseImageReference(image);
    EXPECT_FALSE(r) << image;
    if (!r) {
      EXPECT_NE(r.error().message.find("invalid reference"), std::string::npos) << r.error().message;
    }
  }
}

TEST(IsSha256Digest, WantsSixtyFourLowercaseHexDigits) {
  EXPECT_TRUE(IsSha256Digest(kDigest));
  EXPECT_FALSE(IsSha256Digest("sha256:" + std::string(63, 'a')));
  EXPECT_FALSE(IsSha256Digest("sha256:" + std::string(64, 'A')));
  EXPECT_FALSE(IsSha256Digest("sha512:" + std::string(64, 'a')));
}

}  // namespace
}  // namespace slipway::registry
