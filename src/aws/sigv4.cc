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
    return tl::unexpected(AuthFailure{"IncompleteSignature",
                                      "Authorization header requires AWS4-HMAC-SHA256.", 400});
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
        "IncompleteSignature",
        "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters.",
        400});
  }
  out.access_key_id = cred[0];
  out.date = cred[1];
  out.region = cred[2];
  out.service = cred[3];
  out.signature = fields["Signature"];
  out.signed_headers = Split(fields["SignedHeaders"], ';');
  return out;
}

}  // namespace

tl::expected<void, AuthFailure> Verify(const SignableRequest& req, const Credentials& known,
                                       WallTime now) {
  std::string header = req.Header("Authorization");
  if (header.empty()) {
    return tl::unexpected(AuthFailure{"MissingAuthenticationTokenException",
                                      "Missing Authentication Token", 403});
  }
  auto auth = ParseAuthorization(header);
  if (!auth) return tl::unexpected(auth.error());
  if (!ConstantTimeEquals(auth->access_key_id, known.access_key_id)) {
    return tl::unexpected(AuthFailure{"UnrecognizedClientException",
                                      "The security token included in the request is invalid.",
                                      400});
  }
  std::string amz_date = req.Header("X-Amz-Date");
  WallTime signed_at;
  if (!ParseAmzDate(amz_date, &signed_at) || DateOf(amz_date) != auth->date) {
    return tl::unexpected(AuthFailure{"IncompleteSignature",
                                      "Date must be in ISO-8601 'basic format'; got '" +
                                          amz_date + "'.", 400});
  }
  auto skew = now > signed_at ? now - signed_at : signed_at - now;
  if (skew > std::chrono::minutes(15)) {
    return tl::unexpected(AuthFailure{
        "InvalidSignatureException",
        "Signature expired: " + amz_date + " is now earlier than " + AmzDate(now) +
            " (more than 15 minutes of clock skew).", 400});
  }
  std::vector<std::string> signed_headers = auth->signed_headers;
  if (std::find(signed_headers.begin(), signed_headers.end(), "host") == signed_headers.end()) {
    return tl::unexpected(AuthFailure{"IncompleteSignature",
                                      "'Host' must be a signed header.", 400});
  }
  std::string payload_hash = req.Header("X-Amz-Content-Sha256");
  if (payload_hash.empty() || payload_hash == "UNSIGNED-PAYLOAD") payload_hash = Sha256Hex(req.body);
  SigningScope scope{auth->region, auth->service};
  std::string creq = CanonicalRequest(req, signed_headers, payload_hash);
  std::string sts = StringToSign(creq, amz_date, scope);
  std::string expected = Signature(known.secret_access_key, amz_date, scope, sts);
  if (!ConstantTimeEquals(expected, auth->signature)) {
    return tl::unexpected(AuthFailure{
        "InvalidSignatureException",
        "The request signature we calculated does not match the signature you provided. Check "
        "your AWS Secret Access Key and signing method.", 403});
  }
  return {};
}

}  // namespace slipway::aws
