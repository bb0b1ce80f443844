// SSO GetRoleCredentials with the bearer token from ~/.aws/sso/cache.
#include "aws/sso_credentials.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "aws/json_reply.h"
#include "base/crypto.h"
#include "base/strings.h"

namespace slipway::aws {

namespace {

constexpr long kSsoTimeoutMs = 10'000;

std::string LoginHint(const SsoRole& role) {
  return role.session_name.empty() ? "run `aws sso login --profile " + role.profile + "`"
                                   : "run `aws sso login --sso-session " + role.session_name + "`";
}

Result<std::string> CachedToken(const SsoRole& role, const std::string& cache_dir, WallTime now) {
  const std::string path = SsoCacheFile(role, cache_dir);
  std::ifstream in(path);
  if (!in) return Fail("no cached SSO token " + path + "; " + LoginHint(role));
  std::stringstream text;
  text << in.rdbuf();
  auto j = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("accessToken") || !j["accessToken"].is_string() ||
      !j.contains("expiresAt") || !j["expiresAt"].is_string()) {
    return Fail("SSO token cache " + path + ": lacks accessToken or expiresAt; " + LoginHint(role));
  }
  auto expires = ParseIsoTime(j["expiresAt"].get<std::string>());
  if (!expires)
    return Fail("SSO token cache " + path + ": malformed expiresAt; " + LoginHint(role));
  if (*expires <= now) {
    return Fail("the SSO session for " + role.start_url + " expired at " +
                j["expiresAt"].get<std::string>() + "; " + LoginHint(role));
  }
  return j["accessToken"].get<std::string>();
}

}  // namespace

std::string SsoCacheFile(const SsoRole& role, const std::string& cache_dir) {
  return cache_dir + "/" + Sha1Hex(role.session_name.empty() ? role.start_url : role.session_name) +
         ".json";
}

std::string DefaultSsoPortal(const std::string& region) {
  return "https://portal.sso." + region + ".amazonaws.com";
}

Result<IssuedCredentials> FetchSsoCredentials(HttpTransport& transport, const SsoRole& role,
                                              const std::string& cache_dir,
                                              const std::string& portal_url, WallTime now) {
  auto token = CachedToken(role, cache_dir, now);
  if (!token) return tl::unexpected(token.error());
  std::string base = portal_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  const std::string what = "sso GetRoleCredentials " + role.account_id + "/" + role.role_name;
  Result<HttpResponse> reply =
      transport.Send({"GET",
                      base + "/federation/credentials?account_id=" + UriEncode(role.account_id) +
                          "&role_name=" + UriEncode(role.role_name),
                      {{"x-amz-sso_bearer_token", *token}},
                      "",
                      kSsoTimeoutMs});
  if (!reply) return Fail(what + ": " + reply.error().message);
  if (reply->status == 401 || reply->status == 403) {
    return Fail(what + ": HTTP " + std::to_string(reply->status) + ": the SSO token was refused; " +
                LoginHint(role));
  }
  if (reply->status != 200)
    return Fail(what + ": HTTP " + std::to_string(reply->status) + ": " + reply->body);
  auto j = nlohmann::json::parse(reply->body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("roleCredentials") || !j["roleCredentials"].is_object()) {
    return Fail(what + ": reply lacks roleCredentials");
  }
  ReplyReader read(what);
  const auto& rc = read.Object(j, "roleCredentials");
  IssuedCredentials out{{read.String(rc, "accessKeyId"), read.String(rc, "secretAccessKey"),
                         read.String(rc, "sessionToken")},
                        std::nullopt};
  // GetRoleCredentials gives the expiry in milliseconds since the epoch.
  const std::optional<int64_t> expiration_ms = read.OptionalInt(rc, "expiration");
  if (!read.ok()) return tl::unexpected(read.error());
  if (out.creds.access_key_id.empty() || out.creds.secret_access_key.empty() || !expiration_ms) {
    return Fail(what + ": reply lacks accessKeyId, secretAccessKey or expiration");
  }
  out.expiration = WallTime(std::chrono::milliseconds(*expiration_ms));
  return out;
}

}  // namespace slipway::aws
