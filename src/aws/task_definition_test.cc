#include "aws/task_definition.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace slipway::aws {
namespace {

using nlohmann::json;

TEST(Awslogs, NamesStreamsPrefixContainerTask) {
  json def{{"name", "web"},
           {"logConfiguration",
            {{"logDriver", "awslogs"}, {"options", {{"awslogs-group", "/ecs/demo"}, {"awslogs-stream-prefix", "web"}}}}}};
  auto at = Awslogs(def, "abc123");
  ASSERT_TRUE(at);
  EXPECT_EQ(at->group, "/ecs/demo");
  EXPECT_EQ(at->stream, "web/web/abc123");
  EXPECT_FALSE(at->create_group);
  EXPECT_EQ(Awslogs(def, "")->stream, "web/web/");
  def["logConfiguration"]["options"].erase("awslogs-stream-prefix");
  def["logConfiguration"]["options"]["awslogs-create-group"] = "true";
  EXPECT_EQ(Awslogs(def, "abc123")->stream, "web/abc123");
  EXPECT_TRUE(Awslogs(def, "abc123")->create_group);
}

TEST(Awslogs, NothingWithoutTheAwslogsDriverOrAGroup) {
  EXPECT_FALSE(Awslogs(json{{"name", "web"}}, "t"));
  EXPECT_FALSE(Awslogs(json{{"name", "web"}, {"logConfiguration", {{"logDriver", "json-file"}}}}, "t"));
  EXPECT_FALSE(Awslogs(json{{"name", "web"}, {"logConfiguration", {{"logDriver", "awslogs"}, {"options", json::object()}}}}, "t"));
}

TEST(Awslogs, NothingFromADefinitionOfAnotherShape) {
  EXPECT_FALSE(Awslogs(json{{"name", "web"}, {"logConfiguration", "awslogs"}}, "t"));
  EXPECT_FALSE(Awslogs(json{{"name", "web"}, {"logConfiguration", {{"logDriver", 1}}}}, "t"));
  EXPECT_FALSE(Awslogs(json{{"name", 7},
                            {"logConfiguration",
                             {{"logDriver", "awslogs"}, {"options", {{"awslogs-group", "/ecs/demo"}}}}}},
                       "t"));
  EXPECT_FALSE(Awslogs(json("web"), "t"));
}

TEST(ContainerMemoryMib, ContainerLimitElseTaskLimitNumbersOrStrings) {
  EXPECT_EQ(ContainerMemoryMib(json{{"memory", "512"}}, json{{"memory", 128}}), 128);
  EXPECT_EQ(ContainerMemoryMib(json{{"memory", "512"}}, json{{"name", "web"}}), 512);
  EXPECT_EQ(ContainerMemoryMib(json{{"memory", 1024}}, json{{"memory", "0"}}), 1024);
  EXPECT_EQ(ContainerMemoryMib(json::object(), json{{"name", "web"}}), 0);
}

}  // namespace
}  // namespace slipway::aws
