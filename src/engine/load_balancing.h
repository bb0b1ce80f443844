// The engine's Elastic Load Balancing v2: load balancers, target groups, listeners and rules, the
// targets' health checks, and the routing snapshots it publishes to the data plane.
//
// ECS reaches it only through the target methods below (register, drain, remove, read state), as
// ECS reaches a real ALB through RegisterTargets/DeregisterTargets.
#pragma once

#include <optional>
#include <string>

#include "engine/api_types.h"
#include "engine/data_plane.h"
#include "engine/shared_state.h"

namespace slipway::engine {

class LoadBalancing {
 public:
  LoadBalancing(SharedState& core, DataPlane& data_plane, std::string listener_host)
      : core_(core), data_plane_(data_plane), listener_host_(std::move(listener_host)) {}

  /// Serves one ELBv2 Query action; takes the lock.
  XmlResult Handle(const std::string& action, const QueryParams& params);

  // The rest expect the caller to hold core.mu.

  /// After a restart: targets are forgotten (their tasks are gone) and listeners reopen.
  [[nodiscard]] Result<void> Restore();
  /// Starts due health checks, expires drained targets and publishes routing when it changed.
  void Tick();

  bool HasTargetGroup(const std::string& tg_arn) const;
  /// Registers listener_host:port in the group; false when the group does not exist.
  bool RegisterTarget(const std::string& tg_arn, int port);
  /// Starts draining the target; returns the group's deregistration delay, nullopt without a group.
  std::optional<int> DrainTarget(const std::string& tg_arn, int port);
  /// Takes the target out of routing at once (its task died).
  void RemoveTarget(const std::string& tg_arn, int port);
  /// "initial" | "healthy" | "unhealthy" | "draining", nullopt when not registered.
  std::optional<std::string> TargetState(const std::string& tg_arn, int port) const;

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
  XmlResult DescribeRules(const QueryParams& p);
  XmlResult DescribeTargetHealth(const QueryParams& p);
  XmlResult RegisterTargets(const QueryParams& p);
  XmlResult DeregisterTargets(const QueryParams& p);

  void RegisterTarget(TargetGroup& tg, const std::string& ip, int port);
  void DrainTarget(TargetGroup& tg, const std::string& key);
  void ApplyHealthResult(const std::string& tg_arn, const std::string& key, const HealthCheckResult& r);
  void ScheduleHealthChecks();
  void PublishRouting();
  std::string Key(int port) const { return listener_host_ + ":" + std::to_string(port); }
  double Now() const { return core_.Now(); }

  SharedState& core_;
  DataPlane& data_plane_;
  std::string listener_host_;
  bool routing_dirty_ = true;
};

}  // namespace slipway::engine
