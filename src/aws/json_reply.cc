// Defensive field access over nlohmann::json: every accessor checks the type before it reads.
#include "aws/json_reply.h"

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "aws/pages.h"

namespace slipway::aws {

using nlohmann::json;

namespace {

const char* Kind(const json& v) {
  if (v.is_object()) return "an object";
  if (v.is_array()) return "a list";
  if (v.is_string()) return "a string";
  if (v.is_number()) return "a number";
  if (v.is_boolean()) return "a boolean";
  return "null";
}

}  // namespace


const json* ReplyReader::Field(const json& object, const char* key) {
  if (!object.is_object()) {
    Note(std::string(Kind(object)) + " where an object with " + key + " belongs");
    return nullptr;
  }
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

void ReplyReader::Mismatch(const char* key, const json& value, const char* expected) {
  Note(std::string(key) + " is " + Kind(value) + ", not " + expected);
}

void ReplyReader::Note(std::string problem) {
  if (problem_.empty()) problem_ = std::move(problem);
}

std::string ReplyReader::String(const json& object, const char* key) {
  const json* v = Field(object, key);
  if (v == nullptr) return "";
  if (!v->is_string()) {
    Mismatch(key, *v, "a string");
    return "";
  }
  return v->get<std::string>();
}

std::optional<int64_t> ReplyReader::Whole(const json& object, const char* key, int64_t min,
                                          int64_t max, const char* range) {
  const json* v = Field(object, key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number()) {
    Mismatch(key, *v, "a number");
    return std::nullopt;
  }
  std::optional<int64_t> n;
  if (v->is_number_unsigned()) {
    // Compared unsigned: above INT64_MAX a signed read would wrap to a negative number.
    const auto u = v->get<uint64_t>();
    if (u <= static_cast<uint64_t>(max)) n = static_cast<int64_t>(u);
  } else if (v->is_number_integer()) {
    const auto i = v->get<int64_t>();
    if (i >= min && i <= max) n = i;
  } else {
    // max + 1 is a power of two, so exact as a double; converting a double out of range is UB.
    const double d = std::trunc(v->get<double>());
    if (d >= static_cast<double>(min) && d < static_cast<double>(max / 2 + 1) * 2) {
      n = static_cast<int64_t>(d);
    }
  }
  if (!n) Note(std::string(key) + " is " + v->dump() + ", beyond " + range);
  return n;
}

std::optional<int64_t> ReplyReader::OptionalInt(const json& object, const char* key) {
  return Whole(object, key, std::numeric_limits<int64_t>::min(),
               std::numeric_limits<int64_t>::max(), "a 64-bit number");
}

int64_t ReplyReader::Int(const json& object, const char* key) {
  return OptionalInt(object, key).value_or(0);
}

std::optional<int> ReplyReader::OptionalInt32(const json& object, const char* key) {
  auto n = Whole(object, key, std::numeric_limits<int>::min(), std::numeric_limits<int>::max(),
                 "a 32-bit number");
  if (!n) return std::nullopt;
  return static_cast<int>(*n);
}

int ReplyReader::Int32(const json& object, const char* key) {
  return OptionalInt32(object, key).value_or(0);
}

double ReplyReader::Number(const json& object, const char* key) {
  const json* v = Field(object, key);
  if (v == nullptr) return 0;
  if (v->is_number()) return v->get<double>();
  Mismatch(key, *v, "a number");
  return 0;
}

const json& ReplyReader::List(const json& object, const char* key) {
  static const json kNone = json::array();
  const json* v = Field(object, key);
  if (v == nullptr) return kNone;
  if (!v->is_array()) {
    Mismatch(key, *v, "a list");
    return kNone;
  }
  return *v;
}

const json& ReplyReader::Object(const json& object, const char* key) {
  static const json kNone = json::object();
  const json* v = Field(object, key);
  if (v == nullptr) return kNone;
  if (!v->is_object()) {
    Mismatch(key, *v, "an object");
    return kNone;
  }
  return *v;
}

std::vector<std::string> ReplyReader::Strings(const json& object, const char* key) {
  std::vector<std::string> out;
  for (const json& v : List(object, key)) {
    if (!v.is_string()) {
      Mismatch(key, v, "a list of strings");
      return {};
    }
    out.push_back(v.get<std::string>());
  }
  return out;
}

void ReplyReader::EachObject(const json& object, const char* key,
                             const std::function<void(const json&)>& each) {
  for (const json& v : List(object, key)) {
    if (!v.is_object()) {
      Mismatch(key, v, "a list of objects");
      return;
    }
    each(v);
  }
}

Result<void> ReadJsonPages(const std::string& what, const json& first,
                           const std::function<Result<json>(const json&)>& call,
                           const std::function<void(ReplyReader&, const json&)>& take) {
  json body = first;
  PageGuard pages(what, "nextToken");
  for (;;) {
    auto r = call(body);
    if (!r) return tl::unexpected(r.error());
    ReplyReader read(what);
    take(read, *r);
    const std::string next = read.String(*r, "nextToken");
    if (!read.ok()) return tl::unexpected(read.error());
    auto more = pages.Follow(next);
    if (!more) return tl::unexpected(more.error());
    if (!*more) return {};
    body["nextToken"] = next;
  }
}

}  // namespace slipway::aws
