// Error values that cross module boundaries: Result<T> = tl::expected<T, Error>.
#pragma once

#include <string>
#include <utility>

#include <tl/expected.hpp>

namespace slipway {

/// A failure that names the object and the operation, e.g.
/// "ecs UpdateService demo-dev-web: ClientException: TaskDefinition is inactive".
struct Error {
  std::string message;
  /// Optional machine-readable code (an AWS error code such as "ClientException").
  std::string code;
};

template <typename T>
using Result = tl::expected<T, Error>;

/// Builds an unexpected Error for `return Fail(...)`.
inline tl::unexpected<Error> Fail(std::string message, std::string code = {}) {
  return tl::unexpected<Error>(Error{std::move(message), std::move(code)});
}

/// Prefixes context to an error: Wrap("ecs DescribeServices", e) -> "ecs DescribeServices: <e>".
inline Error Wrap(const std::string& context, const Error& e) {
  return Error{context + ": " + e.message, e.code};
}

}  // namespace slipway
