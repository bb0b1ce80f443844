// Reads the flat parameters of a Query request into JSON shaped by the action's input shape, so
// ELBv2 and CloudWatch requests are validated by the same walk as JSON ones.
#include <charconv>
#include <cmath>
#include <set>

#include "base/clock.h"
#include "base/strings.h"
#include "engine/validate.h"

namespace slipway::engine {

namespace {

using nlohmann::json;
using MaybeJson = tl::expected<std::optional<json>, Violation>;

std::string Join(const std::string& path, const std::string& name) {
  return path.empty() ? name : path + "." + name;
}

bool IsDigits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

/// An integer in plain decimal: an optional '-' and digits, nothing else, within int64.
std::optional<int64_t> ParseInteger(std::string_view s) {
  if (!IsDigits(s.substr(s.starts_with('-') ? 1 : 0))) return std::nullopt;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<double> ParseDouble(std::string_view s) {
  if (s.empty() || s.starts_with('+')) return std::nullopt;
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

Violation WrongType(const Shape& shape, const std::string& path, const std::string& value) {
  return {path, value, "Member must be " + shape.TypeDescription(), ""};
}

class QueryReader {
 public:
  explicit QueryReader(const QueryParams& params) : params_(params) {}

  /// The value whose parameters start at `key`, read as `shape`; nullopt when none are present.
  MaybeJson Read(const Shape& shape, const std::string& key, const std::string& path, int depth) {
    if (depth > kMaxJsonDepth)
      return tl::unexpected(Violation{path, key, "Member must not nest this deeply", ""});
    switch (shape.type) {
      case Shape::Type::kStructure:
        return ReadStructure(shape, key, path, depth);
      case Shape::Type::kList:
        return ReadList(shape, key, path, depth);
      case Shape::Type::kMap:
        return ReadMap(shape, key, path, depth);
      default:
        return ReadScalar(shape, key, path);
    }
  }

 private:
  /// Whether any parameter is `key` or lies under "key.".
  bool Present(const std::string& key) const {
    if (key.empty() || params_.count(key)) return true;
    auto it = params_.lower_bound(key + ".");
    return it != params_.end() && it->first.starts_with(key + ".");
  }

  MaybeJson ReadStructure(const Shape& shape, const std::string& key, const std::string& path,
                          int depth) {
    if (!Present(key)) return std::nullopt;
    json out = json::object();
    for (const auto& [name, member] : shape.members) {
      auto value =
          Read(*member, key.empty() ? name : key + "." + name, Join(path, name), depth + 1);
      if (!value) return tl::unexpected(value.error());
      if (*value) out[name] = std::move(**value);
    }
    return out;
  }

  /// The indices N of parameters "base N ..." (base ends in ".member." or ".entry."), which must
  /// run 1..count without gaps, as every SDK numbers them.
  tl::expected<size_t, Violation> Indices(const std::string& base, const std::string& path) const {
    std::set<uint64_t> seen;
    for (auto it = params_.lower_bound(base); it != params_.end() && it->first.starts_with(base);
         ++it) {
      std::string_view rest = std::string_view(it->first).substr(base.size());
      std::string_view index = rest.substr(0, rest.find('.'));
      uint64_t n = 0;
      auto [end, ec] = std::from_chars(index.data(), index.data() + index.size(), n);
      if (!IsDigits(index) || ec != std::errc() || end != index.data() + index.size() || n == 0 ||
          index[0] == '0' || n > params_.size()) {
        return tl::unexpected(
            Violation{path, it->first, "Member must be numbered from 1 without gaps", ""});
      }
      seen.insert(n);
    }
    if (!seen.empty() && *seen.rbegin() != seen.size()) {
      return tl::unexpected(Violation{path, base + std::to_string(*seen.rbegin()),
                                      "Member must be numbered from 1 without gaps", ""});
    }
    return seen.size();
  }

  MaybeJson ReadList(const Shape& shape, const std::string& key, const std::string& path,
                     int depth) {
    const std::string base = key + ".member.";
    auto count = Indices(base, path);
    if (!count) return tl::unexpected(count.error());
    auto bare = params_.find(key);
    if (*count == 0) {
      if (bare == params_.end()) return std::nullopt;
      // SDKs send "Names=" for an empty list; anything else is a scalar where a list belongs.
      if (!bare->second.empty()) return tl::unexpected(WrongType(shape, path, bare->second));
      return json::array();
    }
    json out = json::array();
    for (size_t i = 1; i <= *count; ++i) {
      const std::string index = std::to_string(i);
      auto item = Read(*shape.member, base + index, path + "." + index + ".member", depth + 1);
      if (!item) return tl::unexpected(item.error());
      if (!*item)
        return tl::unexpected(
            Violation{path + "." + index + ".member", std::nullopt, "Member must not be null", ""});
      out.push_back(std::move(**item));
    }
    return out;
  }

  MaybeJson ReadMap(const Shape& shape, const std::string& key, const std::string& path,
                    int depth) {
    const std::string base = key + ".entry.";
    auto count = Indices(base, path);
    if (!count) return tl::unexpected(count.error());
    if (*count == 0) return Present(key) ? MaybeJson(json::object()) : MaybeJson(std::nullopt);
    json out = json::object();
    for (size_t i = 1; i <= *count; ++i) {
      const std::string entry = base + std::to_string(i);
      auto k = params_.find(entry + ".key");
      if (k == params_.end())
        return tl::unexpected(
            Violation{path + ".key", std::nullopt, "Member must not be null", ""});
      auto value = Read(*shape.value, entry + ".value", path + "." + k->second, depth + 1);
      if (!value) return tl::unexpected(value.error());
      out[k->second] = *value ? std::move(**value) : json();
    }
    return out;
  }

  MaybeJson ReadScalar(const Shape& shape, const std::string& key, const std::string& path) const {
    auto it = params_.find(key);
    if (it == params_.end()) return std::nullopt;
    const std::string& text = it->second;
    switch (shape.type) {
      case Shape::Type::kInteger:
      case Shape::Type::kLong: {
        auto v = ParseInteger(text);
        bool fits = v && (shape.type == Shape::Type::kLong || (*v >= INT32_MIN && *v <= INT32_MAX));
        if (!fits) return tl::unexpected(WrongType(shape, path, text));
        return json(*v);
      }
      case Shape::Type::kBoolean:
        if (text != "true" && text != "false") return tl::unexpected(WrongType(shape, path, text));
        return json(text == "true");
      case Shape::Type::kDouble: {
        auto v = ParseDouble(text);
        if (!v) return tl::unexpected(WrongType(shape, path, text));
        return json(*v);
      }
      case Shape::Type::kTimestamp: {
        // Query clients send ISO 8601; the JSON walk and the handlers read epoch seconds.
        double seconds = 0;
        if (!ParseIsoTime(text, &seconds)) return tl::unexpected(WrongType(shape, path, text));
        return json(seconds);
      }
      default:  // strings, and blobs as their text
        if (!IsUtf8(text))
          return tl::unexpected(Violation{path, "(not UTF-8)", "Member must be valid UTF-8", ""});
        return json(text);
    }
  }

  const QueryParams& params_;
};

}  // namespace

tl::expected<json, Violation> QueryToJson(const Shape& input, const QueryParams& params) {
  auto out = QueryReader(params).Read(input, "", "", 0);
  if (!out) return tl::unexpected(out.error());
  return out->value_or(json::object());
}

}  // namespace slipway::engine
