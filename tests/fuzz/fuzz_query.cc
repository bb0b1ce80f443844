// Fuzzes the Query protocol: the front's form parsing (body and query string) and every ELBv2
// action, in-process on a throwaway engine. Requests are signed, so they reach the handlers.
//
// Input: one request per line, as boto3 sends them: a form body ("Action=...&Version=..."),
// optionally preceded by a query string and a tab. "$targetgroup", "$loadbalancer", "$listener"
// and "$listener-rule" stand for the last such ARN an earlier line's reply named.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_engine.h"

namespace {
constexpr int kMaxRequests = 32;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace slipway;
  using namespace slipway::fuzz;
  static FuzzEngine engine(/*recycle_every=*/2000);
  engine.BeginInput();
  std::string_view in(reinterpret_cast<const char*>(data), size);
  for (int n = 0; n < kMaxRequests && !in.empty(); ++n) {
    std::string line = engine.ExpandArns(TakeLine(in));

    engine::ApiHttpRequest request{"POST", "/", {}, line};
    if (size_t tab = line.find('\t'); tab != std::string::npos) {
      request.target = "/?" + line.substr(0, tab);
      request.body = line.substr(tab + 1);
    }
    request.headers = {{"Host", "127.0.0.1"},
                       {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
    SignRequest(request, {kFuzzRegion, "elasticloadbalancing"}, engine.WallNow());
    engine::ApiHttpResponse reply = engine.front().Handle(request);
    engine.Trace(request.target + " " + request.body, std::to_string(reply.status) + " " + reply.body);
    engine.RememberArns(reply.body);
  }
  return 0;
}
