// Request authentication and protocol dispatch for the engine's AWS API subset.
#include "engine/api.h"

#include "base/strings.h"

namespace slipway::engine {

namespace {

const std::string kElbNamespace = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/";

ApiHttpResponse JsonError(const ApiError& e) {
  nlohmann::json body{{"__type", e.code}, {"message", e.message}};
  return {e.status, "application/x-amz-json-1.1", body.dump()};
}

ApiHttpResponse XmlError(const ApiError& e) {
  std::string type = e.status >= 500 ? "Receiver" : "Sender";
  return {e.status, "text/xml",
          "<ErrorResponse xmlns=\"" + kElbNamespace + "\"><Error><Type>" + type + "</Type><Code>" +
              XmlEscape(e.code) + "</Code><Message>" + XmlEscape(e.message) +
              "</Message></Error><RequestId>" + RandomHex(8) + "-" + RandomHex(4) + "-" + RandomHex(4) +
              "-" + RandomHex(4) + "-" + RandomHex(12) + "</RequestId></ErrorResponse>"};
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

ApiHttpResponse ApiFront::Handle(const ApiHttpRequest& http) {
  aws::SignableRequest req{http.method, "", "", http.headers, http.body};
  size_t q = http.target.find('?');
  req.path = UriDecode(http.target.substr(0, q));
  if (q != std::string::npos) req.query = http.target.substr(q + 1);
  const std::string amz_target = req.Header("X-Amz-Target");
  const bool is_json = !amz_target.empty();

  if (auto ok = aws::Verify(req, credentials_, clock_.WallNow()); !ok) {
    ApiError e{ok.error().code, ok.error().message, ok.error().http_status};
    if (!is_json && e.code == "InvalidSignatureException") e.code = "SignatureDoesNotMatch";
    return is_json ? JsonError(e) : XmlError(e);
  }

  if (is_json) {
    size_t dot = amz_target.rfind('.');
    std::string prefix = amz_target.substr(0, dot), op = amz_target.substr(dot + 1);
    auto body = nlohmann::json::parse(http.body.empty() ? "{}" : http.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      return JsonError({"SerializationException", "Request body is not a JSON object.", 400});
    }
    ApiResult result;
    if (prefix == "AmazonEC2ContainerServiceV20141113") {
      result = control_.HandleEcs(op, body);
    } else if (prefix == "Logs_20140328") {
      result = logs_.Handle(op, body, static_cast<int64_t>(EpochSeconds(clock_.WallNow()) * 1000));
    } else {
      return JsonError({"UnknownOperationException", "The engine does not serve " + prefix + ".", 400});
    }
    if (!result) return JsonError(result.error());
    return {200, "application/x-amz-json-1.1", result->dump()};
  }

  QueryParams params = ParseForm(http.body);
  for (const auto& [k, v] : ParseForm(req.query)) params.emplace(k, v);
  std::string action = params["Action"];
  if (action.empty()) return XmlError({"MissingAction", "Missing Action parameter.", 400});
  params.erase("Action");
  params.erase("Version");
  auto result = control_.HandleElb(action, params);
  if (!result) return XmlError(result.error());
  return {200, "text/xml",
          "<" + action + "Response xmlns=\"" + kElbNamespace + "\"><" + action + "Result>" + *result +
              "</" + action + "Result><ResponseMetadata><RequestId>" + RandomHex(8) + "-" + RandomHex(4) +
              "-" + RandomHex(4) + "-" + RandomHex(4) + "-" + RandomHex(12) +
              "</RequestId></ResponseMetadata></" + action + "Response>"};
}

}  // namespace slipway::engine
