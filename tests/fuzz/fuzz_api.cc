// Fuzzes the JSON dispatch of every ECS, ELBv2 and CloudWatch Logs operation the engine serves,
// in-process on a throwaway engine (its handlers commit to a real store; no task ever starts).
//
// Input: one request per line, "Operation {json}". A line whose first word is not an operation
// name picks one by its first byte, and its body starts at its first '{'. ELBv2 actions take
// their Query parameters as a flat JSON object ({"Names.member.1": "web"}). "$<type>" (e.g.
// "$targetgroup", "$task") stands for the last ARN of that type an earlier line's reply named.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz_engine.h"

namespace slipway::fuzz {
namespace {

enum class Api { kEcs, kElb, kLogs };

struct Operation {
  const char* name;
  Api api;
};

// Every operation the engine serves (ControlPlane::HandleEcs's kOps, LoadBalancing::Handle's
// kActions, LogService::Handle). Append only: a line's first byte indexes this table.
constexpr Operation kOperations[] = {
    {"CreateCluster", Api::kEcs},
    {"DescribeClusters", Api::kEcs},
    {"RegisterTaskDefinition", Api::kEcs},
    {"DescribeTaskDefinition", Api::kEcs},
    {"ListTaskDefinitions", Api::kEcs},
    {"CreateService", Api::kEcs},
    {"UpdateService", Api::kEcs},
    {"DescribeServices", Api::kEcs},
    {"ListServices", Api::kEcs},
    {"ListTasks", Api::kEcs},
    {"DescribeTasks", Api::kEcs},
    {"StopTask", Api::kEcs},
    {"RunTask", Api::kEcs},
    {"TagResource", Api::kEcs},
    {"UntagResource", Api::kEcs},
    {"ListTagsForResource", Api::kEcs},
    {"CreateLoadBalancer", Api::kElb},
    {"DescribeLoadBalancers", Api::kElb},
    {"CreateTargetGroup", Api::kElb},
    {"DescribeTargetGroups", Api::kElb},
    {"ModifyTargetGroupAttributes", Api::kElb},
    {"DescribeTargetGroupAttributes", Api::kElb},
    {"CreateListener", Api::kElb},
    {"DescribeListeners", Api::kElb},
    {"CreateRule", Api::kElb},
    {"DescribeRules", Api::kElb},
    {"DescribeTargetHealth", Api::kElb},
    {"RegisterTargets", Api::kElb},
    {"DeregisterTargets", Api::kElb},
    {"CreateLogGroup", Api::kLogs},
    {"CreateLogStream", Api::kLogs},
    {"DescribeLogGroups", Api::kLogs},
    {"DescribeLogStreams", Api::kLogs},
    {"PutLogEvents", Api::kLogs},
    {"GetLogEvents", Api::kLogs},
    {"FilterLogEvents", Api::kLogs},
    {"ModifyRule", Api::kElb},
    {"DeleteRule", Api::kElb},
    {"SetRulePriorities", Api::kElb},
};
constexpr size_t kOperationCount = sizeof(kOperations) / sizeof(kOperations[0]);
constexpr int kMaxRequests = 16;

const Operation& PickOperation(std::string_view line, std::string_view* body) {
  size_t end = line.find_first_of(" {");
  std::string_view word = line.substr(0, end);
  for (const auto& op : kOperations) {
    if (word == op.name) {
      *body = end == std::string_view::npos ? std::string_view() : line.substr(end);
      return op;
    }
  }
  size_t brace = line.find('{');
  *body = brace == std::string_view::npos ? std::string_view() : line.substr(brace);
  return kOperations[line.empty() ? 0 : static_cast<unsigned char>(line[0]) % kOperationCount];
}

// The Query parameters an ELBv2 action receives, from a flat JSON object.
engine::QueryParams Params(const nlohmann::json& body) {
  engine::QueryParams out;
  for (const auto& [key, value] : body.items()) {
    out[key] = value.is_string() ? value.get<std::string>() : value.dump();
  }
  return out;
}

std::string Handle(FuzzEngine& engine, const Operation& op, const nlohmann::json& body) {
  switch (op.api) {
    case Api::kEcs: {
      auto r = engine.control().HandleEcs(op.name, body);
      return r ? r->dump() : r.error().message;
    }
    case Api::kElb: {
      auto r = engine.control().HandleElb(op.name, Params(body));
      return r ? *r : r.error().message;
    }
    case Api::kLogs: {
      auto r = engine.logs().Handle(op.name, body, engine.NowMs());
      return r ? r->dump() : r.error().message;
    }
  }
  return {};
}

}  // namespace
}  // namespace slipway::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace slipway::fuzz;
  static FuzzEngine engine(/*recycle_every=*/1000);
  engine.BeginInput();
  std::string_view in(reinterpret_cast<const char*>(data), size);
  for (int n = 0; n < kMaxRequests && !in.empty(); ++n) {
    std::string_view line = TakeLine(in);
    std::string_view text;
    const Operation& op = PickOperation(line, &text);
    // As the front does: an empty body is {}, and anything but a JSON object is refused.
    auto body = nlohmann::json::parse(text.empty() ? "{}" : engine.ExpandArns(text), nullptr, false);
    if (body.is_discarded() || !body.is_object()) continue;
    const std::string reply = Handle(engine, op, body);
    engine.Trace(std::string(op.name) + " " + body.dump(), reply);
    engine.RememberArns(reply);
  }
  return 0;
}
