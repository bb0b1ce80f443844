// Result types shared by the engine's AWS API handlers.
#pragma once

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
};

using ApiResult = tl::expected<nlohmann::json, ApiError>;
/// Query-protocol results are the inner XML of <ActionResult>.
using XmlResult = tl::expected<std::string, ApiError>;
using QueryParams = std::map<std::string, std::string>;

}  // namespace slipway::engine
