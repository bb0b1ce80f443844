// Checks API requests against botocore's input shapes and the few rules the models lack, and
// words the result as AWS does: "1 validation error detected: Value '-1' at 'desiredCount' ...".
#include "engine/validate.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <vector>

#include "base/strings.h"
#include "engine/metrics/statistics.h"
#include "engine/shape_checker.h"

namespace slipway::engine {

namespace {

using nlohmann::json;

std::string Join(const std::string& path, const std::string& name) {
  return path.empty() ? name : path + "." + name;
}

// ---- Semantic rules: what the models leave to the service's own checks. ----

/// A violated rule's constraint text, or nullopt. Rules run only on requests that fit their shape,
/// but each still answers nullopt for a value of another type rather than throw.
using RuleCheck = std::optional<std::string> (*)(const json& value);

template <int64_t kMin, int64_t kMax = INT64_MAX>
std::optional<std::string> InRange(const json& v) {
  if (!v.is_number_integer()) return std::nullopt;
  if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t{INT64_MAX})
    return "Member must have value less than or equal to " + std::to_string(kMax);
  if (v.get<int64_t>() < kMin)
    return "Member must have value greater than or equal to " + std::to_string(kMin);
  if (v.get<int64_t>() > kMax)
    return "Member must have value less than or equal to " + std::to_string(kMax);
  return std::nullopt;
}

bool IsNameChar(char c, bool underscore) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         (underscore && c == '_');
}

/// ECS cluster, service, family and container names.
std::optional<std::string> EcsName(const json& v) {
  if (!v.is_string()) return std::nullopt;
  const std::string& s = v.get_ref<const std::string&>();
  bool ok = !s.empty() && s.size() <= 255 &&
            std::all_of(s.begin(), s.end(), [](char c) { return IsNameChar(c, true); });
  if (ok) return std::nullopt;
  return "Member must satisfy regular expression pattern: [a-zA-Z0-9_-]{1,255}";
}

/// ELBv2 load balancer and target group names.
std::optional<std::string> ElbName(const json& v) {
  if (!v.is_string()) return std::nullopt;
  const std::string& s = v.get_ref<const std::string&>();
  bool ok = !s.empty() && s.size() <= 32 && s.front() != '-' && s.back() != '-' &&
            std::all_of(s.begin(), s.end(), [](char c) { return IsNameChar(c, false); });
  if (ok) return std::nullopt;
  return "Member must have 1 to 32 alphanumeric characters or hyphens, and must not begin or end "
         "with a hyphen";
}

std::optional<std::string> LoadBalancerName(const json& v) {
  if (auto bad = ElbName(v)) return bad;
  if (v.is_string() && v.get_ref<const std::string&>().starts_with("internal-"))
    return "Member must not begin with \"internal-\"";
  return std::nullopt;
}

std::optional<std::string> HealthCheckPort(const json& v) {
  if (!v.is_string()) return std::nullopt;
  const std::string& s = v.get_ref<const std::string&>();
  if (s == "traffic-port") return std::nullopt;
  bool digits =
      !s.empty() && s.size() <= 5 && s.find_first_not_of("0123456789") == std::string::npos;
  if (digits && std::stoi(s) >= 1 && std::stoi(s) <= 65535) return std::nullopt;
  return "Member must be traffic-port or a port from 1 to 65535";
}

/// The one target group attribute the engine reads as a number.
std::optional<std::string> TargetGroupAttribute(const json& v) {
  if (!v.is_object() || v.value("Key", json()) != "deregistration_delay.timeout_seconds") return std::nullopt;
  const json value = v.value("Value", json(""));
  if (!value.is_string()) return std::nullopt;
  const std::string& s = value.get_ref<const std::string&>();
  bool digits =
      !s.empty() && s.size() <= 4 && s.find_first_not_of("0123456789") == std::string::npos;
  if (digits && std::stoi(s) <= 3600) return std::nullopt;
  return "Member must have a deregistration_delay.timeout_seconds Value from 0 to 3600";
}

/// A task definition's containers: at most 10 (ECS's limit), each name once.
std::optional<std::string> ContainerList(const json& v) {
  if (!v.is_array()) return std::nullopt;
  if (v.size() > 10) return "Member must have length less than or equal to 10";
  std::vector<std::string> names;
  for (const auto& c : v) {
    if (c.is_object() && c.contains("name") && c["name"].is_string()) names.push_back(c["name"]);
  }
  std::sort(names.begin(), names.end());
  if (std::adjacent_find(names.begin(), names.end()) != names.end()) {
    return "Member must have container names that are unique within the task definition";
  }
  return std::nullopt;
}

/// A target's Id: the engine's targets are of type ip, so an IPv4 or IPv6 address.
std::optional<std::string> TargetIp(const json& v) {
  if (!v.is_string()) return std::nullopt;
  const std::string& s = v.get_ref<const std::string&>();
  unsigned char addr[16];
  if (::inet_pton(AF_INET, s.c_str(), addr) == 1 || ::inet_pton(AF_INET6, s.c_str(), addr) == 1) return std::nullopt;
  return "Member must be an IP address (the engine's target groups are of target type ip)";
}

/// An ECS client token: 1 to `max` characters in the range 33-126, as CreateService (36) and
/// RunTask (64) document it.
template <size_t max>
std::optional<std::string> ClientToken(const json& v) {
  if (!v.is_string()) return std::nullopt;
  const std::string& s = v.get_ref<const std::string&>();
  if (s.empty() || s.size() > max) return "Member must have length between 1 and " + std::to_string(max);
  for (unsigned char c : s) {
    if (c < 33 || c > 126) return std::string("Member must consist of ASCII characters 33-126");
  }
  return std::nullopt;
}

/// A CloudWatch dashboard name: "The maximum length is 255, and valid characters are A-Z, a-z,
/// 0-9, "-", and "_"" (PutDashboard). A DashboardNamePrefix may be empty.
template <size_t kMinLength>
std::optional<std::string> DashboardName(const json& v) {
  if (!v.is_string()) return std::nullopt;
  const std::string& s = v.get_ref<const std::string&>();
  bool ok = s.size() >= kMinLength && s.size() <= 255 &&
            std::all_of(s.begin(), s.end(), [](char c) { return IsNameChar(c, true); });
  if (ok) return std::nullopt;
  return "Member must satisfy regular expression pattern: [a-zA-Z0-9_-]{" + std::to_string(kMinLength) +
         ",255}";
}

/// A list of at most kMax items.
template <size_t kMax>
std::optional<std::string> AtMost(const json& v) {
  if (!v.is_array() || v.size() <= kMax) return std::nullopt;
  return "Member must have length less than or equal to " + std::to_string(kMax);
}

/// A dashboard body of at most 1 MiB: the engine's bound on what one dashboard may cost.
std::optional<std::string> DashboardBodySize(const json& v) {
  if (!v.is_string() || v.get_ref<const std::string&>().size() <= 1024 * 1024) return std::nullopt;
  return "Member must have length less than or equal to 1048576 bytes";
}

/// A MetricDataQuery Id: "must start with a lowercase letter" and hold letters, digits and
/// underscores.
std::optional<std::string> MetricQueryId(const json& v) {
  if (!v.is_string()) return std::nullopt;
  const std::string& s = v.get_ref<const std::string&>();
  bool ok = !s.empty() && s[0] >= 'a' && s[0] <= 'z' &&
            std::all_of(s.begin(), s.end(), [](char c) { return IsNameChar(c, true) && c != '-'; });
  if (ok) return std::nullopt;
  return "Member must satisfy regular expression pattern: ^[a-z][a-zA-Z0-9_]*$";
}

/// A MetricStat period: 1, 5, 10 or 30 (high resolution) or a multiple of 60 seconds.
std::optional<std::string> MetricPeriod(const json& v) {
  if (!v.is_number_integer()) return std::nullopt;
  if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t{INT64_MAX}) {
    return "Member must be 1, 5, 10, 30 or a multiple of 60";
  }
  const int64_t p = v.get<int64_t>();
  if (p == 1 || p == 5 || p == 10 || p == 30 || (p > 0 && p % 60 == 0)) return std::nullopt;
  return "Member must be 1, 5, 10, 30 or a multiple of 60";
}

/// A statistic the engine computes: Sum, Average, Minimum, Maximum, SampleCount or pNN.NN.
std::optional<std::string> MetricStatistic(const json& v) {
  if (!v.is_string()) return std::nullopt;
  if (ParseStatistic(v.get_ref<const std::string&>())) return std::nullopt;
  return "Member must be one of SampleCount, Average, Sum, Minimum, Maximum, or a percentile p0 to "
         "p100";
}

/// One rule on the members at `path` (the model's names; "[]" = each element of a list) of the
/// input of each operation named in `operations` (space-separated).
struct SemanticRule {
  std::string_view service;
  std::string_view operations;
  std::string_view path;
  RuleCheck check;
};

constexpr SemanticRule kRules[] = {
    {"ecs", "CreateCluster", "clusterName", EcsName},
    {"ecs", "CreateService", "serviceName", EcsName},
    {"ecs", "RegisterTaskDefinition", "family", EcsName},
    {"ecs", "RegisterTaskDefinition", "containerDefinitions", ContainerList},
    {"ecs", "RegisterTaskDefinition", "containerDefinitions[].name", EcsName},
    {"ecs", "RegisterTaskDefinition", "containerDefinitions[].portMappings[].containerPort",
     InRange<0, 65535>},
    {"ecs", "RegisterTaskDefinition", "containerDefinitions[].portMappings[].hostPort",
     InRange<0, 65535>},
    {"ecs", "CreateService UpdateService", "loadBalancers[].containerPort", InRange<0, 65535>},
    {"ecs", "CreateService UpdateService", "desiredCount", InRange<0>},
    {"ecs", "CreateService UpdateService", "healthCheckGracePeriodSeconds", InRange<0>},
    {"ecs", "CreateService UpdateService", "deploymentConfiguration.minimumHealthyPercent",
     InRange<0, 100>},
    {"ecs", "CreateService UpdateService", "deploymentConfiguration.maximumPercent", InRange<100>},
    {"ecs", "RunTask", "count", InRange<1, 10>},
    {"ecs", "CreateService", "clientToken", ClientToken<36>},
    {"ecs", "RunTask", "clientToken", ClientToken<64>},
    {"elbv2", "CreateLoadBalancer", "Name", LoadBalancerName},
    {"elbv2", "CreateTargetGroup", "Name", ElbName},
    {"elbv2", "CreateTargetGroup", "HealthCheckPort", HealthCheckPort},
    {"elbv2", "ModifyTargetGroupAttributes", "Attributes[]", TargetGroupAttribute},
    {"elbv2", "RegisterTargets DeregisterTargets", "Targets[].Id", TargetIp},
    {"cloudwatch", "PutDashboard GetDashboard", "DashboardName", DashboardName<1>},
    {"cloudwatch", "PutDashboard", "DashboardBody", DashboardBodySize},
    {"cloudwatch", "ListDashboards", "DashboardNamePrefix", DashboardName<0>},
    {"cloudwatch", "DeleteDashboards", "DashboardNames", AtMost<100>},
    {"cloudwatch", "DeleteDashboards", "DashboardNames[]", DashboardName<1>},
    {"cloudwatch", "GetMetricData", "MetricDataQueries", AtMost<500>},
    {"cloudwatch", "GetMetricData", "MetricDataQueries[].Id", MetricQueryId},
    {"cloudwatch", "GetMetricData", "MetricDataQueries[].MetricStat.Period", MetricPeriod},
    {"cloudwatch", "GetMetricData", "MetricDataQueries[].MetricStat.Stat", MetricStatistic},
    {"cloudwatch", "GetMetricData", "MaxDatapoints", InRange<1>},
};

bool NamesOperation(std::string_view operations, std::string_view op) {
  for (const auto& name : Split(operations, ' ')) {
    if (name == op) return true;
  }
  return false;
}

/// Calls `visit` on each value at `rule_path` under `node`, with its AWS path.
void ForEachAt(const json& node, std::string_view rule_path, const std::string& path,
               const std::function<void(const json&, const std::string&)>& visit) {
  if (rule_path.empty()) return visit(node, path);
  const size_t dot = rule_path.find('.');
  std::string_view segment = rule_path.substr(0, dot);
  std::string_view rest = dot == std::string_view::npos ? "" : rule_path.substr(dot + 1);
  const bool each = segment.ends_with("[]");
  const std::string name(each ? segment.substr(0, segment.size() - 2) : segment);
  if (!node.is_object() || !node.contains(name)) return;
  const json& child = node[name];
  if (!each) return ForEachAt(child, rest, Join(path, name), visit);
  if (!child.is_array()) return;
  for (size_t i = 0; i < child.size(); ++i) {
    ForEachAt(child[i], rest, Join(path, name) + "." + std::to_string(i + 1) + ".member", visit);
  }
}

/// All violations of `request` for `service`.`op`: the shape first, then (when every value was
/// checked and has its modelled type) the semantic rules. Past ten violations the checker stops
/// looking, and the values it did not reach may be of any type.
std::vector<Violation> Violations(const ServiceShapes& service, std::string_view op,
                                  const Shape& input, json& request) {
  ShapeChecker checker;
  checker.Check(input, request, "");
  if (!checker.checked_all()) return checker.violations();
  for (const auto& v : checker.violations()) {
    if (!v.wrong_type.empty()) return checker.violations();
  }
  for (const auto& rule : kRules) {
    if (rule.service != service.name || !NamesOperation(rule.operations, op)) continue;
    ForEachAt(request, rule.path, "", [&](const json& value, const std::string& path) {
      if (auto constraint = rule.check(value))
        checker.Add({path, QuoteValue(value), *constraint, ""});
    });
  }
  return checker.violations();
}

/// ELBv2 spells members lowerCamelCase in its errors ("port", "attributes.1.member.key").
std::string LowerCamelPath(const std::string& path) {
  std::vector<std::string> parts = Split(path, '.');
  for (auto& p : parts) {
    if (!p.empty() && p[0] >= 'A' && p[0] <= 'Z') p[0] = static_cast<char>(p[0] - 'A' + 'a');
  }
  return slipway::Join(parts, ".");
}

/// AWS's wording for constraint violations; `code` is InvalidParameterException or ValidationError.
ApiError ConstraintError(const std::string& code, const std::vector<Violation>& violations,
                         bool lower_camel) {
  std::vector<std::string> lines;
  for (const auto& v : violations) {
    std::string value = !v.value           ? " null"
                        : v.sensitive      ? ""
                        : IsUtf8(*v.value) ? " '" + *v.value + "'"
                                           : " '(not UTF-8)'";
    lines.push_back("Value" + value + " at '" + (lower_camel ? LowerCamelPath(v.path) : v.path) +
                    "' failed to satisfy constraint: " + v.constraint);
  }
  const size_t n = violations.size();
  return {code,
          std::to_string(n) + (n == 1 ? " validation error" : " validation errors") +
              " detected: " + slipway::Join(lines, "; "),
          400};
}

ApiError Serialization(const std::string& message) {
  return {"SerializationException", message, 400};
}

/// How a served service names itself in "The engine does not implement ... operation X."
std::string DisplayName(const ServiceShapes& service) {
  if (service.name == "ecs") return "ECS";
  if (service.name == "logs") return "CloudWatch Logs";
  if (service.name == "secretsmanager") return "Secrets Manager";
  if (service.name == "ssm") return "SSM";
  if (service.name == "ecr") return "ECR";
  if (service.name == "cloudwatch") return "CloudWatch";
  return service.name;
}

/// How a service answers a violated constraint: Secrets Manager and SSM with ValidationException,
/// CloudWatch with its Query code ValidationError (in JSON too: it is query-compatible), each
/// naming members lowerCamel ("Value at 'secretString'"); ECS and CloudWatch Logs with
/// InvalidParameterException and the model's member names.
std::string ConstraintCode(const ServiceShapes& service) {
  if (service.name == "secretsmanager" || service.name == "ssm") return "ValidationException";
  if (service.name == "cloudwatch") return "ValidationError";
  return "InvalidParameterException";
}

}  // namespace


tl::expected<json, ApiError> ParseJsonRequest(std::string_view target_prefix, std::string_view op,
                                              std::string_view body) {
  const ServiceShapes* service = ApiShapes::Embedded().ByTargetPrefix(target_prefix);
  if (service == nullptr) {
    return tl::unexpected(ApiError{"UnknownOperationException",
                                   "The engine does not serve " + std::string(target_prefix) + ".",
                                   400});
  }
  auto input = service->operations.find(op);
  if (input == service->operations.end()) {
    return tl::unexpected(ApiError{"UnknownOperationException",
                                   "The engine does not implement " + DisplayName(*service) +
                                       " operation " + std::string(op) + ".",
                                   400});
  }
  if (NestsDeeperThan(body, kMaxJsonDepth)) {
    return tl::unexpected(Serialization("Request body nests arrays and objects deeper than " +
                                        std::to_string(kMaxJsonDepth) + " levels."));
  }
  json request = json::parse(body.empty() ? std::string_view("{}") : body, nullptr,
                             /*allow_exceptions=*/false);
  if (request.is_discarded() || !request.is_object())
    return tl::unexpected(Serialization("Request body is not a JSON object."));
  auto violations = Violations(*service, op, *input->second, request);
  if (violations.empty()) return request;
  for (const auto& v : violations) {
    if (!v.wrong_type.empty()) {
      return tl::unexpected(Serialization("Cannot deserialize the value at '" + v.path +
                                          "': " + v.constraint + ", not " + v.wrong_type + "."));
    }
  }
  const std::string code = ConstraintCode(*service);
  return tl::unexpected(ConstraintError(code, violations, code != "InvalidParameterException"));
}

tl::expected<void, ApiError> CheckQueryRequest(std::string_view action, const QueryParams& params) {
  auto request = ParseQueryRequest("elbv2", action, params);
  if (!request) return tl::unexpected(request.error());
  return {};
}

tl::expected<json, ApiError> ParseQueryRequest(std::string_view service_name, std::string_view action,
                                               const QueryParams& params) {
  const ServiceShapes* service = ApiShapes::Embedded().ByName(service_name);
  const Shape* input = nullptr;
  if (service != nullptr) {
    auto it = service->operations.find(action);
    if (it != service->operations.end()) input = it->second;
  }
  if (input == nullptr) {
    return tl::unexpected(
        ApiError{"InvalidAction",
                 "The action " + std::string(action) + " is not valid for this web service.", 400});
  }
  auto request = QueryToJson(*input, params);
  if (!request) return tl::unexpected(ConstraintError("ValidationError", {request.error()}, true));
  auto violations = Violations(*service, action, *input, *request);
  if (!violations.empty())
    return tl::unexpected(ConstraintError("ValidationError", violations, true));
  return *request;
}

}  // namespace slipway::engine
