// Reading awsJson1.1 replies without trusting their shape, for the typed service clients.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "base/result.h"

namespace slipway::aws {

/// The deepest nesting of arrays and objects a reply may have. botocore's deepest reply shapes
/// (a task definition's container definitions) nest under ten levels.
inline constexpr int kMaxReplyDepth = 64;


/// Reads the fields of one reply. A missing or null field reads as its default. A field of the
/// wrong type reads as its default too, and the first one makes Finish an error
/// "<what>: unexpected reply: <field> is <type>, not <expected>". Nothing here throws.
class ReplyReader {
 public:
  /// `what` names the call, e.g. "logs GetLogEvents".
  explicit ReplyReader(std::string what) : what_(std::move(what)) {}

  /// The string at `key` of `object`; "" when missing.
  std::string String(const nlohmann::json& object, const char* key);
  /// The number at `key` as a whole number (a fraction is dropped); 0 when missing. A number
  /// beyond 64 bits is of the wrong type.
  int64_t Int(const nlohmann::json& object, const char* key);
  /// As Int, but nullopt when missing.
  std::optional<int64_t> OptionalInt(const nlohmann::json& object, const char* key);
  /// As Int, for a 32-bit field (botocore's Integer): a number beyond 32 bits is of the wrong type.
  int Int32(const nlohmann::json& object, const char* key);
  /// As Int32, but nullopt when missing.
  std::optional<int> OptionalInt32(const nlohmann::json& object, const char* key);
  /// The number at `key` (timestamps are epoch seconds); 0 when missing.
  double Number(const nlohmann::json& object, const char* key);
  /// The list at `key`; an empty list when missing.
  const nlohmann::json& List(const nlohmann::json& object, const char* key);
  /// The object at `key`; an empty object when missing.
  const nlohmann::json& Object(const nlohmann::json& object, const char* key);
  /// The strings in the list at `key`; none when missing.
  std::vector<std::string> Strings(const nlohmann::json& object, const char* key);
  /// Each object in the list at `key` as `read(*this, object)` makes it; none when missing.
  template <typename Read>
  auto Objects(const nlohmann::json& object, const char* key, Read read) {
    std::vector<std::invoke_result_t<Read&, ReplyReader&, const nlohmann::json&>> out;
    EachObject(object, key, [&](const nlohmann::json& e) { out.push_back(read(*this, e)); });
    return out;
  }

  /// True while every field read so far had the type the model gives it.
  bool ok() const { return problem_.empty(); }
  /// The error for the first field of the wrong type (meaningful only when !ok()).
  Error error() const { return Error{what_ + ": unexpected reply: " + problem_, ""}; }
  /// `value`, or error() when a field had the wrong type.
  template <typename T>
  Result<T> Finish(T value) const {
    if (!ok()) return tl::unexpected(error());
    return value;
  }

 private:
  /// The field `key` of `object` when present and not null; else nullptr. Notes a non-object.
  const nlohmann::json* Field(const nlohmann::json& object, const char* key);
  /// Calls `each` with every object in the list at `key`, until an element is not an object.
  void EachObject(const nlohmann::json& object, const char* key,
                  const std::function<void(const nlohmann::json&)>& each);
  /// The whole number at `key` if it lies in [min, max]; `range` names that span for the error.
  std::optional<int64_t> Whole(const nlohmann::json& object, const char* key, int64_t min,
                               int64_t max, const char* range);
  /// Notes that `key` is not a `expected` (the first such note is kept).
  void Mismatch(const char* key, const nlohmann::json& value, const char* expected);
  /// Keeps `problem` unless an earlier one is kept already.
  void Note(std::string problem);

  std::string what_;
  std::string problem_;
};

/// Reads an awsJson listing page by page: `call` sends `first`, then the same request with the
/// reply's "nextToken", until a reply has none (PageGuard's bounds apply); `take` reads each
/// page's items. `what` names the call in errors ("ecs ListTasks").
[[nodiscard]] Result<void> ReadJsonPages(
    const std::string& what, const nlohmann::json& first,
    const std::function<Result<nlohmann::json>(const nlohmann::json&)>& call,
    const std::function<void(ReplyReader&, const nlohmann::json&)>& take);

}  // namespace slipway::aws
