// AWS Signature Version 4: signing outgoing requests and verifying incoming ones.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/result.h"

namespace slipway::aws {

/// An access key pair, optionally with a session token.
struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
};

/// The parts of an HTTP request that SigV4 covers. `path` is unencoded; `query` is the raw
/// query string (without '?'), as it appears on the wire.
struct SignableRequest {
  std::string method;
  std::string path;
  std::string query;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  /// First header named `name` (case-insensitive), or empty.
  std::string Header(const std::string& name) const;
};

/// Region and service a signature is scoped to.
struct SigningScope {
  std::string region;
  std::string service;
};

/// The canonical request SigV4 hashes. `signed_headers` are lower-case and sorted.
/// Every header name of `req`, lower-cased, sorted and de-duplicated: what Sign() signs.
std::vector<std::string> SortedHeaderNames(const SignableRequest& req);

std::string CanonicalRequest(const SignableRequest& req, const std::vector<std::string>& signed_headers,
                             const std::string& payload_hash);
/// The string to sign for a canonical request at `amz_date` ("20150830T123600Z").
std::string StringToSign(const std::string& canonical_request, const std::string& amz_date,
                         const SigningScope& scope);
/// Hex signature of `string_to_sign` with the key derived from `secret`.
std::string Signature(const std::string& secret, const std::string& amz_date,
                      const SigningScope& scope, const std::string& string_to_sign);

/// Adds X-Amz-Date, X-Amz-Security-Token (when set) and Authorization to `req`, signing every
/// header present. A Host header must already be set.
void Sign(SignableRequest& req, const Credentials& creds, const SigningScope& scope, WallTime now);

/// Why an incoming request was refused, in AWS's words.
struct AuthFailure {
  std::string code;     ///< e.g. "SignatureDoesNotMatch", "MissingAuthenticationToken"
  std::string message;  ///< AWS-style explanation
  int http_status = 403;
};

/// Checks an incoming request's Authorization header against the engine's one key pair.
/// `now` bounds the allowed clock skew (15 minutes, as AWS allows).
[[nodiscard]] tl::expected<void, AuthFailure> Verify(const SignableRequest& req,
                                                    const Credentials& known, WallTime now);

}  // namespace slipway::aws
