// The engine's Elastic Load Balancing v2: load balancers, target groups, listeners and rules, the
// targets' health checks, and the routing snapshots it publishes to the data plane.
//
// ECS reaches it only through the target methods below (register, drain, remove, read state), as
// ECS reaches a real ALB through RegisterTargets/DeregisterTargets.
#pragma once

#include <optional>
#include <set>
#include <string>

#include "engine/api_types.h"
#include "engine/data_plane.h"
#include "engine/shared_state.h"

namespace slipway::engine {

class LoadBalancing {
 public:
  LoadBalancing(SharedState& core, DataPlane& data_plane, std::string listener_host)
      : core_(core), data_plane_(data_plane), listener_host_(std::move(listener_host)) {}

  // Every method expects the caller to hold core.mu.

  /// Serves one ELBv2 Query action.
  XmlResult Handle(const std::string& action, const QueryParams& params);

  /// After a restart: listeners reopen and targets are checked afresh; targets of tasks not in
  /// `live_tasks` are dropped.
  [[nodiscard]] Result<void> Restore(const std::set<std::string>& live_tasks);
  /// Starts due health checks, expires drained targets and publishes routing when it changed.
  void Tick();
  /// Publishes routing at once when a committed change left it stale, so a change is in effect
  /// by the time its caller has the answer.
  void PublishIfStale() {
    if (routing_dirty_) PublishRouting();
  }

  bool HasTargetGroup(const std::string& tg_arn) const;
  /// Registers task `task_id`'s ip:port in the group; false when the group does not exist.
  bool RegisterTarget(const std::string& tg_arn, const std::string& task_id, const std::string& ip, int port);
  // A task's target is found by its address and must carry its task id: a target on the same
  // address that another task registered is never touched.

  /// Starts draining the task's target; returns the group's deregistration delay, nullopt when
  /// the task has no target there.
  std::optional<int> DrainTarget(const std::string& tg_arn, const std::string& task_id, const std::string& ip,
                                        int port);
  /// Takes the task's target out of routing at once (its task died); false when it had none.
  bool RemoveTarget(const std::string& tg_arn, const std::string& task_id, const std::string& ip,
                                        int port);
  /// "initial" | "healthy" | "unhealthy" | "draining" for the task's target, nullopt when it has none.
  std::optional<std::string> TargetState(const std::string& tg_arn, const std::string& task_id, const std::string& ip,
                                        int port) const;

 private:
  XmlResult CreateLoadBalancer(const QueryParams& p);
  XmlResult DescribeLoadBalancers(const QueryParams& p);
  XmlResult CreateTargetGroup(const QueryParams& p);
  XmlResult DescribeTargetGroups(const QueryParams& p);
  XmlResult ModifyTargetGroupAttributes(const QueryParams& p);
  XmlResult DescribeTargetGroupAttributes(const QueryParams& p);
  XmlResult CreateListener(const QueryParams& p);
  XmlResult DescribeListeners(const QueryParams& p);
  XmlResult CreateRule(const QueryParams& p);
  XmlResult ModifyRule(const QueryParams& p);
  XmlResult DeleteRule(const QueryParams& p);
  XmlResult DescribeRules(const QueryParams& p);
  XmlResult SetRulePriorities(const QueryParams& p);
  XmlResult DescribeTargetHealth(const QueryParams& p);
  XmlResult RegisterTargets(const QueryParams& p);
  XmlResult DeregisterTargets(const QueryParams& p);

  /// The default rule of the listener whose default-rule ARN is `rule_arn`, or nullopt.
  std::optional<Rule> DefaultRuleOf(const std::string& rule_arn) const;
  /// Records the listener's load balancer on each target group the forward actions name.
  void AssociateTargetGroups(const std::vector<Action>& actions, const std::string& listener_arn);
  void RegisterTarget(TargetGroup& tg, const std::string& ip, int port, const std::string& task_id);
  void DrainTarget(TargetGroup& tg, const std::string& key);
  /// The task's target on `port` in the group, or nullptr.
  const Target* FindTaskTarget(const std::string& tg_arn, const std::string& task_id, const std::string& ip,
                                        int port) const;
  void TouchTarget(const std::string& tg_arn, const std::string& key) {
    core_.Touch(ObjectKind::kTarget, TargetKey(tg_arn, key));
  }
  /// Applies a finished check to the target it was for (takes the lock; called from the data plane).
  void ApplyHealthResult(const std::string& tg_arn, const std::string& key, int port, const std::string& task_id,
                         const HealthCheckResult& r);
  void ScheduleHealthChecks();
  void PublishRouting();
  static std::string Key(const std::string& ip, int port) { return ip + ":" + std::to_string(port); }
  double Now() const { return core_.Now(); }

  SharedState& core_;
  DataPlane& data_plane_;
  std::string listener_host_;
  bool routing_dirty_ = true;
};

}  // namespace slipway::engine
