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
  /// True if a header named `name` (case-insensitive) is present, even with an empty value.
  bool HasHeader(const std::string& name) const;
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

/// Why an incoming request was refused. The API front names it in its protocol's words, e.g.
/// kSignatureMismatch is "InvalidSignatureException" in JSON and "SignatureDoesNotMatch" in Query.
enum class AuthError {
  kMissingAuthentication,  ///< no Authorization header
  kIncompleteSignature,    ///< malformed Authorization or date, or host/x-amz-date not signed
  kUnknownAccessKey,       ///< the access key id is not the one the endpoint knows
  kSignatureMismatch,      ///< wrong signature, credential scope, or a header that must be signed
  kExpired,                ///< X-Amz-Date more than 15 minutes from now
  kContentHashMismatch,    ///< X-Amz-Content-Sha256 differs from the hash of the received body
};

/// A refusal and AWS's explanation of it.
struct AuthFailure {
  AuthError error;
  std::string message;
};

/// Checks an incoming request's Authorization header as AWS does: against the endpoint's one key
/// pair, for the `expected` region and service (the one the endpoint dispatches the request to),
/// with host and x-amz-date signed, X-Amz-Date within 15 minutes of `now`, and the payload hash
/// computed from the received body (an X-Amz-Content-Sha256 header must be signed and equal it).
[[nodiscard]] tl::expected<void, AuthFailure> Verify(const SignableRequest& req,
                                                     const Credentials& known,
                                                     const SigningScope& expected, WallTime now);

}  // namespace slipway::aws
