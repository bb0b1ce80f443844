// Request routing, authentication and protocol dispatch for the engine's AWS API subset.
#include "engine/api.h"

#include "base/strings.h"
#include "engine/metrics/cloudwatch_api.h"
#include "engine/registry/ecr_api.h"
#include "engine/validate.h"

namespace slipway::engine {

namespace {

constexpr const char* kElbNamespace = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/";
constexpr const char* kCloudWatchNamespace = "http://monitoring.amazonaws.com/doc/2010-08-01/";
constexpr const char* kJson11 = "application/x-amz-json-1.1";

// Messages quote what the client sent (an X-Amz-Target, an operation name), which need not be
// UTF-8; nlohmann throws on such strings unless told to replace the bad bytes.
std::string DumpJson(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

ApiHttpResponse JsonError(const ApiError& e, const char* content_type = kJson11) {
  nlohmann::json body{{"__type", e.code}, {"message", e.message}};
  if (e.members.is_object()) body.update(e.members);
  return {e.status, content_type, DumpJson(body)};
}

std::string RequestId() {
  return RandomHex(8) + "-" + RandomHex(4) + "-" + RandomHex(4) + "-" + RandomHex(4) + "-" +
         RandomHex(12);
}

ApiHttpResponse XmlError(const ApiError& e, const std::string& xml_namespace = kElbNamespace) {
  std::string type = e.status >= 500 ? "Receiver" : "Sender";
  return {e.status, "text/xml",
          "<ErrorResponse xmlns=\"" + xml_namespace + "\"><Error><Type>" + type + "</Type><Code>" +
              XmlEscape(e.code) + "</Code><Message>" + XmlEscape(e.message) +
              "</Message></Error><RequestId>" + RequestId() + "</RequestId></ErrorResponse>"};
}

/// The answer to a request the engine failed on itself (a handler threw): AWS's common 500.
ApiError InternalFailure() {
  return {"InternalFailure", "The engine failed to process the request; the fault is the engine's.", 500};
}

QueryParams ParseForm(const std::string& body) {
  QueryParams out;
  for (const auto& piece : Split(body, '&')) {
    if (piece.empty()) continue;
    size_t eq = piece.find('=');
    out[UriDecode(piece.substr(0, eq), true)] =
        eq == std::string::npos ? "" : UriDecode(piece.substr(eq + 1), true);
  }
  return out;
}

}  // namespace

ApiError AuthErrorFor(const aws::AuthFailure& failure, Protocol protocol) {
  const bool json = protocol == Protocol::kJson;
  auto error = [&failure](std::string code, int status) {
    return ApiError{std::move(code), failure.message, status};
  };
  switch (failure.error) {
    case aws::AuthError::kMissingAuthentication:
      return error(json ? "MissingAuthenticationTokenException" : "MissingAuthenticationToken",
                   403);
    case aws::AuthError::kIncompleteSignature:
      return error(json ? "IncompleteSignatureException" : "IncompleteSignature", 400);
    case aws::AuthError::kUnknownAccessKey:
      return json ? error("UnrecognizedClientException", 400) : error("InvalidClientTokenId", 403);
    case aws::AuthError::kSignatureMismatch:
      return error(json ? "InvalidSignatureException" : "SignatureDoesNotMatch", 403);
    case aws::AuthError::kExpired:
      return json ? error("InvalidSignatureException", 400) : error("SignatureDoesNotMatch", 403);
    case aws::AuthError::kContentHashMismatch:
      return error("XAmzContentSHA256Mismatch", 400);
  }
  return error("AccessDenied", 403);
}

// The X-Amz-Target prefix names the API, and with it the service a signature must be scoped to.
const ApiFront::JsonService ApiFront::kJsonServices[] = {
    {"AmazonEC2ContainerServiceV20141113", "ecs", kJson11, &ApiFront::Ecs},
    {"Logs_20140328", "logs", kJson11, &ApiFront::Logs},
    {"secretsmanager", "secretsmanager", kJson11, &ApiFront::SecretsManager},
    {"AmazonSSM", "ssm", kJson11, &ApiFront::Ssm},
    {"AmazonEC2ContainerRegistry_V20150921", "ecr", kJson11, &ApiFront::Ecr},
    // CloudWatch's JSON is awsJson1.0 (botocore 1.43 picks it over Query).
    {"GraniteServiceVersion20100801", "monitoring", "application/x-amz-json-1.0",
     &ApiFront::CloudWatch},
};

// Query APIs all use Action=; on one endpoint their Version= tells them apart.
const ApiFront::QueryService ApiFront::kQueryServices[] = {
    {"2015-12-01", "elasticloadbalancing", kElbNamespace, "elbv2", &ApiFront::Elb},
    {"2010-08-01", "monitoring", kCloudWatchNamespace, "cloudwatch", &ApiFront::CloudWatchQuery},
};

ApiHttpResponse ApiFront::Handle(const ApiHttpRequest& http) {
  aws::SignableRequest req{http.method, "", "", http.headers, http.body};
  size_t q = http.target.find('?');
  req.path = UriDecode(http.target.substr(0, q));
  if (q != std::string::npos) req.query = http.target.substr(q + 1);
  const std::string amz_target = req.Header("X-Amz-Target");
  return amz_target.empty() ? HandleQuery(req) : HandleJson(req, amz_target);
}

tl::expected<void, aws::AuthFailure> ApiFront::Authenticate(const aws::SignableRequest& req,
                                                            const std::string& service) {
  return aws::Verify(req, credentials_, {region_, service}, clock_.WallNow());
}

ApiHttpResponse ApiFront::HandleJson(const aws::SignableRequest& req,
                                     const std::string& amz_target) {
  size_t dot = amz_target.rfind('.');
  std::string prefix = amz_target.substr(0, dot);
  std::string op = dot == std::string::npos ? "" : amz_target.substr(dot + 1);
  const JsonService* service = nullptr;
  for (const auto& s : kJsonServices) {
    if (prefix == s.target_prefix) service = &s;
  }
  if (!service) {
    return JsonError(
        {"UnknownOperationException", "The engine does not serve " + prefix + ".", 400});
  }
  const char* type = service->content_type;
  // Whatever a handler throws, the client gets an answer: a coroutine that lets an exception out
  // closes the connection with none.
  try {
    if (auto ok = Authenticate(req, service->signing_name); !ok) {
      return JsonError(AuthErrorFor(ok.error(), Protocol::kJson), type);
    }
    auto body = ParseJsonRequest(prefix, op, req.body);
    if (!body) return JsonError(body.error(), type);
    ApiResult result = (this->*service->handle)(op, *body);
    if (!result) return JsonError(result.error(), type);
    return {200, type, DumpJson(*result)};
  } catch (const std::exception&) {
    return JsonError(InternalFailure(), type);
  }
}

ApiHttpResponse ApiFront::HandleQuery(const aws::SignableRequest& req) {
  QueryParams params = ParseForm(req.body);
  for (const auto& [k, v] : ParseForm(req.query)) params.emplace(k, v);
  std::string action = params["Action"];
  std::string version = params["Version"];
  // A client that leaves Version out means the first Query API the engine served: ELBv2.
  const QueryService* service = version.empty() ? &kQueryServices[0] : nullptr;
  for (const auto& s : kQueryServices) {
    if (version == s.version) service = &s;
  }
  if (!service) {
    return XmlError({"InvalidAction",
                     "Could not find operation " + action + " for version " + version + ".", 400});
  }
  const std::string xmlns = service->xml_namespace;
  try {  // as in HandleJson: never a connection closed without an answer
    if (auto ok = Authenticate(req, service->signing_name); !ok) {
      return XmlError(AuthErrorFor(ok.error(), Protocol::kQuery), xmlns);
    }
    if (action.empty()) return XmlError({"MissingAction", "Missing Action parameter.", 400}, xmlns);
    params.erase("Action");
    params.erase("Version");
    auto request = ParseQueryRequest(service->shapes, action, params);
    if (!request) return XmlError(request.error(), xmlns);
    auto result = (this->*service->handle)(action, params, *request);
    if (!result) return XmlError(result.error(), xmlns);
    // ParseQueryRequest found `action` among the served operations, so it is a plain XML name.
    return {200, "text/xml",
            "<" + action + "Response xmlns=\"" + xmlns + "\"><" + action + "Result>" + *result +
                "</" + action + "Result><ResponseMetadata><RequestId>" + RequestId() +
                "</RequestId></ResponseMetadata></" + action + "Response>"};
  } catch (const std::exception&) {
    return XmlError(InternalFailure(), xmlns);
  }
}

ApiResult ApiFront::Ecs(const std::string& op, const nlohmann::json& body) {
  return control_.HandleEcs(op, body);
}

ApiResult ApiFront::Logs(const std::string& op, const nlohmann::json& body) {
  return logs_.Handle(op, body, static_cast<int64_t>(EpochSeconds(clock_.WallNow()) * 1000));
}

ApiResult ApiFront::SecretsManager(const std::string& op, const nlohmann::json& body) {
  return secrets_.HandleSecretsManager(op, body);
}

ApiResult ApiFront::Ssm(const std::string& op, const nlohmann::json& body) {
  return secrets_.HandleSsm(op, body);
}

ApiResult ApiFront::Ecr(const std::string& op, const nlohmann::json& body) {
  if (ecr_ == nullptr) {
    return tl::unexpected(ApiError{"ServerException", "This engine serves no image registry.", 500});
  }
  return ecr_->Handle(op, body, EpochSeconds(clock_.WallNow()));
}

XmlResult ApiFront::Elb(const std::string& action, const QueryParams& params, const nlohmann::json&) {
  return control_.HandleElb(action, params);
}

ApiResult ApiFront::CloudWatch(const std::string& op, const nlohmann::json& body) {
  if (cloudwatch_ == nullptr) {
    return tl::unexpected(ApiError{"InternalServiceError", "This engine serves no CloudWatch.", 500});
  }
  return cloudwatch_->Handle(op, body, static_cast<int64_t>(EpochSeconds(clock_.WallNow()) * 1000));
}

XmlResult ApiFront::CloudWatchQuery(const std::string& action, const QueryParams&,
                                    const nlohmann::json& request) {
  auto result = CloudWatch(action, request);
  if (!result) return tl::unexpected(result.error());
  return CloudWatchXml(*result);
}

}  // namespace slipway::engine
