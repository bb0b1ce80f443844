// Protocol framing (JSON 1.1, Query), signing, AWS error decoding and retry with backoff.
#include "aws/aws_client.h"

#include <nlohmann/json.hpp>

#include "base/strings.h"

namespace slipway::aws {

const ServiceSpec kEcs{"ecs", "ecs", "AmazonEC2ContainerServiceV20141113", ""};
const ServiceSpec kElbv2{"elasticloadbalancing", "elasticloadbalancing", "", "2015-12-01"};
const ServiceSpec kLogs{"logs", "logs", "Logs_20140328", ""};

namespace {

constexpr int kMaxAttempts = 5;
constexpr Millis kBaseBackoff{200};

bool Retryable(int status, const std::string& code) {
  return status >= 500 || code == "ThrottlingException" || code == "Throttling" ||
         code == "TooManyRequestsException" || code == "RequestLimitExceeded";
}

// Splits "http://host:port/path" into host[:port]; good enough for endpoints we build.
std::string HostOf(const std::string& url) {
  size_t start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  size_t end = url.find('/', start);
  return url.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

struct ApiError {
  std::string code, message;
};

ApiError DecodeJsonError(const std::string& body) {
  ApiError e{"UnknownError", body};
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return e;
  std::string type = j.value("__type", "");
  size_t hash = type.rfind('#');
  if (!type.empty()) e.code = hash == std::string::npos ? type : type.substr(hash + 1);
  if (j.contains("message")) e.message = j["message"].get<std::string>();
  else if (j.contains("Message")) e.message = j["Message"].get<std::string>();
  return e;
}

ApiError DecodeXmlError(const std::string& body) {
  auto doc = ParseXml(body);
  if (!doc) return {"UnknownError", body};
  return {doc->Text("Error/Code"), doc->Text("Error/Message")};
}

}  // namespace

std::string AwsClient::UrlFor(const ServiceSpec& service) const {
  if (!endpoint_.url_override.empty()) return endpoint_.url_override;
  return "https://" + service.endpoint_prefix + "." + endpoint_.region + ".amazonaws.com/";
}

Result<HttpResponse> AwsClient::Send(const ServiceSpec& service, const std::string& op,
                                     std::vector<std::pair<std::string, std::string>> headers,
                                     const std::string& body) {
  std::string url = UrlFor(service);
  Millis backoff = kBaseBackoff;
  Result<HttpResponse> last = Fail("not sent");
  for (int attempt = 1; attempt <= kMaxAttempts; ++attempt) {
    SignableRequest req{"POST", "/", "", headers, body};
    req.headers.emplace_back("Host", HostOf(url));
    Sign(req, creds_, {endpoint_.region, service.signing_name}, clock_.WallNow());
    HttpRequest http{"POST", url, req.headers, body};
    last = transport_.Send(http);
    if (last) {
      std::string code = last->status >= 400
                             ? (service.target_prefix.empty() ? DecodeXmlError(last->body).code
                                                              : DecodeJsonError(last->body).code)
                             : "";
      if (last->status < 400 || !Retryable(last->status, code)) return last;
    }
    if (attempt < kMaxAttempts) {
      clock_.SleepFor(backoff);
      backoff *= 2;
    }
  }
  if (!last) return Fail(service.endpoint_prefix + " " + op + ": " + last.error().message);
  return last;
}

Result<nlohmann::json> AwsClient::Json(const ServiceSpec& service, const std::string& op,
                                       const nlohmann::json& body) {
  auto resp = Send(service, op,
                   {{"Content-Type", "application/x-amz-json-1.1"},
                    {"X-Amz-Target", service.target_prefix + "." + op}},
                   body.dump());
  if (!resp) return tl::unexpected(resp.error());
  if (resp->status >= 400) {
    ApiError e = DecodeJsonError(resp->body);
    return Fail(service.endpoint_prefix + " " + op + ": " + e.code + ": " + e.message, e.code);
  }
  auto j = nlohmann::json::parse(resp->body.empty() ? "{}" : resp->body, nullptr, false);
  if (j.is_discarded()) return Fail(service.endpoint_prefix + " " + op + ": malformed JSON reply");
  return j;
}

Result<XmlNode> AwsClient::Query(const ServiceSpec& service, const std::string& action,
                                 const QueryParams& params) {
  std::string body = "Action=" + UriEncode(action) + "&Version=" + UriEncode(service.api_version);
  for (const auto& [k, v] : params) body += "&" + UriEncode(k) + "=" + UriEncode(v);
  auto resp = Send(service, action,
                   {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}}, body);
  if (!resp) return tl::unexpected(resp.error());
  if (resp->status >= 400) {
    ApiError e = DecodeXmlError(resp->body);
    return Fail(service.endpoint_prefix + " " + action + ": " + e.code + ": " + e.message, e.code);
  }
  auto doc = ParseXml(resp->body);
  if (!doc) return Fail(service.endpoint_prefix + " " + action + ": " + doc.error().message);
  const XmlNode* result = doc->Child(action + "Result");
  if (result == nullptr) return XmlNode{action + "Result", "", {}};
  return *result;
}

}  // namespace slipway::aws
