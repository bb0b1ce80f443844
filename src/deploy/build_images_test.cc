// The tags a built image gets.
#include "deploy/build_images.h"

#include <gtest/gtest.h>

namespace slipway::deploy {
namespace {

TEST(HumanTags, ReleaseIdThenAppVersionElseTheCommit) {
  struct Row {
    std::string app_version, commit;
    std::vector<std::string> want;
  };
  const Row rows[] = {
      {"v2", "0123abcd4567", {"r1", "v2"}},
      {"", "0123abcd4567", {"r1", "0123abcd4567"}},
      {"", "", {"r1"}},
      {"not a tag!", "0123abcd4567", {"r1", "0123abcd4567"}},  // an invalid tag falls back to the commit
      {"r1", "", {"r1"}},
      {"-v2", "", {"r1"}},
  };
  for (const auto& row : rows) EXPECT_EQ(HumanTags("r1", row.app_version, row.commit), row.want) << row.app_version;
}

}  // namespace
}  // namespace slipway::deploy
