// A typed thin client for the Elastic Load Balancing v2 calls slipway makes: load balancers,
// target groups, listeners and rules. Names and shapes follow botocore's elbv2 2015-12-01 model.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace slipway::aws {

class AwsClient;

/// The answer of a fixed-response action.
struct FixedResponse {
  std::string status_code;   ///< "404"
  std::string content_type;  ///< "text/plain"; empty: not set
  std::string message_body;  ///< empty: no body
};

/// One target group of a forward action's ForwardConfig.
struct WeightedTargetGroup {
  std::string arn;
  std::optional<int> weight;  ///< its share of requests, 0..999; nullopt: not stated
};

/// What a listener or rule does with a request it matches.
struct Action {
  std::string type;  ///< "forward" or "fixed-response" (the kinds slipway uses)
  /// forward: the target group requests go to. Read from the ForwardConfig when that names one
  /// group and the reply has no TargetGroupArn (AWS may describe a forward either way).
  std::string target_group_arn;
  FixedResponse fixed_response;  ///< fixed-response: what is answered
  /// forward: the ForwardConfig's target groups, sent as a ForwardConfig when not empty.
  std::vector<WeightedTargetGroup> forward_target_groups;

  /// Whether requests can go to the target group `arn`: as TargetGroupArn or in the ForwardConfig.
  bool ForwardsTo(const std::string& arn) const;
};

/// An action that forwards to `target_group_arn`.
Action ForwardTo(const std::string& target_group_arn);

/// One pair a query-string condition matches; an empty key matches a value under any key.
struct QueryStringPair {
  std::string key;
  std::string value;
};

/// A rule's condition: the request's `field` ("path-pattern", "host-header", "http-header",
/// "http-request-method", "source-ip", "query-string") matches one of `values`, each sent and
/// read in the field's own config (PathPatternConfig, HttpHeaderConfig, ...).
struct RuleCondition {
  std::string field;
  std::vector<std::string> values;  ///< patterns, methods or CIDR blocks; none for query-string
  std::string http_header_name;     ///< http-header: the header whose value is matched
  std::vector<QueryStringPair> query_strings;  ///< query-string: what it matches in place of values
};

/// A load balancer as ELBv2 describes it.
struct LoadBalancer {
  std::string arn;
  std::string name;
  std::string dns_name;  ///< where clients reach it
  std::string scheme;    ///< "internet-facing" or "internal"
  std::string vpc_id;
  std::vector<std::string> security_groups;
};

/// A target group as ELBv2 describes it.
struct TargetGroup {
  std::string arn;
  std::string name;
  int port = 0;  ///< where targets receive traffic unless they register another
  std::string vpc_id;
};

/// A listener: the port a load balancer accepts on and what it does by default.
struct Listener {
  std::string arn;
  int port = 0;          ///< 0 when the reply holds no number
  std::string protocol;  ///< "HTTP", "HTTPS"
  std::vector<Action> default_actions;
};

/// A listener rule: requests matching every condition get the actions.
struct Rule {
  std::string arn;
  std::string priority;  ///< "1".."50000", or "default" for the listener's default rule
  std::vector<RuleCondition> conditions;
  std::vector<Action> actions;
};

/// What CreateLoadBalancer makes. Empty members are not sent (ELBv2's defaults apply).
struct LoadBalancerRequest {
  std::string name;
  std::string type = "application";
  std::string scheme;                ///< "internet-facing" or "internal"
  std::vector<std::string> subnets;  ///< at least two, in different zones
  std::vector<std::string> security_groups;
};

/// What CreateTargetGroup makes. Empty strings and zero numbers are not sent.
struct TargetGroupRequest {
  std::string name;
  std::string protocol = "HTTP";
  int port = 0;
  std::string target_type;  ///< "ip" for Fargate's awsvpc tasks
  std::string vpc_id;
  std::string health_check_path;
  int health_check_interval_seconds = 0;
  int health_check_timeout_seconds = 0;
  int healthy_threshold_count = 0;
  int unhealthy_threshold_count = 0;
  std::string matcher_http_code;  ///< e.g. "200" or "200-299"
};

/// One target group attribute, e.g. {"deregistration_delay.timeout_seconds", "30"}.
struct TargetGroupAttribute {
  std::string key;
  std::string value;
};

/// One registered target and its health, as DescribeTargetHealth shows it.
struct TargetHealth {
  std::string id;     ///< the target's IP address (target type ip) or instance id
  int port = 0;
  std::string state;  ///< initial, healthy, unhealthy, unused, draining or unavailable
  std::string reason; ///< e.g. Target.FailedHealthChecks; "" when healthy
};

/// What CreateListener makes.
struct ListenerRequest {
  std::string load_balancer_arn;
  std::string protocol = "HTTP";
  int port = 0;
  std::vector<Action> default_actions;  ///< what requests no rule matches get
};

/// What CreateRule makes.
struct RuleRequest {
  std::string listener_arn;
  int priority = 0;  ///< 1..50000; a lower number is evaluated first
  std::vector<RuleCondition> conditions;
  std::vector<Action> actions;
};

/// ELBv2 over an AwsClient. Errors keep AwsClient's message and code (e.g. LoadBalancerNotFound,
/// aws::kOutcomeUnknown); a reply without what the call must return fails with
/// "elasticloadbalancing <Action>: unexpected reply: ...". Describe calls read every page.
class Elbv2 {
 public:
  explicit Elbv2(AwsClient& client) : client_(client) {}

  /// The load balancers called `names`; ELBv2 refuses a name it does not know
  /// (LoadBalancerNotFound).
  [[nodiscard]] Result<std::vector<LoadBalancer>> DescribeLoadBalancers(
      const std::vector<std::string>& names);
  /// The load balancer called `name`, or nullopt when there is none.
  [[nodiscard]] Result<std::optional<LoadBalancer>> FindLoadBalancer(const std::string& name);
  /// Creates a load balancer; idempotent by name with the same settings.
  [[nodiscard]] Result<LoadBalancer> CreateLoadBalancer(const LoadBalancerRequest& request);

  /// The target groups called `names`; ELBv2 refuses a name it does not know
  /// (TargetGroupNotFound).
  [[nodiscard]] Result<std::vector<TargetGroup>> DescribeTargetGroups(
      const std::vector<std::string>& names);
  /// The target group called `name`, or nullopt when there is none.
  [[nodiscard]] Result<std::optional<TargetGroup>> FindTargetGroup(const std::string& name);
  /// Creates a target group; idempotent by name with the same settings.
  [[nodiscard]] Result<TargetGroup> CreateTargetGroup(const TargetGroupRequest& request);
  /// Sets `attributes` of the target group `target_group_arn`.
  [[nodiscard]] Result<void> ModifyTargetGroupAttributes(
      const std::string& target_group_arn, const std::vector<TargetGroupAttribute>& attributes);

  /// The attributes of the target group `target_group_arn` (deregistration delay, stickiness, ...).
  [[nodiscard]] Result<std::vector<TargetGroupAttribute>> DescribeTargetGroupAttributes(
      const std::string& target_group_arn);

  /// The targets registered in `target_group_arn` and their health.
  [[nodiscard]] Result<std::vector<TargetHealth>> DescribeTargetHealth(const std::string& target_group_arn);

  /// The listeners of the load balancer `load_balancer_arn`.
  [[nodiscard]] Result<std::vector<Listener>> DescribeListeners(
      const std::string& load_balancer_arn);
  /// Creates a listener; idempotent for the same port and settings.
  [[nodiscard]] Result<Listener> CreateListener(const ListenerRequest& request);

  /// The rules of the listener `listener_arn`, its default rule included.
  [[nodiscard]] Result<std::vector<Rule>> DescribeRules(const std::string& listener_arn);
  /// Creates a rule. Not idempotent: a repeat is refused (PriorityInUse).
  [[nodiscard]] Result<Rule> CreateRule(const RuleRequest& request);
  /// Replaces the conditions and actions of the rule `rule_arn` (its priority stays).
  [[nodiscard]] Result<Rule> ModifyRule(const std::string& rule_arn, const std::vector<RuleCondition>& conditions,
                                        const std::vector<Action>& actions);
  /// Deletes the rule `rule_arn`; a rule already gone is RuleNotFound.
  [[nodiscard]] Result<void> DeleteRule(const std::string& rule_arn);

 private:
  AwsClient& client_;
};

}  // namespace slipway::aws
