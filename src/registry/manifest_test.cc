// Manifest parsing and platform choice, on in-memory documents.
#include "registry/manifest.h"

#include <gtest/gtest.h>

#include "registry/resolve.h"

namespace slipway::registry {
namespace {

std::string D(char c) { return "sha256:" + std::string(64, c); }

const std::string kIndex = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
  {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + D('a') + R"(","size":1,
   "platform":{"os":"linux","architecture":"arm64","variant":"v8"}},
  {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + D('b') + R"(","size":1,
   "platform":{"os":"linux","architecture":"amd64"}},
  {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + D('c') + R"(","size":1,
   "platform":{"os":"unknown","architecture":"unknown"}}]})";

TEST(ParseManifest, ReadsAnIndexAndPicksThePlatform) {
  auto m = ParseManifest(kIndex);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_TRUE(m->is_index);
  ASSERT_EQ(m->children.size(), 3u);
  EXPECT_EQ(SelectChild(*m, {"linux", "amd64", ""}), D('b'));
  EXPECT_EQ(SelectChild(*m, {"linux", "arm64", ""}), D('a'));
  EXPECT_EQ(SelectChild(*m, {"linux", "arm64", "v8"}), D('a'));
  EXPECT_EQ(SelectChild(*m, {"windows", "amd64", ""}), "");
  std::vector<Platform> platforms;
  for (const auto& c : m->children) platforms.push_back(c.platform);
  EXPECT_EQ(DescribePlatforms(platforms), "linux/arm64/v8, linux/amd64");
}

TEST(ParseManifest, ReadsImageManifestsOfBothKindsAndWithoutMediaType) {
  for (const std::string type : {"application/vnd.docker.distribution.manifest.v2+json",
                                 "application/vnd.oci.image.manifest.v1+json", ""}) {
    std::string body = R"({"schemaVersion":2,)" + (type.empty() ? "" : R"("mediaType":")" + type + R"(",)") +
                       R"("config":{"digest":")" + D('e') + R"(","size":2},"layers":[]})";
    auto m = ParseManifest(body);
    ASSERT_TRUE(m) << type << ": " << m.error().message;
    EXPECT_FALSE(m->is_index);
    EXPECT_EQ(m->config_digest, D('e'));
  }
  auto list = ParseManifest(R"({"schemaVersion":2,"manifests":[]})");
  ASSERT_TRUE(list);
  EXPECT_TRUE(list->is_index);
}

TEST(ParseManifest, RefusesWhatItCannotTrust) {
  const std::string bad[] = {"", "[]", "not json", R"({"schemaVersion":1,"fsLayers":[]})",
                             R"({"mediaType":"text/html"})",
                             R"({"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"digest":"sha256:x"}]})",
                             R"({"mediaType":"application/vnd.oci.image.index.v1+json","manifests":{}})",
                             R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"digest":5}})",
                             // A schemaVersion of another type (found by fuzz_registry: it threw).
                             R"({"schemaVersion":{"digest":"x"},"layers":[]})",
                             R"({"schemaVersion":"1","mediaType":"text/html"})"};
  for (const auto& body : bad) EXPECT_FALSE(ParseManifest(body)) << body;
}

TEST(Platform, TaskRuntimePlatformsMapToOciNames) {
  struct Row {
    std::string family, arch, want;
  };
  const Row rows[] = {{"", "", "linux/amd64"},
                      {"LINUX", "X86_64", "linux/amd64"},
                      {"LINUX", "ARM64", "linux/arm64"},
                      {"WINDOWS_SERVER_2022_CORE", "X86_64", "windows/amd64"}};
  for (const auto& row : rows) {
    auto p = PlatformForTask(row.family, row.arch);
    ASSERT_TRUE(p) << row.family << "/" << row.arch;
    EXPECT_EQ(p->ToString(), row.want);
  }
  EXPECT_FALSE(PlatformForTask("LINUX", "MIPS"));
  EXPECT_FALSE(PlatformForTask("SOLARIS", "X86_64"));
}

TEST(Platform, ConfigNamesIt) {
  auto p = ParseConfigPlatform(R"({"architecture":"arm64","os":"linux","config":{}})");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->ToString(), "linux/arm64");
  EXPECT_TRUE(Runs(*p, {"linux", "arm64", "v8"}));
  EXPECT_FALSE(Runs(*p, {"linux", "amd64", ""}));
  EXPECT_FALSE(ParseConfigPlatform(R"({"os":"linux"})"));
}

}  // namespace
}  // namespace slipway::registry
