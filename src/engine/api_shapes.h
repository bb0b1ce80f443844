// botocore's input shapes for the operations the engine serves, embedded at build time.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace re2 {
class RE2;
}

namespace slipway::engine {

/// One botocore shape, reduced to what input validation reads.
struct Shape {
  enum class Type {
    kStructure,
    kList,
    kMap,
    kString,
    kInteger,
    kLong,
    kBoolean,
    kDouble,
    kTimestamp,
    kBlob
  };

  std::string name;
  Type type = Type::kString;
  /// A structure marked `document`: any JSON value is accepted as is.
  bool document = false;
  /// A value errors must not quote (a secret, a password): they name only where it is.
  bool sensitive = false;
  /// Bounds on a number's value, or on a string's, list's or map's length.
  std::optional<int64_t> min, max;
  std::vector<std::string> enum_values;
  /// botocore's pattern text; matched against the whole value (as AWS does), empty if none.
  std::string pattern;
  std::shared_ptr<const re2::RE2> regex;
  std::vector<std::string> required;
  /// Structure members in the model's order.
  std::vector<std::pair<std::string, const Shape*>> members;
  /// A list's element, or a map's key and value.
  const Shape* member = nullptr;
  const Shape* key = nullptr;
  const Shape* value = nullptr;

  /// Whether `text` matches the pattern in full (true when the shape has none).
  bool MatchesPattern(std::string_view text) const;
  /// The member named `name`, or nullptr.
  const Shape* Member(std::string_view name) const;
  /// What a value of this type is, for errors: "an integer from -2147483648 to 2147483647".
  std::string TypeDescription() const;
};

/// One service's model: its protocol and the input shape of each served operation.
struct ServiceShapes {
  std::string name;           ///< botocore's service name: "ecs", "elbv2", "logs"
  std::string protocol;       ///< "json" or "query"
  std::string target_prefix;  ///< the X-Amz-Target prefix of a JSON service
  std::map<std::string, const Shape*, std::less<>> operations;
  std::map<std::string, Shape, std::less<>> shapes;  ///< node-based: Shape pointers stay valid
};

/// The input shapes of every served operation, by service.
class ApiShapes {
 public:
  /// The shapes embedded in the binary, parsed on first use. Aborts if they do not parse, which
  /// validate_test rules out for the committed data.
  static const ApiShapes& Embedded();
  /// Parses the layout scripts/gen_api_shapes.py writes; compiles every pattern.
  [[nodiscard]] static Result<std::unique_ptr<ApiShapes>> Parse(std::string_view json_text);

  /// The JSON 1.1 service whose X-Amz-Target prefix is `prefix`, or nullptr.
  const ServiceShapes* ByTargetPrefix(std::string_view prefix) const;
  /// The service named `name` ("ecs", "elbv2", "logs"), or nullptr.
  const ServiceShapes* ByName(std::string_view name) const;
  /// The botocore version the shapes were taken from.
  const std::string& botocore_version() const { return botocore_version_; }

 private:
  ApiShapes() = default;
  std::string botocore_version_;
  std::map<std::string, ServiceShapes, std::less<>> services_;
};

}  // namespace slipway::engine
