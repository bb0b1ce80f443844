// The seam between the control plane and the data plane (listeners, proxying, health checks).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "engine/ip_cidr.h"

namespace slipway::engine {

/// A backend address a target group routes to.
struct Backend {
  std::string host;
  int port = 0;
  bool operator==(const Backend&) const = default;
};

/// An http-header condition: header `name` (case-insensitive) has a value matching any pattern.
struct HeaderCondition {
  std::string name;
  std::vector<std::string> patterns;  ///< ALB wildcards, compared case-insensitively
};

/// A listener rule as the proxy evaluates it (lowest priority first, default last). Every
/// condition present must match; within one, any value may.
struct RouteRule {
  int priority = 0;
  std::vector<std::string> path_patterns;  ///< any may match; empty = no path condition
  std::vector<std::string> host_patterns;  ///< any may match; empty = no host condition
  std::string target_group_arn;            ///< forward target, or empty for fixed response
  int fixed_status = 0;
  std::string fixed_content_type, fixed_body;
  std::vector<Cidr> source_blocks;         ///< the peer lies in any; empty = no source-ip condition
  std::vector<HeaderCondition> headers;    ///< each must match
  bool matches_nothing = false;            ///< a stored condition no longer parses
};

/// Routing for one listener port.
struct ListenerRoutes {
  int port = 0;
  std::vector<RouteRule> rules;  ///< sorted, default rule last
  std::string load_balancer_arn;  ///< the listener's load balancer, which its metrics name
};

/// An immutable routing snapshot: listeners and the backends each target group may receive.
struct RoutingTable {
  std::map<int, ListenerRoutes> listeners;
  std::map<std::string, std::vector<Backend>> backends;  ///< by target-group ARN
};

/// What a health check should do and how its result is judged.
struct HealthCheckSpec {
  std::string host;
  int port = 0;
  std::string path = "/";
  int timeout_ms = 5000;
  std::string matcher = "200";  ///< "200", "200,202", "200-299"
};

/// The outcome of one check: ok, or the ELB reason code and description.
struct HealthCheckResult {
  bool ok = false;
  /// The check could not be made for a reason of the engine's own (out of descriptors): it says
  /// nothing about the target and must not count for or against it.
  bool inconclusive = false;
  std::string reason;       ///< Target.ResponseCodeMismatch | Target.Timeout | Target.FailedHealthChecks
  std::string description;  ///< e.g. "Health checks failed with these codes: [404]"
};

/// Implemented by the proxy; called by the control plane.
class DataPlane {
 public:
  virtual ~DataPlane() = default;
  /// Starts accepting on host:port for a new listener.
  [[nodiscard]] virtual Result<void> OpenListener(const std::string& host, int port) = 0;
  /// Replaces the routing snapshot; in-flight requests finish on the old one.
  virtual void Publish(std::shared_ptr<const RoutingTable> table) = 0;
  /// Runs one health check asynchronously and reports on another thread.
  virtual void Check(const HealthCheckSpec& spec,
                     std::function<void(HealthCheckResult)> done) = 0;
};

/// True if `code` satisfies an ELB matcher such as "200", "200,202" or "200-299".
bool MatcherAccepts(const std::string& matcher, int code);
/// ALB wildcard match: '*' any run, '?' one character. Costs one pass over the text for patterns
/// of up to 128 characters; `steps`, when given, is increased by the characters compared.
bool WildcardMatch(std::string_view pattern, std::string_view text, bool case_insensitive,
                   size_t* steps = nullptr);
/// Reads a request's headers for http-header conditions.
class RequestHeaders {
 public:
  virtual ~RequestHeaders() = default;
  /// Whether any value of header `name` (compared case-insensitively) satisfies `match`.
  virtual bool AnyValue(std::string_view name,
                        const std::function<bool(std::string_view)>& match) const = 0;
};

/// What rule matching reads of one request. `peer` is the TCP peer of the client connection:
/// source-ip conditions never look at X-Forwarded-For.
struct RouteRequest {
  std::string_view host;  ///< the Host header, port included or not
  std::string_view path;  ///< the target without its query string
  IpAddress peer;
  const RequestHeaders* headers = nullptr;  ///< nullptr: no headers (http-header never matches)
};

/// The rule a request matches, or nullptr (then the listener has no route: 404-like).
const RouteRule* MatchRoute(const ListenerRoutes& routes, const RouteRequest& request);

}  // namespace slipway::engine
