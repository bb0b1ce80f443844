// A transport for typed-client tests: answers awsJson1.1 calls from a script, records each call.
#pragma once

#include <deque>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "aws/http_transport.h"

namespace slipway::aws::testing {

/// One call as the service saw it: the operation (X-Amz-Target's tail) and the parsed body.
struct JsonCall {
  std::string target;  ///< the whole X-Amz-Target, e.g. "Logs_20140328.GetLogEvents"
  std::string op;
  nlohmann::json body;
};

/// Answers with `replies` in order, then with an error; records every call in `calls`.
class ScriptedJsonTransport final : public HttpTransport {
 public:
  std::deque<HttpResponse> replies;
  std::vector<JsonCall> calls;

  /// Queues a 200 reply whose body is `body` exactly (which need not be JSON).
  void Answer(std::string body) { replies.push_back(HttpResponse{200, std::move(body), {}}); }
  /// Queues an awsJson1.1 error reply with `code` and `message`.
  void Refuse(const std::string& code, const std::string& message) {
    replies.push_back(
        HttpResponse{400, nlohmann::json{{"__type", code}, {"message", message}}.dump(), {}});
  }

  Result<HttpResponse> Send(const HttpRequest& r) override {
    JsonCall call{"", "", nlohmann::json::parse(r.body, nullptr, false)};
    for (const auto& [k, v] : r.headers) {
      if (k == "X-Amz-Target") call.target = v;
    }
    call.op = call.target.substr(call.target.find('.') + 1);
    calls.push_back(std::move(call));
    if (replies.empty()) return Fail("script ran out", "ScriptRanOut");
    HttpResponse next = replies.front();
    replies.pop_front();
    return next;
  }
};

}  // namespace slipway::aws::testing
