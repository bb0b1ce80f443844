// A transport for deploy tests that answers each AWS operation from a handler, by name.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "aws/http_transport.h"

namespace slipway::deploy {

/// Answers awsJson1.1 calls with `handler(operation, body)`; records the operations it saw.
class FakeEcsTransport final : public aws::HttpTransport {
 public:
  using Handler = std::function<Result<aws::HttpResponse>(const std::string& op, const nlohmann::json& body)>;
  explicit FakeEcsTransport(Handler handler) : handler_(std::move(handler)) {}

  Result<aws::HttpResponse> Send(const aws::HttpRequest& r) override {
    std::string op;
    for (const auto& [k, v] : r.headers) {
      if (k == "X-Amz-Target") op = v.substr(v.find('.') + 1);
    }
    ops.push_back(op);
    return handler_(op, nlohmann::json::parse(r.body, nullptr, false));
  }

  /// Operations in the order they were sent.
  std::vector<std::string> ops;

 private:
  Handler handler_;
};

/// A 200 reply carrying `body`.
inline Result<aws::HttpResponse> Reply(const nlohmann::json& body) { return aws::HttpResponse{200, body.dump()}; }
/// A refused connection.
inline Result<aws::HttpResponse> Refused() { return Fail("Couldn't connect to server", aws::kTransportNotSent); }

}  // namespace slipway::deploy
