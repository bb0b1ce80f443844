// Input validation at the engine's API boundary: every request is checked against botocore's
// input shape for its operation, plus the few rules the models lack, before any handler runs.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "engine/api_shapes.h"
#include "engine/api_types.h"

namespace slipway::engine {

/// The deepest nesting of JSON arrays and objects a request may have. nlohmann's parse,
/// destruction and dump recurse once per level, so deeper input is refused before parsing.
inline constexpr int kMaxJsonDepth = 64;

/// One member that does not fit its shape or a semantic rule.
struct Violation {
  /// Where, as AWS names it: "containerDefinitions.1.member.portMappings.1.member.hostPort".
  std::string path;
  /// The offending value as AWS quotes it; nullopt for a missing member ("Value null at ...").
  std::optional<std::string> value;
  /// What the member must be, in AWS's words: "Member must have value greater than or equal to 0".
  std::string constraint;
  /// Set when the value could not be read as the modelled type at all ("a string" where an
  /// integer is modelled): the JSON protocol answers those with a SerializationException.
  std::string wrong_type;
  /// The value belongs to a sensitive shape (a secret): errors say where, never what.
  bool sensitive = false;
};


/// Parses the body of a JSON 1.1 (or CloudWatch's 1.0) request for `target_prefix`.`op` (from X-Amz-Target) and checks
/// it against the operation's input shape and semantic rules. Returns the request with members
/// the model does not name and null members removed (AWS ignores both), or the AWS-shaped error
/// to answer: SerializationException for unreadable JSON, nesting past kMaxJsonDepth or a value
/// of the wrong type; for violated constraints InvalidParameterException (ECS, CloudWatch Logs) or
/// ValidationException (Secrets Manager, SSM) or ValidationError (CloudWatch) with lowerCamel
/// member paths, as each service words it; UnknownOperationException for an operation the engine does not serve.
[[nodiscard]] tl::expected<nlohmann::json, ApiError> ParseJsonRequest(
    std::string_view target_prefix, std::string_view op, std::string_view body);

/// Reads the parameters of a Query request (Action and Version removed) for `action` of
/// `service` ("elbv2", "cloudwatch") into JSON (QueryToJson) and checks it against the action's
/// input shape and semantic rules. Errors are ValidationError, or InvalidAction for an action the
/// engine does not serve.
[[nodiscard]] tl::expected<nlohmann::json, ApiError> ParseQueryRequest(std::string_view service,
                                                                       std::string_view action,
                                                                       const QueryParams& params);
/// ParseQueryRequest for an ELBv2 action, whose handlers read the parameters themselves.
[[nodiscard]] tl::expected<void, ApiError> CheckQueryRequest(std::string_view action,
                                                             const QueryParams& params);

/// Reads flat Query parameters ("Names.member.1", "Attributes.member.2.Key", "Port") into JSON
/// shaped by `input`: lists from ".member.N" with N = 1, 2, ... and no gaps, maps from
/// ".entry.N.key" / ".entry.N.value", and integers, longs, doubles and booleans strictly ("1.5",
/// "abc", "+80" and "99999999999" are not integers). Parameters `input` does not name are left
/// out, as the handlers ignore them. Violation paths use the model's member names.
[[nodiscard]] tl::expected<nlohmann::json, Violation> QueryToJson(const Shape& input,
                                                                  const QueryParams& params);

}  // namespace slipway::engine
