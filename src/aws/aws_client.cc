// Protocol framing (JSON 1.1, Query), signing, AWS error decoding, and the retry loop that
// carries out retry.h's decisions.
#include "aws/aws_client.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string_view>

#include "aws/json_reply.h"
#include "base/strings.h"

namespace slipway::aws {

const ServiceSpec kEcs{"ecs", "ecs", "AmazonEC2ContainerServiceV20141113", ""};
const ServiceSpec kElbv2{"elasticloadbalancing", "elasticloadbalancing", "", "2015-12-01"};
const ServiceSpec kLogs{"logs", "logs", "Logs_20140328", ""};
const ServiceSpec kEcr{"api.ecr", "ecr", "AmazonEC2ContainerRegistry_V20150921", ""};
const ServiceSpec kEc2{"ec2", "ec2", "", "2016-11-15"};
const ServiceSpec kCloudWatch{"monitoring", "monitoring", "", "2010-08-01"};

namespace {

// An endpoint that does not answer is tried again soon (an engine restarts in about a second),
// then less often, until ReachPolicy::give_up_after.
constexpr Millis kFirstReachWait{250};
constexpr Millis kMaxReachWait{2'000};
// API calls answer in milliseconds (the engine) to a few seconds (AWS). A reply that has not come
// by then is treated as a lost connection rather than waited for.
constexpr long kRequestTimeoutMs = 20'000;
// The largest replies are log pages: at most 1 MB of events, which JSON escaping can make about
// six times longer. Every other reply slipway asks for is far under 1 MB. A reply past this bound
// is not an answer to the call, and is not read into memory whole.
constexpr size_t kMaxReplyBytes = size_t{16} << 20;

bool StartsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

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
  if (NestsDeeperThan(body, kMaxReplyDepth)) return e;
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return e;
  // The reply is already an error: a field of another type is left out, not reported on its own.
  ReplyReader read("error reply");
  const std::string type = read.String(j, "__type");
  size_t hash = type.rfind('#');
  if (!type.empty()) e.code = hash == std::string::npos ? type : type.substr(hash + 1);
  std::string message = read.String(j, "message");
  if (message.empty()) message = read.String(j, "Message");
  if (!message.empty()) e.message = std::move(message);
  return e;
}

ApiError DecodeXmlError(const std::string& body) {
  auto doc = ParseXml(body);
  if (!doc) return {"UnknownError", body};
  // Query services answer <ErrorResponse><Error>; EC2 answers <Response><Errors><Error>.
  if (const XmlNode* ec2 = doc->Find("Errors/Error")) return {ec2->Text("Code"), ec2->Text("Message")};
  return {doc->Text("Error/Code"), doc->Text("Error/Message")};
}

// A creating call that carries a client token: the service applies it once however often it
// arrives (ECS CreateService, RunTask).
bool HasClientToken(const nlohmann::json& body) {
  return body.is_object() && body.contains("clientToken") && body["clientToken"].is_string() &&
         !body["clientToken"].get<std::string>().empty();
}

// A form value as the SDKs encode it (a space as '+'). Services read either form; an endpoint
// that checks signatures by re-encoding the parsed form, as moto does, needs this one.
std::string FormEncode(std::string_view s) {
  std::string out;
  for (char c : s) out += c == ' ' ? std::string("+") : UriEncode(std::string_view(&c, 1));
  return out;
}

}  // namespace

bool OnlyReads(const std::string& op) {
  return StartsWith(op, "Describe") || StartsWith(op, "List") || StartsWith(op, "Get") || StartsWith(op, "Filter");
}

bool SafeToRepeat(const std::string& op) {
  // On AWS each of these answers a repeat with the same object (or, for the log group and the
  // repository, with "already exists", which their callers take as done); the engine does too.
  static const char* const kIdempotent[] = {
      "TagResource",    "UntagResource",      "AddTags",           "RemoveTags",
      "ModifyTargetGroupAttributes", "PutRetentionPolicy", "CreateCluster", "CreateLoadBalancer",
      "CreateTargetGroup", "CreateListener",  "CreateLogGroup",    "CreateRepository",
      "StopTask",       "AuthorizeSecurityGroupIngress", "PutDashboard",
      "ModifyRule"};
  if (OnlyReads(op)) return true;
  return std::find(std::begin(kIdempotent), std::end(kIdempotent), op) != std::end(kIdempotent);
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

double AwsClient::Random() {
  if (retry_.random) return retry_.random();
  return std::uniform_real_distribution<double>(0.0, 1.0)(random_);
}

Result<HttpResponse> AwsClient::Send(const ServiceSpec& service, const std::string& op,
                                     std::vector<std::pair<std::string, std::string>> headers,
                                     const std::string& body, bool safe_to_repeat) {
  const std::string url = UrlFor(service);
  const std::string what = service.endpoint_prefix + " " + op;
  Millis reach_wait = kFirstReachWait;
  int attempt = 1;
  int last_cost = 0;  // what the last retry took from the quota: a success gives it back
  for (;;) {
    SignableRequest req{"POST", "/", "", headers, body};
    req.headers.emplace_back("Host", HostOf(url));
    Result<Credentials> creds = credentials_->Get();
    if (!creds) return tl::unexpected(Wrap(what, creds.error()));
    Sign(req, *creds, {endpoint_.region, service.signing_name}, clock_.WallNow());
    HttpRequest request{"POST", url, req.headers, body, kRequestTimeoutMs, kMaxReplyBytes};
    request.fresh_connection = !safe_to_repeat;
    Result<HttpResponse> sent = transport_.Send(request);
    Failure failure = Failure::kNone;
    if (sent) {
      outage_.reset();
      const std::string code =
          sent->status < 400 ? ""
                             : (service.target_prefix.empty() ? DecodeXmlError(sent->body).code
                                                              : DecodeJsonError(sent->body).code);
      failure = ClassifyReply(sent->status, code);
      if (failure == Failure::kNone) {
        if (sent->status < 300) quota_.Release(last_cost > 0 ? last_cost : kNoRetryIncrement);
        return sent;
      }
    } else {
      const std::string& transport_code = sent.error().code;
      if (transport_code != kTransportNotSent && !MayHaveArrived(transport_code)) {
        return Fail(what + ": " + sent.error().message);  // retrying cannot help
      }
      if (!outage_) outage_ = Outage{clock_.Now(), clock_.WallNow(), clock_.Now() + reach_.report_after};
      if (transport_code == kTransportNotSent) {
        // Nothing arrived: wait for the endpoint to come back, using no attempt.
        if (WaitForEndpoint(url, reach_wait)) continue;
        return tl::unexpected(UnreachableError(url, what, sent.error(), kEndpointUnreachable));
      }
      failure = transport_code == kTransportTimedOut ? Failure::kTimeout : Failure::kConnection;
    }
    const RetryDecision d =
        DecideRetry({failure, attempt, retry_.max_attempts, safe_to_repeat, quota_.available(), Random()});
    if (d.action == RetryDecision::kRetry && !Cancelled(reach_.cancel)) {
      (void)quota_.Acquire(d.cost);
      last_cost = d.cost;
      ++attempt;
      (void)SleepUnlessCancelled(clock_, d.delay, reach_.cancel);
      continue;
    }
    if (sent) return sent;  // the last reply, as it came
    // No reply, and no more attempts: a change may have been applied (once, at most).
    Error e = UnreachableError(url, what, sent.error(), OnlyReads(op) ? kEndpointUnreachable : kOutcomeUnknown);
    if (!d.exhausted.empty()) {
      e.message += " (no reply in " + std::to_string(attempt) + " attempt" + (attempt == 1 ? "" : "s") + ")";
    }
    return tl::unexpected(e);
  }
}

Result<nlohmann::json> AwsClient::Json(const ServiceSpec& service, const std::string& op,
                                       const nlohmann::json& body) {
  auto resp = Send(service, op,
                   {{"Content-Type", "application/x-amz-json-1.1"},
                    {"X-Amz-Target", service.target_prefix + "." + op}},
                   body.dump(), SafeToRepeat(op) || HasClientToken(body));
  if (!resp) return tl::unexpected(resp.error());
  if (resp->status >= 400) {
    ApiError e = DecodeJsonError(resp->body);
    return Fail(service.endpoint_prefix + " " + op + ": " + e.code + ": " + e.message, e.code);
  }
  // A value nested past the bound would exhaust the stack of whatever copies or walks it.
  if (NestsDeeperThan(resp->body, kMaxReplyDepth)) {
    return Fail(service.endpoint_prefix + " " + op + ": unexpected reply: nested deeper than " +
                std::to_string(kMaxReplyDepth) + " levels");
  }
  auto j = nlohmann::json::parse(resp->body.empty() ? "{}" : resp->body, nullptr, false);
  if (j.is_discarded()) return Fail(service.endpoint_prefix + " " + op + ": malformed JSON reply");
  return j;
}

Result<XmlNode> AwsClient::Query(const ServiceSpec& service, const std::string& action,
                                 const QueryParams& params) {
  std::string body = "Action=" + FormEncode(action) + "&Version=" + FormEncode(service.api_version);
  for (const auto& [k, v] : params) body += "&" + FormEncode(k) + "=" + FormEncode(v);
  auto resp = Send(service, action,
                   {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}}, body,
                   SafeToRepeat(action));
  if (!resp) return tl::unexpected(resp.error());
  if (resp->status >= 400) {
    ApiError e = DecodeXmlError(resp->body);
    return Fail(service.endpoint_prefix + " " + action + ": " + e.code + ": " + e.message, e.code);
  }
  auto doc = ParseXml(resp->body);
  if (!doc) return Fail(service.endpoint_prefix + " " + action + ": " + doc.error().message);
  const XmlNode* result = doc->Child(action + "Result");
  // EC2 puts the result's members right under <OpResponse>.
  if (result == nullptr && &service == &kEc2) return *doc;
  if (result == nullptr) return XmlNode{action + "Result", "", {}};
  return *result;
}

}  // namespace slipway::aws
