// Manifest reading: the four types, sizes, and manifests a pusher wrote to break the engine.
#include "engine/registry/manifest.h"

#include <gtest/gtest.h>

namespace slipway::engine {
namespace {

const std::string kDigestA = "sha256:" + std::string(64, 'a');
const std::string kDigestB = "sha256:" + std::string(64, 'b');

TEST(Manifest, AnOciImageIsItsConfigPlusItsLayers) {
  auto m = SummarizeManifest(R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
    "config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":100,"digest":"x"},
    "layers":[{"size":1000},{"size":24}]})");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->media_type, kOciManifestType);
  EXPECT_EQ(m->artifact_media_type, "application/vnd.oci.image.config.v1+json");
  EXPECT_EQ(m->size_bytes, 1124);
  EXPECT_FALSE(m->is_index());
}

TEST(Manifest, ADockerImageKeepsItsType) {
  auto m = SummarizeManifest(R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
    "config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":7},"layers":[{"size":3}]})");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->media_type, kDockerManifestType);
  EXPECT_EQ(m->size_bytes, 10);
}

TEST(Manifest, AnOciManifestWithoutMediaTypeIsTypedByItsShape) {
  auto image = SummarizeManifest(R"({"schemaVersion":2,"config":{"size":1},"layers":[]})");
  ASSERT_TRUE(image);
  EXPECT_EQ(image->media_type, kOciManifestType);
  auto index = SummarizeManifest(R"({"schemaVersion":2,"manifests":[{"size":5,"digest":")" + kDigestA + R"("}]})");
  ASSERT_TRUE(index);
  EXPECT_EQ(index->media_type, kOciIndexType);
}

TEST(Manifest, AnIndexListsItsChildrenAndSumsTheirSizes) {
  auto m = SummarizeManifest(R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json",
    "manifests":[{"size":500,"digest":")" + kDigestA + R"(","platform":{"os":"linux","architecture":"amd64"}},
                 {"size":600,"digest":")" + kDigestB + R"("}]})");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_TRUE(m->is_index());
  EXPECT_EQ(m->size_bytes, 1100);
  EXPECT_EQ(m->children, (std::vector<std::string>{kDigestA, kDigestB}));
}

TEST(Manifest, RefusesWhatIsNotAManifestOfAKnownType) {
  const char* bad[] = {
      "", "[]", "null", "{", R"({"schemaVersion":1,"fsLayers":[]})",
      R"({"mediaType":"text/html","config":{"size":1}})",
      R"({"schemaVersion":2,"layers":[{"size":1}]})",                        // no config
      R"({"schemaVersion":2,"config":{"size":-1}})",                         // negative
      R"({"schemaVersion":2,"config":{"size":1.5}})",                        // fractional
      R"({"schemaVersion":2,"config":{"size":"12"}})",                       // a string
      R"({"schemaVersion":2,"config":{"size":18446744073709551615}})",       // past int64
      R"({"schemaVersion":2,"config":{"size":1},"layers":{"size":1}})",      // layers not a list
      R"({"schemaVersion":2,"manifests":[{"size":1,"digest":"sha256:../../etc"}]})",
      R"({"schemaVersion":2,"manifests":[{"size":1}]})",
  };
  for (const char* body : bad) EXPECT_FALSE(SummarizeManifest(body)) << body;
}

TEST(Manifest, SizesThatWouldOverflowAreRefused) {
  std::string layers;
  for (int i = 0; i < 10000; ++i) layers += std::string(i ? "," : "") + R"({"size":9007199254740992})";
  auto overflow = SummarizeManifest(R"({"schemaVersion":2,"config":{"size":1},"layers":[)" + layers + "]}");
  EXPECT_FALSE(overflow);
  auto largest = SummarizeManifest(R"({"schemaVersion":2,"config":{"size":9007199254740992},"layers":[{"size":1}]})");
  ASSERT_TRUE(largest) << largest.error().message;
  EXPECT_EQ(largest->size_bytes, 9007199254740993);
  EXPECT_FALSE(SummarizeManifest(R"({"schemaVersion":2,"config":{"size":9007199254740993}})"));
}

TEST(Manifest, DeepNestingAndOversizeAreRefusedBeforeParsing) {
  EXPECT_FALSE(SummarizeManifest(std::string(100000, '[') + std::string(100000, ']')));
  EXPECT_FALSE(SummarizeManifest(std::string(kMaxManifestBytes + 1, ' ')));
}

TEST(Manifest, DigestIsSha256OfTheBytes) {
  EXPECT_EQ(ManifestDigest(""), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Manifest, AcceptHeaderNamesAllFourTypes) {
  const std::string accept = ManifestAcceptHeader();
  for (const char* t : {kOciIndexType, kDockerManifestListType, kOciManifestType, kDockerManifestType}) {
    EXPECT_NE(accept.find(t), std::string::npos) << t;
  }
}

}  // namespace
}  // namespace slipway::engine
