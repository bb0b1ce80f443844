// The two STS calls the credential chain makes, over the Query protocol.
#include "aws/sts.h"

#include "aws/xml.h"
#include "base/strings.h"

namespace slipway::aws {

namespace {

constexpr const char* kStsVersion = "2011-06-15";
constexpr long kStsTimeoutMs = 10'000;

std::string HostOf(const std::string& url) {
  size_t start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  const size_t end = url.find('/', start);
  return url.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

std::string FormBody(const std::string& action, const RoleRequest& role) {
  std::string body = "Action=" + action + "&Version=" + kStsVersion +
                     "&RoleArn=" + UriEncode(role.role_arn) +
                     "&RoleSessionName=" + UriEncode(role.session_name);
  if (!role.external_id.empty()) body += "&ExternalId=" + UriEncode(role.external_id);
  if (role.duration_seconds > 0)
    body += "&DurationSeconds=" + std::to_string(role.duration_seconds);
  return body;
}

Result<IssuedCredentials> Exchange(HttpTransport& transport, const std::string& url,
                                   const std::string& action, const std::string& role_arn,
                                   HttpRequest request) {
  const std::string what = "sts " + action + " " + role_arn;
  request.url = url;
  request.timeout_ms = kStsTimeoutMs;
  Result<HttpResponse> reply = transport.Send(request);
  if (!reply) return Fail(what + ": " + reply.error().message, reply.error().code);
  auto doc = ParseXml(reply->body);
  if (reply->status >= 400) {
    if (!doc) return Fail(what + ": HTTP " + std::to_string(reply->status));
    return Fail(what + ": " + doc->Text("Error/Code") + ": " + doc->Text("Error/Message"),
                doc->Text("Error/Code"));
  }
  if (!doc) return Fail(what + ": malformed reply: " + doc.error().message);
  const XmlNode* creds = doc->Find(action + "Result/Credentials");
  if (creds == nullptr) return Fail(what + ": reply has no Credentials");
  IssuedCredentials out{
      {creds->Text("AccessKeyId"), creds->Text("SecretAccessKey"), creds->Text("SessionToken")},
      ParseIsoTime(creds->Text("Expiration"))};
  if (out.creds.access_key_id.empty() || out.creds.secret_access_key.empty() || !out.expiration) {
    return Fail(what + ": reply lacks AccessKeyId, SecretAccessKey or Expiration");
  }
  return out;
}

}  // namespace

Result<IssuedCredentials> AssumeRole(HttpTransport& transport, const StsEndpoint& sts,
                                     const Credentials& source, const RoleRequest& role,
                                     WallTime now) {
  const std::string body = FormBody("AssumeRole", role);
  SignableRequest req{"POST",
                      "/",
                      "",
                      {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}},
                      body};
  req.headers.emplace_back("Host", HostOf(sts.url));
  Sign(req, source, {sts.region, "sts"}, now);
  return Exchange(transport, sts.url, "AssumeRole", role.role_arn, {"POST", "", req.headers, body});
}

Result<IssuedCredentials> AssumeRoleWithWebIdentity(HttpTransport& transport,
                                                    const StsEndpoint& sts, const RoleRequest& role,
                                                    const std::string& token) {
  RoleRequest plain = role;
  plain.external_id.clear();
  const std::string body =
      FormBody("AssumeRoleWithWebIdentity", plain) + "&WebIdentityToken=" + UriEncode(token);
  return Exchange(
      transport, sts.url, "AssumeRoleWithWebIdentity", role.role_arn,
      {"POST", "", {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}}, body});
}

std::string DefaultSessionName(WallTime now) {
  return "slipway-" +
         std::to_string(
             std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
}

}  // namespace slipway::aws
