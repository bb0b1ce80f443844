// Builder choice and command lines, in tables.
#include "build/builder.h"

#include <gtest/gtest.h>

#include <set>

namespace slipway::build {
namespace {

Installed Only(std::set<std::string> programs) {
  return [programs](const std::string& p) { return programs.count(p) > 0; };
}

TEST(ChooseTool, AutoTakesTheFirstInstalledAndAForcedOneMustBeThere) {
  EXPECT_EQ(*ChooseTool("auto", Only({"podman", "buildah", "docker"})), Tool::kPodman);
  EXPECT_EQ(*ChooseTool("auto", Only({"buildah", "docker"})), Tool::kBuildah);
  EXPECT_EQ(*ChooseTool("auto", Only({"docker"})), Tool::kDocker);
  EXPECT_EQ(*ChooseTool("docker", Only({"podman", "docker"})), Tool::kDocker);
  auto none = ChooseTool("auto", Only({}));
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("install podman, buildah or docker"), std::string::npos);
  auto missing = ChooseTool("docker", Only({"podman"}));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "builder: docker is not installed (builder: docker in slipway.yaml asks for it)");
}

TEST(BuildArgv, CarriesPlatformFileTargetArgsAndEveryTag) {
  BuildRequest r{"/src/api", "/src/api/Dockerfile", "runtime", {{"A", "1"}, {"B", "x y"}}, "linux/amd64",
                 {"reg/shop/api:r1", "reg/shop/api:v2"}};
  EXPECT_EQ(BuildArgv(Tool::kBuildah, r),
            (std::vector<std::string>{"buildah", "build", "--platform", "linux/amd64", "--file", "/src/api/Dockerfile",
                                      "--isolation=chroot", "--target", "runtime", "--build-arg", "A=1", "--build-arg",
                                      "B=x y", "--tag", "reg/shop/api:r1", "--tag", "reg/shop/api:v2", "/src/api"}));
  r.target.clear();
  r.args.clear();
  r.tags = {"t"};
  EXPECT_EQ(BuildArgv(Tool::kDocker, r), (std::vector<std::string>{"docker", "build", "--platform", "linux/amd64", "--file",
                                                                   "/src/api/Dockerfile", "--tag", "t", "/src/api"}));
}

TEST(PushArgv, PodmanWritesTheDigestAndDockerReadsItsConfigDir) {
  PushRequest r{"127.0.0.1:30001/shop/api:r1", "/tmp/auth", "/tmp/auth/digest", true};
  EXPECT_EQ(PushArgv(Tool::kPodman, r),
            (std::vector<std::string>{"podman", "push", "--authfile", "/tmp/auth/config.json", "--digestfile",
                                      "/tmp/auth/digest", "--tls-verify=false", "127.0.0.1:30001/shop/api:r1"}));
  EXPECT_TRUE(PushEnv(Tool::kPodman, r).empty());
  EXPECT_EQ(PushArgv(Tool::kDocker, r), (std::vector<std::string>{"docker", "push", "127.0.0.1:30001/shop/api:r1"}));
  EXPECT_EQ(PushEnv(Tool::kDocker, r).at("DOCKER_CONFIG"), "/tmp/auth");
}

TEST(DigestFromDockerPush, ReadsTheLastDigestLine) {
  const std::string d = "sha256:" + std::string(64, 'b');
  EXPECT_EQ(DigestFromDockerPush("The push refers to repository [x]\nabc: Pushed\nr1: digest: " + d + " size: 528\n"), d);
  EXPECT_EQ(DigestFromDockerPush("error: denied\n"), "");
  EXPECT_EQ(DigestFromDockerPush("digest: sha256:abc"), "");
}

TEST(AuthFileJson, IsTheDockerConfigShape) {
  EXPECT_EQ(AuthFileJson("127.0.0.1:30001", "AWS", "pw"), "{\"auths\":{\"127.0.0.1:30001\":{\"auth\":\"QVdTOnB3\"}}}\n");
}

}  // namespace
}  // namespace slipway::build
