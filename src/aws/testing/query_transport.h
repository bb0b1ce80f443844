// A fake transport for the typed Query clients' tests: it answers from a script and records the
// form parameters of every request.
#pragma once

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "aws/http_transport.h"
#include "base/strings.h"

namespace slipway::aws::testing {

/// Answers with `replies` in order, then fails; `sent` holds each request's decoded form
/// parameters, Action and Version included.
class QueryTransport final : public HttpTransport {
 public:
  std::deque<Result<HttpResponse>> replies;
  std::vector<std::map<std::string, std::string>> sent;

  /// Queues a reply with `body` and `status`.
  void Reply(std::string body, int status = 200) {
    replies.push_back(HttpResponse{status, std::move(body), {}});
  }

  Result<HttpResponse> Send(const HttpRequest& r) override {
    std::map<std::string, std::string> params;
    for (const std::string& pair : Split(r.body, '&')) {
      const size_t eq = pair.find('=');
      if (eq == std::string::npos) continue;
      params[UriDecode(pair.substr(0, eq), true)] = UriDecode(pair.substr(eq + 1), true);
    }
    sent.push_back(std::move(params));
    if (replies.empty()) return Fail("script ran out");
    Result<HttpResponse> next = replies.front();
    replies.pop_front();
    return next;
  }
};

}  // namespace slipway::aws::testing
