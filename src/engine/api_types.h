// Result types shared by the engine's AWS API handlers.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <string>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

namespace slipway::engine {

/// An AWS-shaped API error: code (the __type / <Code>), message and HTTP status.
struct ApiError {
  std::string code;
  std::string message;
  int status = 400;
  /// Members the error's shape carries besides its message (CloudWatch's
  /// dashboardValidationMessages), added to a JSON error's body; null for none.
  nlohmann::json members;
};

using ApiResult = tl::expected<nlohmann::json, ApiError>;
/// Query-protocol results are the inner XML of <ActionResult>.
using XmlResult = tl::expected<std::string, ApiError>;
using QueryParams = std::map<std::string, std::string>;

/// Request member `key` of `j` as an integer of type T, or `fallback` when `j` has no such member.
/// A value that is not a number, or a number outside T's range, throws json::type_error, which
/// the handlers answer as a SerializationException; nlohmann's own conversion of an out-of-range
/// floating-point number (desiredCount 1e30) is undefined behaviour.
template <typename T>
T IntField(const nlohmann::json& j, const char* key, T fallback) {
  auto it = j.find(key);
  if (it == j.end()) return fallback;
  using Limits = std::numeric_limits<T>;
  if (it->is_number_unsigned()) {
    if (it->template get<uint64_t>() <= static_cast<uint64_t>(Limits::max())) {
      return static_cast<T>(it->template get<uint64_t>());
    }
  } else if (it->is_number_integer()) {
    const int64_t v = it->template get<int64_t>();
    if (v >= static_cast<int64_t>(Limits::min()) && v <= static_cast<int64_t>(Limits::max())) {
      return static_cast<T>(v);
    }
  } else if (it->is_number_float()) {
    const double v = it->template get<double>();
    // Limits::max() + 1 is a power of two, so it converts to double exactly.
    if (v >= static_cast<double>(Limits::min()) && v < static_cast<double>(Limits::max()) + 1.0) {
      return static_cast<T>(v);
    }
  }
  throw nlohmann::json::type_error::create(
      302, std::string("member ") + key + " must be an integer within range, not " + it->dump(),
      nullptr);
}

namespace ecs {
/// ECS's two request-error shapes.
inline ApiError ClientError(const std::string& message) { return {"ClientException", message, 400}; }
inline ApiError InvalidParameter(const std::string& message) { return {"InvalidParameterException", message, 400}; }
}  // namespace ecs

/// The last path segment of an ARN ("…:service/cluster/web" is "web"), or `ref` itself.
inline std::string NameFromArn(const std::string& ref) {
  const size_t slash = ref.rfind('/');
  return slash == std::string::npos ? ref : ref.substr(slash + 1);
}

}  // namespace slipway::engine
