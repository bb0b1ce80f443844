// SigV4 canonicalisation, signing and verification, per AWS's published algorithm.
#include "aws/sigv4.h"

#include <algorithm>
#include <chrono>
#include <map>

#include "base/crypto.h"
#include "base/strings.h"

namespace slipway::aws {

std::string SignableRequest::Header(const std::string& name) const {
  std::string want = Lower(name);
  for (const auto& [k, v] : headers) {
    if (Lower(k) == want) return v;
  }
  return {};
}

bool SignableRequest::HasHeader(const std::string& name) const {
  std::string want = Lower(name);
  return std::any_of(headers.begin(), headers.end(),
                     [&want](const auto& h) { return Lower(h.first) == want; });
}

namespace {

// Removes "." and ".." segments and empty segments, keeping a trailing slash.
std::string NormalizePath(const std::string& path) {
  std::vector<std::string> out;
  for (const auto& seg : Split(path, '/')) {
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      if (!out.empty()) out.pop_back();
      continue;
    }
    out.push_back(seg);
  }
  std::string result = "/" + Join(out, "/");
  bool trailing = path.size() > 1 && path.back() == '/';
  if (trailing && result.size() > 1) result += '/';
  return result;
}

std::string CanonicalUri(const std::string& path) {
  return UriEncode(NormalizePath(path.empty() ? "/" : path), /*keep_slash=*/true);
}

std::string CanonicalQuery(const std::string& query) {
  if (query.empty()) return {};
  std::vector<std::pair<std::string, std::string>> params;
  for (const auto& piece : Split(query, '&')) {
    if (piece.empty()) continue;
    size_t eq = piece.find('=');
    std::string key = piece.substr(0, eq);
    std::string value = eq == std::string::npos ? "" : piece.substr(eq + 1);
    params.emplace_back(UriEncode(UriDecode(key)), UriEncode(UriDecode(value)));
  }
  std::sort(params.begin(), params.end());
  std::vector<std::string> parts;
  for (const auto& [k, v] : params) parts.push_back(k + "=" + v);
  return Join(parts, "&");
}

// Trims and collapses runs of spaces, as SigV4 requires for header values.
std::string CanonicalHeaderValue(const std::string& value) {
  std::string trimmed = Trim(value), out;
  bool in_space = false;
  for (char c : trimmed) {
    bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r';
    if (space) {
      if (!in_space) out += ' ';
      in_space = true;
    } else {
      out += c;
      in_space = false;
    }
  }
  return out;
}

std::string DateOf(const std::string& amz_date) { return amz_date.substr(0, 8); }

std::string CredentialScope(const std::string& amz_date, const SigningScope& scope) {
  return DateOf(amz_date) + "/" + scope.region + "/" + scope.service + "/aws4_request";
}

}  // namespace

std::string CanonicalRequest(const SignableRequest& req, const std::vector<std::string>& signed_headers,
                             const std::string& payload_hash) {
  std::map<std::string, std::vector<std::string>> values;
  for (const auto& [k, v] : req.headers) values[Lower(k)].push_back(CanonicalHeaderValue(v));
  std::string headers;
  for (const auto& name : signed_headers) {
    headers += name + ":" + Join(values[name], ",") + "\n";
  }
  return req.method + "\n" + CanonicalUri(req.path) + "\n" + CanonicalQuery(req.query) + "\n" +
         headers + "\n" + Join(signed_headers, ";") + "\n" + payload_hash;
}

std::string StringToSign(const std::string& canonical_request, const std::string& amz_date,
                         const SigningScope& scope) {
  return "AWS4-HMAC-SHA256\n" + amz_date + "\n" + CredentialScope(amz_date, scope) + "\n" +
         Sha256Hex(canonical_request);
}

std::string Signature(const std::string& secret, const std::string& amz_date,
                      const SigningScope& scope, const std::string& string_to_sign) {
  std::string k = HmacSha256("AWS4" + secret, DateOf(amz_date));
  k = HmacSha256(k, scope.region);
  k = HmacSha256(k, scope.service);
  k = HmacSha256(k, "aws4_request");
  return HexEncode(HmacSha256(k, string_to_sign));
}

std::vector<std::string> SortedHeaderNames(const SignableRequest& req) {
  std::vector<std::string> names;
  for (const auto& h : req.headers) names.push_back(Lower(h.first));
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

void Sign(SignableRequest& req, const Credentials& creds, const SigningScope& scope, WallTime now) {
  const std::string amz_date = AmzDate(now);
  req.headers.emplace_back("X-Amz-Date", amz_date);
  if (!creds.session_token.empty()) {
    req.headers.emplace_back("X-Amz-Security-Token", creds.session_token);
  }
  std::vector<std::string> names = SortedHeaderNames(req);
  std::string creq = CanonicalRequest(req, names, Sha256Hex(req.body));
  std::string sig = Signature(creds.secret_access_key, amz_date, scope,
                              StringToSign(creq, amz_date, scope));
  req.headers.emplace_back("Authorization", "AWS4-HMAC-SHA256 Credential=" + creds.access_key_id +
                                                "/" + CredentialScope(amz_date, scope) +
                                                ", SignedHeaders=" + Join(names, ";") +
                                                ", Signature=" + sig);
}

namespace {

struct ParsedAuthorization {
  std::string access_key_id, date, region, service, signature;
  std::vector<std::string> signed_headers;
};

tl::expected<ParsedAuthorization, AuthFailure> ParseAuthorization(const std::string& header) {
  const std::string prefix = "AWS4-HMAC-SHA256 ";
  if (header.rfind(prefix, 0) != 0) {
    return tl::unexpected(AuthFailure{AuthError::kIncompleteSignature,
                                      "Authorization header requires AWS4-HMAC-SHA256."});
  }
  std::map<std::string, std::string> fields;
  for (const auto& part : Split(header.substr(prefix.size()), ',')) {
    std::string p = Trim(part);
    size_t eq = p.find('=');
    if (eq != std::string::npos) fields[p.substr(0, eq)] = p.substr(eq + 1);
  }
  ParsedAuthorization out;
  auto cred = Split(fields["Credential"], '/');
  if (cred.size() != 5 || cred[4] != "aws4_request" || fields["SignedHeaders"].empty() ||
      fields["Signature"].empty()) {
    return tl::unexpected(AuthFailure{
        AuthError::kIncompleteSignature,
        "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters."});
  }
  out.access_key_id = cred[0];
  out.date = cred[1];
  out.region = cred[2];
  out.service = cred[3];
  out.signature = fields["Signature"];
  out.signed_headers = Split(fields["SignedHeaders"], ';');
  return out;
}

constexpr auto kMaxSkew = std::chrono::minutes(15);
const std::string kContentSha256 = "x-amz-content-sha256";

tl::unexpected<AuthFailure> Refuse(AuthError error, std::string message) {
  return tl::unexpected(AuthFailure{error, std::move(message)});
}

bool IsSigned(const ParsedAuthorization& auth, const std::string& name) {
  return std::find(auth.signed_headers.begin(), auth.signed_headers.end(), name) !=
         auth.signed_headers.end();
}

// X-Amz-Date must parse, match the credential scope's date and lie within the skew AWS allows.
tl::expected<void, AuthFailure> CheckDate(const std::string& amz_date,
                                          const ParsedAuthorization& auth, WallTime now) {
  WallTime signed_at;
  if (!ParseAmzDate(amz_date, &signed_at)) {
    return Refuse(AuthError::kIncompleteSignature,
                  "Date must be in ISO-8601 'basic format'; got '" + amz_date + "'.");
  }
  if (DateOf(amz_date) != auth.date) {
    return Refuse(AuthError::kSignatureMismatch,
                  "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
                  "from HTTP: '" +
                      auth.date + "' != '" + DateOf(amz_date) + "', from '" + amz_date + "'.");
  }
  if (signed_at < now - kMaxSkew) {
    return Refuse(AuthError::kExpired, "Signature expired: " + amz_date + " is now earlier than " +
                                           AmzDate(now - kMaxSkew) + " (" + AmzDate(now) +
                                           " - 15 min.)");
  }
  if (signed_at > now + kMaxSkew) {
    return Refuse(AuthError::kExpired, "Signature not yet current: " + amz_date +
                                           " is still later than " + AmzDate(now + kMaxSkew) +
                                           " (" + AmzDate(now) + " + 15 min.)");
  }
  return {};
}

// Signing host binds the request to this endpoint, signing x-amz-date bounds its replay window.
tl::expected<void, AuthFailure> CheckRequiredSignedHeaders(const ParsedAuthorization& auth) {
  if (!IsSigned(auth, "host")) {
    return Refuse(AuthError::kIncompleteSignature,
                  "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }
  if (!IsSigned(auth, "x-amz-date")) {
    return Refuse(AuthError::kIncompleteSignature,
                  "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.");
  }
  return {};
}

tl::expected<void, AuthFailure> CheckScope(const ParsedAuthorization& auth,
                                           const SigningScope& expected) {
  if (auth.region != expected.region) {
    return Refuse(AuthError::kSignatureMismatch,
                  "Credential should be scoped to a valid region, not '" + auth.region + "'. ");
  }
  if (auth.service != expected.service) {
    return Refuse(AuthError::kSignatureMismatch,
                  "Credential should be scoped to correct service: '" + expected.service + "'. ");
  }
  return {};
}

// The payload hash is always the received body's. Only S3 reads X-Amz-Content-Sha256 (and its
// UNSIGNED-PAYLOAD); anywhere else a client that sends it must sign it and mean the body it sent,
// or a captured request could carry a swapped body under the original hash.
tl::expected<std::string, AuthFailure> PayloadHash(const SignableRequest& req,
                                                   const ParsedAuthorization& auth) {
  std::string computed = Sha256Hex(req.body);
  if (!req.HasHeader(kContentSha256)) return computed;
  if (!IsSigned(auth, kContentSha256)) {
    return Refuse(
        AuthError::kSignatureMismatch,
        "There were headers present in the request which were not signed: " + kContentSha256 + ".");
  }
  if (!ConstantTimeEquals(Trim(req.Header(kContentSha256)), computed)) {
    return Refuse(AuthError::kContentHashMismatch,
                  "The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
  return computed;
}

}  // namespace

tl::expected<void, AuthFailure> Verify(const SignableRequest& req, const Credentials& known,
                                       const SigningScope& expected, WallTime now) {
  std::string header = req.Header("Authorization");
  if (header.empty()) {
    return Refuse(AuthError::kMissingAuthentication, "Missing Authentication Token");
  }
  auto auth = ParseAuthorization(header);
  if (!auth) return tl::unexpected(auth.error());
  if (!ConstantTimeEquals(auth->access_key_id, known.access_key_id)) {
    return Refuse(AuthError::kUnknownAccessKey,
                  "The security token included in the request is invalid.");
  }
  const std::string amz_date = req.Header("X-Amz-Date");
  if (auto ok = CheckDate(amz_date, *auth, now); !ok) return ok;
  if (auto ok = CheckRequiredSignedHeaders(*auth); !ok) return ok;
  if (auto ok = CheckScope(*auth, expected); !ok) return ok;
  auto payload_hash = PayloadHash(req, *auth);
  if (!payload_hash) return tl::unexpected(payload_hash.error());

  std::string creq = CanonicalRequest(req, auth->signed_headers, *payload_hash);
  std::string sts = StringToSign(creq, amz_date, expected);
  std::string want = Signature(known.secret_access_key, amz_date, expected, sts);
  if (!ConstantTimeEquals(want, auth->signature)) {
    return Refuse(AuthError::kSignatureMismatch,
                  "The request signature we calculated does not match the signature you "
                  "provided. Check your AWS Secret Access Key and signing method. Consult the "
                  "service documentation for details.");
  }
  return {};
}

}  // namespace slipway::aws
