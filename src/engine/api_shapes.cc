// Reads the embedded botocore shapes (shapes/api_shapes.json) into linked Shape values.
#include "engine/api_shapes.h"

#include <re2/re2.h>

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

namespace slipway::engine {

// Defined in the file the build generates from shapes/api_shapes.json (shapes/embed.cmake).
extern const std::string_view kApiShapesJson;

namespace {

using nlohmann::json;

std::optional<Shape::Type> TypeNamed(const std::string& type) {
  static const std::map<std::string, Shape::Type, std::less<>> kTypes = {
      {"structure", Shape::Type::kStructure},
      {"list", Shape::Type::kList},
      {"map", Shape::Type::kMap},
      {"string", Shape::Type::kString},
      {"integer", Shape::Type::kInteger},
      {"long", Shape::Type::kLong},
      {"boolean", Shape::Type::kBoolean},
      {"double", Shape::Type::kDouble},
      {"float", Shape::Type::kDouble},
      {"timestamp", Shape::Type::kTimestamp},
      {"blob", Shape::Type::kBlob},
  };
  auto it = kTypes.find(type);
  if (it == kTypes.end()) return std::nullopt;
  return it->second;
}

// First pass: every shape's own fields. Links between shapes are resolved by Link once all exist.
Result<void> ReadShape(const std::string& name, const json& in, Shape& out) {
  out.name = name;
  auto type = TypeNamed(in.value("type", ""));
  if (!type) return Fail("shape " + name + " has unknown type '" + in.value("type", "") + "'");
  out.type = *type;
  out.document = in.value("document", false);
  out.sensitive = in.value("sensitive", false);
  if (in.contains("min")) out.min = in["min"].get<int64_t>();
  if (in.contains("max")) out.max = in["max"].get<int64_t>();
  out.enum_values = in.value("enum", std::vector<std::string>{});
  out.required = in.value("required", std::vector<std::string>{});
  out.pattern = in.value("pattern", "");
  if (!out.pattern.empty()) {
    RE2::Options options;  // UTF-8, so \p{L} and friends see characters, not bytes
    options.set_log_errors(false);
    auto regex = std::make_shared<RE2>(out.pattern, options);
    if (!regex->ok()) return Fail("shape " + name + " pattern does not compile: " + regex->error());
    out.regex = std::move(regex);
  }
  return {};
}

Result<void> Link(const json& in, ServiceShapes& service, Shape& out) {
  auto find = [&](const json& ref) -> Result<const Shape*> {
    auto it = service.shapes.find(ref.get<std::string>());
    if (it == service.shapes.end())
      return Fail("shape " + out.name + " refers to missing " + ref.dump());
    return &it->second;
  };
  const json members = in.value("members", json::object());
  for (const auto& [member, ref] : members.items()) {
    auto shape = find(ref);
    if (!shape) return tl::unexpected(shape.error());
    out.members.emplace_back(member, *shape);
  }
  const std::pair<const char*, const Shape**> kLinks[] = {
      {"member", &out.member}, {"key", &out.key}, {"value", &out.value}};
  for (const auto& [key, slot] : kLinks) {
    if (!in.contains(key)) continue;
    auto shape = find(in[key]);
    if (!shape) return tl::unexpected(shape.error());
    *slot = *shape;
  }
  if (out.type == Shape::Type::kList && out.member == nullptr)
    return Fail("list " + out.name + " has no member");
  if (out.type == Shape::Type::kMap && (out.key == nullptr || out.value == nullptr)) {
    return Fail("map " + out.name + " lacks a key or value");
  }
  return {};
}

Result<void> ReadService(const std::string& name, const json& in, ServiceShapes& out) {
  out.name = name;
  out.protocol = in.value("protocol", "");
  out.target_prefix = in.value("targetPrefix", "");
  const json& shapes = in.at("shapes");
  for (const auto& [shape_name, shape] : shapes.items()) {
    if (auto ok = ReadShape(shape_name, shape, out.shapes[shape_name]); !ok)
      return Fail(name + ": " + ok.error().message);
  }
  for (const auto& [shape_name, shape] : shapes.items()) {
    if (auto ok = Link(shape, out, out.shapes.at(shape_name)); !ok)
      return Fail(name + ": " + ok.error().message);
  }
  for (const auto& [op, input] : in.at("operations").items()) {
    auto it = out.shapes.find(input.get<std::string>());
    if (it == out.shapes.end() || it->second.type != Shape::Type::kStructure) {
      return Fail(name + ": operation " + op + " has no input structure");
    }
    out.operations[op] = &it->second;
  }
  return {};
}

}  // namespace

bool Shape::MatchesPattern(std::string_view text) const {
  return regex == nullptr || RE2::FullMatch(re2::StringPiece(text.data(), text.size()), *regex);
}

const Shape* Shape::Member(std::string_view member_name) const {
  for (const auto& [name, shape] : members) {
    if (name == member_name) return shape;
  }
  return nullptr;
}

std::string Shape::TypeDescription() const {
  switch (type) {
    case Type::kStructure:
      return "a structure";
    case Type::kList:
      return "a list";
    case Type::kMap:
      return "a map";
    case Type::kString:
      return "a string";
    case Type::kInteger:
      return "an integer from -2147483648 to 2147483647";
    case Type::kLong:
      return "an integer from -9223372036854775808 to 9223372036854775807";
    case Type::kBoolean:
      return "a boolean";
    case Type::kDouble:
      return "a number";
    case Type::kTimestamp:
      return "a timestamp";
    case Type::kBlob:
      return "a base64 string";
  }
  return "a value";
}

Result<std::unique_ptr<ApiShapes>> ApiShapes::Parse(std::string_view json_text) {
  json doc = json::parse(json_text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return Fail("api shapes: not a JSON object");
  std::unique_ptr<ApiShapes> out(new ApiShapes());
  try {
    out->botocore_version_ = doc.value("botocore", "");
    for (const auto& [name, service] : doc.at("services").items()) {
      if (auto ok = ReadService(name, service, out->services_[name]); !ok) {
        return Fail("api shapes: " + ok.error().message);
      }
    }
  } catch (const json::exception& e) {
    return Fail(std::string("api shapes: malformed: ") + e.what());
  }
  return out;
}

const ApiShapes& ApiShapes::Embedded() {
  static const ApiShapes* const kShapes = [] {
    auto parsed = Parse(kApiShapesJson);
    if (!parsed) {
      std::fprintf(stderr, "slipway: embedded %s\n", parsed.error().message.c_str());
      std::abort();
    }
    return parsed->release();
  }();
  return *kShapes;
}

const ServiceShapes* ApiShapes::ByTargetPrefix(std::string_view prefix) const {
  for (const auto& [name, service] : services_) {
    if (!service.target_prefix.empty() && service.target_prefix == prefix) return &service;
  }
  return nullptr;
}

const ServiceShapes* ApiShapes::ByName(std::string_view name) const {
  auto it = services_.find(name);
  return it == services_.end() ? nullptr : &it->second;
}

}  // namespace slipway::engine
