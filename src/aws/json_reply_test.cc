// ReplyReader: missing fields read as defaults, the first field of the wrong type is the error.
#include "aws/json_reply.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace slipway::aws {
namespace {

using nlohmann::json;

TEST(ReplyReader, MissingAndNullFieldsReadAsDefaults) {
  ReplyReader read("ecs Op");
  const json reply = json::parse(R"({"name":null})");
  EXPECT_EQ(read.String(reply, "name"), "");
  EXPECT_EQ(read.Int(reply, "count"), 0);
  EXPECT_EQ(read.Number(reply, "at"), 0.0);
  EXPECT_TRUE(read.List(reply, "items").empty());
  EXPECT_TRUE(read.Object(reply, "inner").empty());
  EXPECT_TRUE(read.Strings(reply, "tags").empty());
  auto done = read.Finish(1);
  ASSERT_TRUE(done);
  EXPECT_EQ(*done, 1);
}

TEST(ReplyReader, ReadsFieldsOfTheRightType) {
  ReplyReader read("ecs Op");
  const json reply =
      json::parse(R"({"name":"web","count":3,"at":12.5,"whole":7.9,"tags":["a","b"]})");
  EXPECT_EQ(read.String(reply, "name"), "web");
  EXPECT_EQ(read.Int(reply, "count"), 3);
  EXPECT_EQ(read.Int(reply, "whole"), 7);
  EXPECT_EQ(read.Number(reply, "at"), 12.5);
  EXPECT_EQ(read.Strings(reply, "tags"), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(read.ok());
}

TEST(ReplyReader, KeepsTheFirstFieldOfTheWrongType) {
  ReplyReader read("ecs Op");
  const json reply = json::parse(R"({"count":"3","name":true})");
  EXPECT_EQ(read.Int(reply, "count"), 0);
  EXPECT_EQ(read.String(reply, "name"), "");
  EXPECT_FALSE(read.ok());
  auto done = read.Finish(std::string("value"));
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().message, "ecs Op: unexpected reply: count is a string, not a number");
}

TEST(ReplyReader, NamesAReplyThatIsNotAnObject) {
  ReplyReader read("ecs Op");
  EXPECT_TRUE(read.List(json(42), "items").empty());
  EXPECT_EQ(read.error().message,
            "ecs Op: unexpected reply: a number where an object with items belongs");
}

}  // namespace
}  // namespace slipway::aws
