// The walk of a parsed request beside its botocore input shape (the model half of validation).
#pragma once

#include <string>
#include <vector>

#include "engine/validate.h"

namespace slipway::engine {

/// A value as AWS quotes it in errors: strings bare, anything else as JSON, long ones cut.
std::string QuoteValue(const nlohmann::json& value);

/// Checks a parsed request against its input shape and collects what does not fit: types and
/// integer widths, required members, min/max, enums and patterns. Structures lose the members
/// their shape does not name and null members, as AWS ignores both. Collects at most ten
/// violations: AWS lists every one, but past ten they help nobody and only grow the answer.
/// Violations inside a sensitive shape are marked so, and errors do not quote their values. Blobs
/// are base64 on the wire; their bounds count the decoded bytes.
class ShapeChecker {
 public:
  /// Checks `value` (at `path`, "" for the whole input) against `shape`.
  void Check(const Shape& shape, nlohmann::json& value, const std::string& path);
  /// Records a violation found by other means, e.g. a semantic rule.
  void Add(Violation v);
  /// What was found, in order.
  const std::vector<Violation>& violations() const { return violations_; }
  /// Whether every value was checked: false once the checker has stopped looking.
  bool checked_all() const { return violations_.size() < kMaxViolations; }

  /// Violations collected at most.
  static constexpr size_t kMaxViolations = 10;

 private:
  void CheckValue(const Shape& shape, nlohmann::json& value, const std::string& path);
  void CheckBlob(const Shape& shape, const nlohmann::json& value, const std::string& path);
  void CheckStructure(const Shape& shape, nlohmann::json& value, const std::string& path);
  void CheckList(const Shape& shape, nlohmann::json& value, const std::string& path);
  void CheckMap(const Shape& shape, nlohmann::json& value, const std::string& path);
  void CheckString(const Shape& shape, const std::string& text, const std::string& path);
  void CheckInteger(const Shape& shape, const nlohmann::json& value, const std::string& path);
  void CheckBounds(const Shape& shape, const nlohmann::json& value, double number,
                   const std::string& path);
  void CheckLength(const Shape& shape, const nlohmann::json& value, size_t length,
                   const std::string& path);
  void WrongType(const Shape& shape, const nlohmann::json& value, const std::string& path);

  std::vector<Violation> violations_;
  /// How many sensitive shapes enclose the value being checked.
  int inside_sensitive_ = 0;
};

}  // namespace slipway::engine
