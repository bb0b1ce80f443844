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

TEST(ReplyReader, ReadsOptionalAnd32BitWholeNumbers) {
  ReplyReader read("ecs Op");
  const json reply = json::parse(R"({"code":-1,"port":8080,"big":4294967296,"none":null})");
  EXPECT_EQ(read.OptionalInt32(reply, "code"), -1);
  EXPECT_EQ(read.Int32(reply, "port"), 8080);
  EXPECT_EQ(read.OptionalInt32(reply, "none"), std::nullopt);
  EXPECT_EQ(read.OptionalInt(reply, "missing"), std::nullopt);
  EXPECT_EQ(read.OptionalInt(reply, "big"), 4294967296LL);
  EXPECT_TRUE(read.ok());
}

TEST(ReplyReader, ANumberBeyondItsFieldsSizeIsOfTheWrongType) {
  ReplyReader read32("ecs Op");
  EXPECT_EQ(read32.OptionalInt32(json::parse(R"({"exitCode":4294967296})"), "exitCode"),
            std::nullopt);
  EXPECT_EQ(read32.error().message,
            "ecs Op: unexpected reply: exitCode is 4294967296, beyond a 32-bit number");
  ReplyReader read64("logs Op");
  EXPECT_EQ(read64.Int(json::parse(R"({"timestamp":1e300})"), "timestamp"), 0);
  EXPECT_EQ(read64.Int(json::parse(R"({"size":18446744073709551615})"), "size"), 0);
  EXPECT_FALSE(read64.ok());
  EXPECT_EQ(read64.error().message,
            "logs Op: unexpected reply: timestamp is 1e+300, beyond a 64-bit number");
}

TEST(ReplyReader, ReadsEachObjectOfAListWithTheGivenFunction) {
  ReplyReader read("ecs Op");
  const json reply = json::parse(R"({"tags":[{"key":"a"},{"key":"b"}]})");
  auto key = [](ReplyReader& r, const json& tag) { return r.String(tag, "key"); };
  EXPECT_EQ(read.Objects(reply, "tags", key), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(read.Objects(reply, "missing", key).empty());
  EXPECT_TRUE(read.ok());
  EXPECT_EQ(read.Objects(json::parse(R"({"tags":[{"key":"a"},"b"]})"), "tags", key),
            (std::vector<std::string>{"a"}));
  EXPECT_EQ(read.error().message,
            "ecs Op: unexpected reply: tags is a string, not a list of objects");
}

}  // namespace
}  // namespace slipway::aws
