// The container credentials endpoint and EC2 instance metadata, each asked again at every refresh.
#include "aws/metadata_credentials.h"

#include <arpa/inet.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "aws/json_reply.h"
#include "base/strings.h"

namespace slipway::aws {

namespace {

constexpr const char* kEcsAgent = "http://169.254.170.2";
constexpr const char* kImdsDefault = "http://169.254.169.254";
// Metadata services answer in milliseconds; a machine without one should not hold the chain up.
constexpr long kMetadataTimeoutMs = 1'000;
constexpr long kContainerTimeoutMs = 2'000;

// The host of an http(s) URL, without port or brackets.
std::string HostOf(const std::string& url) {
  size_t start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  std::string authority = url.substr(start, url.find_first_of("/?#", start) - start);
  if (const size_t at = authority.rfind('@'); at != std::string::npos)
    authority = authority.substr(at + 1);
  if (!authority.empty() && authority[0] == '[')
    return authority.substr(1, authority.find(']') - 1);
  return authority.substr(0, authority.find(':'));
}

// 127.0.0.0/8 as a literal address; a name such as "127.0.0.1.example.com" is not loopback.
bool IsLoopbackV4(const std::string& host) {
  in_addr addr{};
  return ::inet_pton(AF_INET, host.c_str(), &addr) == 1 && (ntohl(addr.s_addr) >> 24) == 127;
}

bool AllowedPlainHttpHost(const std::string& host) {
  return IsLoopbackV4(host) || host == "localhost" || host == "::1" || host == "169.254.170.2" ||
         host == "169.254.170.23" || host == "fd00:ec2::23";
}

std::string FirstLine(const std::string& text) { return Trim(text.substr(0, text.find('\n'))); }

}  // namespace

Result<std::optional<ContainerEndpoint>> ContainerEndpointFromEnv(const EnvVars& env) {
  ContainerEndpoint out{"", EnvValue(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN"),
                        EnvValue(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")};
  if (const std::string relative = EnvValue(env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
      !relative.empty()) {
    out.url = kEcsAgent + (relative[0] == '/' ? relative : "/" + relative);
    return std::optional<ContainerEndpoint>(out);
  }
  const std::string full = EnvValue(env, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
  if (full.empty()) return std::optional<ContainerEndpoint>();
  const bool https = full.rfind("https://", 0) == 0;
  if (!https && !(full.rfind("http://", 0) == 0 && AllowedPlainHttpHost(HostOf(full)))) {
    return Fail("AWS_CONTAINER_CREDENTIALS_FULL_URI " + full +
                ": must be https, or http on a loopback address or the ECS/EKS container agent");
  }
  out.url = full;
  return std::optional<ContainerEndpoint>(out);
}

Result<IssuedCredentials> FetchContainerCredentials(HttpTransport& transport,
                                                    const ContainerEndpoint& endpoint) {
  const std::string what = "container credentials " + endpoint.url;
  std::string token = endpoint.token;
  if (!endpoint.token_file.empty()) {
    std::ifstream in(endpoint.token_file);
    if (!in)
      return Fail(what + ": cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE " +
                  endpoint.token_file);
    std::stringstream text;
    text << in.rdbuf();
    token = Trim(text.str());
  }
  if (token.find_first_of("\r\n") != std::string::npos)
    return Fail(what + ": authorization token has a line break");
  HttpRequest req{"GET", endpoint.url, {{"Accept", "application/json"}}, "", kContainerTimeoutMs};
  if (!token.empty()) req.headers.emplace_back("Authorization", token);
  Result<HttpResponse> reply = transport.Send(req);
  if (!reply) return Fail(what + ": " + reply.error().message);
  if (reply->status != 200)
    return Fail(what + ": HTTP " + std::to_string(reply->status) + ": " + reply->body);
  return ParseCredentialDocument(reply->body, what);
}

std::string ImdsEndpoint(const EnvVars& env) {
  std::string url = EnvValue(env, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
  if (url.empty()) url = kImdsDefault;
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

bool ImdsDisabled(const EnvVars& env) {
  return Lower(EnvValue(env, "AWS_EC2_METADATA_DISABLED")) == "true";
}

Result<IssuedCredentials> FetchImdsCredentials(HttpTransport& transport,
                                               const std::string& endpoint) {
  const std::string what = "instance metadata " + endpoint;
  Result<HttpResponse> token = transport.Send({"PUT",
                                               endpoint + "/latest/api/token",
                                               {{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}},
                                               "",
                                               kMetadataTimeoutMs});
  if (!token) return Fail(what + ": " + token.error().message);
  if (token->status != 200) return Fail(what + ": token: HTTP " + std::to_string(token->status));
  const std::vector<std::pair<std::string, std::string>> auth{
      {"X-aws-ec2-metadata-token", Trim(token->body)}};
  const std::string base = endpoint + "/latest/meta-data/iam/security-credentials/";
  Result<HttpResponse> role = transport.Send({"GET", base, auth, "", kMetadataTimeoutMs});
  if (!role) return Fail(what + ": " + role.error().message);
  if (role->status == 404) return Fail(what + ": the instance has no IAM role");
  if (role->status != 200 || FirstLine(role->body).empty()) {
    return Fail(what + ": role name: HTTP " + std::to_string(role->status));
  }
  const std::string name = FirstLine(role->body);
  Result<HttpResponse> creds =
      transport.Send({"GET", base + UriEncode(name), auth, "", kMetadataTimeoutMs});
  if (!creds) return Fail(what + ": " + creds.error().message);
  if (creds->status != 200)
    return Fail(what + ": role " + name + ": HTTP " + std::to_string(creds->status));
  return ParseCredentialDocument(creds->body, what + ": role " + name);
}

Result<IssuedCredentials> ParseCredentialDocument(const std::string& body,
                                                  const std::string& what) {
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Fail(what + ": reply is not a JSON object");
  ReplyReader read(what);
  // A failed request's Code says more than whatever else the document holds.
  if (const std::string code = read.String(j, "Code"); !code.empty() && code != "Success")
    return Fail(what + ": " + code + ": " + read.String(j, "Message"));
  IssuedCredentials out{
      {read.String(j, "AccessKeyId"), read.String(j, "SecretAccessKey"), read.String(j, "Token")},
      std::nullopt};
  const std::string expiration = read.String(j, "Expiration");
  if (!read.ok()) return tl::unexpected(read.error());
  if (out.creds.access_key_id.empty() || out.creds.secret_access_key.empty()) {
    return Fail(what + ": reply lacks AccessKeyId or SecretAccessKey");
  }
  if (!expiration.empty()) {
    out.expiration = ParseIsoTime(expiration);
    if (!out.expiration) return Fail(what + ": malformed Expiration '" + expiration + "'");
  }
  return out;
}

}  // namespace slipway::aws
