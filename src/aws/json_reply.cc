// Defensive field access over nlohmann::json: every accessor checks the type before it reads.
#include "aws/json_reply.h"

#include <nlohmann/json.hpp>

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

int64_t ReplyReader::Int(const json& object, const char* key) {
  const json* v = Field(object, key);
  if (v == nullptr) return 0;
  if (v->is_number_integer()) return v->get<int64_t>();
  if (v->is_number()) return static_cast<int64_t>(v->get<double>());
  Mismatch(key, *v, "a number");
  return 0;
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

}  // namespace slipway::aws
