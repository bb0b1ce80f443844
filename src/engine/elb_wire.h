// The ELBv2 Query protocol as the engine's handlers read and write it: flat parameters in,
// XML out, and the listener actions that listeners and rules share.
#pragma once

#include <string>
#include <vector>

#include "engine/api_types.h"
#include "engine/model.h"

namespace slipway::engine {

/// Reads a Query list "Prefix.member.N" (N = 1..) as strings.
std::vector<std::string> ListParam(const QueryParams& p, const std::string& prefix);
/// Reads a Query list of structures "Prefix.member.N.Field" as maps of Field -> value.
std::vector<QueryParams> StructListParam(const QueryParams& p, const std::string& prefix);
/// Parameter `key`, or `fallback` when absent.
std::string Get(const QueryParams& p, const std::string& key, const std::string& fallback = "");
/// Parameter `key` as an integer (the validator has checked its form), or `fallback` when absent.
int GetInt(const QueryParams& p, const std::string& key, int fallback);

/// A client's value as an error message may quote it: control characters, which XML 1.0 cannot
/// carry, become '?', and long values are cut to at most 256 bytes, between characters.
std::string Quotable(const std::string& value);

/// ELBv2's ValidationError.
inline ApiError ElbValidation(const std::string& message) {
  return {"ValidationError", message, 400};
}

/// Builds XML with escaped leaves.
class Xml {
 public:
  Xml& Open(const std::string& tag) {
    out_ += "<" + tag + ">";
    return *this;
  }
  Xml& Close(const std::string& tag) {
    out_ += "</" + tag + ">";
    return *this;
  }
  /// <tag>value</tag>, the value escaped.
  Xml& Leaf(const std::string& tag, const std::string& value);
  /// Appends XML that is already well formed.
  Xml& Raw(const std::string& xml) {
    out_ += xml;
    return *this;
  }
  std::string str() const { return out_; }

 private:
  std::string out_;
};

/// The members of an Actions list as botocore's Action shape.
std::string ActionsXml(const std::vector<Action>& actions);

/// Reads the action list `prefix` ("Actions", "DefaultActions"): forward actions must name an
/// existing target group, fixed-response ones a content type the ALB accepts.
tl::expected<std::vector<Action>, ApiError> ParseActions(const QueryParams& p,
                                                         const std::string& prefix, const State& s);

}  // namespace slipway::engine
