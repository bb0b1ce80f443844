// Checks a parsed request against its botocore input shape, in AWS's words for each violation.
#include "engine/shape_checker.h"

#include <algorithm>
#include <cstdint>

#include "base/strings.h"

namespace slipway::engine {

namespace {

using nlohmann::json;

constexpr size_t kMaxQuotedBytes = 200;

std::string Join(const std::string& path, const std::string& name) {
  return path.empty() ? name : path + "." + name;
}

/// What a JSON value is, for "Member must be an integer ..., not a string".
std::string KindOf(const json& v) {
  switch (v.type()) {
    case json::value_t::string:
      return "a string";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::array:
      return "a list";
    case json::value_t::object:
      return "an object";
    case json::value_t::null:
      return "null";
    default:
      return "the number " + v.dump();
  }
}

}  // namespace

std::string QuoteValue(const json& value) {
  std::string s = value.is_string() ? value.get<std::string>() : value.dump();
  if (s.size() <= kMaxQuotedBytes) return s;
  size_t cut = kMaxQuotedBytes;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // whole characters
  return s.substr(0, cut) + "...";
}

void ShapeChecker::Add(Violation v) {
  if (inside_sensitive_ > 0) {
    v.sensitive = true;
    if (v.value) v.value = "";
    if (v.wrong_type.starts_with("the number")) v.wrong_type = "a number";
  }
  if (violations_.size() < kMaxViolations) violations_.push_back(std::move(v));
}

void ShapeChecker::Check(const Shape& shape, json& value, const std::string& path) {
  if (shape.document || violations_.size() >= kMaxViolations) return;
  if (!shape.sensitive) return CheckValue(shape, value, path);
  ++inside_sensitive_;
  CheckValue(shape, value, path);
  --inside_sensitive_;
}

void ShapeChecker::CheckValue(const Shape& shape, json& value, const std::string& path) {
  switch (shape.type) {
    case Shape::Type::kStructure:
      return CheckStructure(shape, value, path);
    case Shape::Type::kList:
      return CheckList(shape, value, path);
    case Shape::Type::kMap:
      return CheckMap(shape, value, path);
    case Shape::Type::kString:
      if (!value.is_string()) return WrongType(shape, value, path);
      return CheckString(shape, value.get_ref<const std::string&>(), path);
    case Shape::Type::kBlob:
      return CheckBlob(shape, value, path);
    case Shape::Type::kInteger:
    case Shape::Type::kLong:
      return CheckInteger(shape, value, path);
    case Shape::Type::kBoolean:
      if (!value.is_boolean()) WrongType(shape, value, path);
      return;
    case Shape::Type::kDouble:
    case Shape::Type::kTimestamp:  // epoch seconds on the JSON protocol
      if (!value.is_number()) return WrongType(shape, value, path);
      return CheckBounds(shape, value, value.get<double>(), path);
  }
}

void ShapeChecker::CheckBlob(const Shape& shape, const json& value, const std::string& path) {
  if (!value.is_string()) return WrongType(shape, value, path);
  const auto bytes = Base64Decode(value.get_ref<const std::string&>());
  if (!bytes) return Add({path, QuoteValue(value), "Member must be " + shape.TypeDescription(), "a string that is not base64"});
  CheckLength(shape, value, bytes->size(), path);
}

void ShapeChecker::CheckStructure(const Shape& shape, json& value, const std::string& path) {
  if (!value.is_object()) return WrongType(shape, value, path);
  for (auto it = value.begin(); it != value.end();) {
    const Shape* member = shape.Member(it.key());
    if (member == nullptr || it->is_null()) {
      it = value.erase(it);
      continue;
    }
    Check(*member, *it, Join(path, it.key()));
    ++it;
  }
  for (const auto& name : shape.required) {
    if (!value.contains(name)) Add({Join(path, name), std::nullopt, "Member must not be null", ""});
  }
}

void ShapeChecker::CheckList(const Shape& shape, json& value, const std::string& path) {
  if (!value.is_array()) return WrongType(shape, value, path);
  CheckLength(shape, value, value.size(), path);
  for (size_t i = 0; i < value.size(); ++i) {
    const std::string item = path + "." + std::to_string(i + 1) + ".member";
    if (value[i].is_null()) return WrongType(*shape.member, value[i], item);
    Check(*shape.member, value[i], item);
  }
}

void ShapeChecker::CheckMap(const Shape& shape, json& value, const std::string& path) {
  if (!value.is_object()) return WrongType(shape, value, path);
  CheckLength(shape, value, value.size(), path);
  for (auto& [key, item] : value.items()) {
    CheckString(*shape.key, key, path);
    if (item.is_null()) return WrongType(*shape.value, item, Join(path, key));
    Check(*shape.value, item, Join(path, key));
  }
}

void ShapeChecker::CheckString(const Shape& shape, const std::string& text,
                               const std::string& path) {
  size_t characters = 0;  // AWS bounds lengths in characters, not bytes
  for (char c : text) characters += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  CheckLength(shape, json(text), characters, path);
  const auto& allowed = shape.enum_values;
  if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), text) == allowed.end()) {
    Add({path, QuoteValue(json(text)),
         "Member must satisfy enum value set: [" + slipway::Join(allowed, ", ") + "]", ""});
  }
  if (!shape.MatchesPattern(text)) {
    Add({path, QuoteValue(json(text)),
         "Member must satisfy regular expression pattern: " + shape.pattern, ""});
  }
}

void ShapeChecker::CheckInteger(const Shape& shape, const json& value, const std::string& path) {
  // A float token (1.5, and 2.0 too) is not an integer; neither is one past the modelled width.
  bool fits = value.is_number_integer();
  if (fits && value.is_number_unsigned()) fits = value.get<uint64_t>() <= uint64_t{INT64_MAX};
  if (fits && shape.type == Shape::Type::kInteger) {
    fits = value.get<int64_t>() >= INT32_MIN && value.get<int64_t>() <= INT32_MAX;
  }
  if (!fits) return WrongType(shape, value, path);
  const int64_t n = value.get<int64_t>();
  if (shape.min && n < *shape.min) {
    Add({path, QuoteValue(value),
         "Member must have value greater than or equal to " + std::to_string(*shape.min), ""});
  }
  if (shape.max && n > *shape.max) {
    Add({path, QuoteValue(value),
         "Member must have value less than or equal to " + std::to_string(*shape.max), ""});
  }
}

void ShapeChecker::CheckBounds(const Shape& shape, const json& value, double number,
                               const std::string& path) {
  if (shape.min && number < static_cast<double>(*shape.min)) {
    Add({path, QuoteValue(value),
         "Member must have value greater than or equal to " + std::to_string(*shape.min), ""});
  }
  if (shape.max && number > static_cast<double>(*shape.max)) {
    Add({path, QuoteValue(value),
         "Member must have value less than or equal to " + std::to_string(*shape.max), ""});
  }
}

void ShapeChecker::CheckLength(const Shape& shape, const json& value, size_t length,
                               const std::string& path) {
  if (shape.min && static_cast<int64_t>(length) < *shape.min) {
    Add({path, QuoteValue(value),
         "Member must have length greater than or equal to " + std::to_string(*shape.min), ""});
  }
  if (shape.max && static_cast<int64_t>(length) > *shape.max) {
    Add({path, QuoteValue(value),
         "Member must have length less than or equal to " + std::to_string(*shape.max), ""});
  }
}

void ShapeChecker::WrongType(const Shape& shape, const json& value, const std::string& path) {
  Add({path, QuoteValue(value), "Member must be " + shape.TypeDescription(), KindOf(value)});
}

}  // namespace slipway::engine
