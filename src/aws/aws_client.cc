// Protocol framing (JSON 1.1, Query), signing, AWS error decoding and retry with backoff.
#include "aws/aws_client.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string_view>

#include "base/strings.h"

namespace slipway::aws {

const ServiceSpec kEcs{"ecs", "ecs", "AmazonEC2ContainerServiceV20141113", ""};
const ServiceSpec kElbv2{"elasticloadbalancing", "elasticloadbalancing", "", "2015-12-01"};
const ServiceSpec kLogs{"logs", "logs", "Logs_20140328", ""};
const ServiceSpec kEcr{"api.ecr", "ecr", "AmazonEC2ContainerRegistry_V20150921", ""};

namespace {

// Throttling and 5xx replies: a few attempts with doubling backoff.
constexpr int kMaxAttempts = 5;
constexpr Millis kBaseBackoff{200};
// An endpoint that does not answer is tried again soon (an engine restarts in about a second),
// then less often, until ReachPolicy::give_up_after.
constexpr Millis kFirstReachWait{250};
constexpr Millis kMaxReachWait{2'000};
// API calls answer in milliseconds (the engine) to a few seconds (AWS). A reply that has not come
// by then is treated as a lost connection rather than waited for.
constexpr long kRequestTimeoutMs = 20'000;

bool StartsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

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

bool SafeToRepeat(const std::string& op) {
  return StartsWith(op, "Describe") || StartsWith(op, "List") || StartsWith(op, "Get") || StartsWith(op, "Filter") ||
         op == "TagResource" || op == "UntagResource";
}

TransportRetry DecideTransportRetry(const std::string& transport_code, const std::string& op) {
  if (transport_code == kTransportNotSent) return TransportRetry::kRetry;
  if (transport_code == kTransportMaybeSent) {
    return SafeToRepeat(op) ? TransportRetry::kRetry : TransportRetry::kOutcomeUnknown;
  }
  return TransportRetry::kGiveUp;
}

std::string AwsClient::UrlFor(const ServiceSpec& service) const {
  if (!endpoint_.url_override.empty()) return endpoint_.url_override;
  if (auto it = endpoint_.service_urls.find(service.signing_name); it != endpoint_.service_urls.end()) return it->second;
  return "https://" + service.endpoint_prefix + "." + endpoint_.region + ".amazonaws.com/";
}

Error AwsClient::UnreachableError(const std::string& url, const std::string& what, const Error& cause,
                                  const char* code) const {
  // The transport's text names the URL too ("Couldn't connect to server (<url>)"): once is enough.
  std::string detail = cause.message;
  if (const size_t at = detail.rfind(" (" + url); at != std::string::npos && detail.back() == ')') detail.resize(at);
  std::string message =
      "could not reach " + url + " since " + LocalTimeOfDay(outage_->began_wall) + ": " + what + ": " + detail;
  if (std::string_view(code) == kOutcomeUnknown) message += "; it may or may not have been applied";
  else if (Cancelled(reach_.cancel)) message += " (interrupted)";
  return Error{message, code};
}

bool AwsClient::WaitForEndpoint(const std::string& url, Millis& wait) {
  const SteadyTime now = clock_.Now();
  const Millis down = std::chrono::duration_cast<Millis>(now - outage_->began);
  if (down >= reach_.give_up_after || Cancelled(reach_.cancel)) return false;
  if (now >= outage_->next_report) {
    if (reach_.on_waiting) reach_.on_waiting(url, outage_->began_wall);
    outage_->next_report = now + reach_.report_every;
  }
  SleepUnlessCancelled(clock_, std::min(wait, reach_.give_up_after - down), reach_.cancel);
  wait = std::min(wait * 2, kMaxReachWait);
  return true;
}

Result<HttpResponse> AwsClient::Send(const ServiceSpec& service, const std::string& op,
                                     std::vector<std::pair<std::string, std::string>> headers,
                                     const std::string& body) {
  const std::string url = UrlFor(service);
  const std::string what = service.endpoint_prefix + " " + op;
  Millis backoff = kBaseBackoff;
  Millis reach_wait = kFirstReachWait;
  for (int replies = 0;;) {
    SignableRequest req{"POST", "/", "", headers, body};
    req.headers.emplace_back("Host", HostOf(url));
    Result<Credentials> creds = credentials_->Get();
    if (!creds) return tl::unexpected(Wrap(what, creds.error()));
    Sign(req, *creds, {endpoint_.region, service.signing_name}, clock_.WallNow());
    Result<HttpResponse> sent = transport_.Send({"POST", url, req.headers, body, kRequestTimeoutMs});
    if (sent) {
      outage_.reset();
      std::string code = sent->status >= 400
                             ? (service.target_prefix.empty() ? DecodeXmlError(sent->body).code
                                                              : DecodeJsonError(sent->body).code)
                             : "";
      if (sent->status < 400 || !Retryable(sent->status, code) || ++replies == kMaxAttempts) return sent;
      clock_.SleepFor(backoff);
      backoff *= 2;
      continue;
    }
    const TransportRetry decision = DecideTransportRetry(sent.error().code, op);
    if (decision == TransportRetry::kGiveUp) return Fail(what + ": " + sent.error().message);
    if (!outage_) outage_ = Outage{clock_.Now(), clock_.WallNow(), clock_.Now() + reach_.report_after};
    if (decision == TransportRetry::kOutcomeUnknown) {
      return tl::unexpected(UnreachableError(url, what, sent.error(), kOutcomeUnknown));
    }
    if (!WaitForEndpoint(url, reach_wait)) {
      return tl::unexpected(UnreachableError(url, what, sent.error(), kEndpointUnreachable));
    }
  }
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
