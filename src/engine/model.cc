// Serialisation of the control-plane state, and identifier formats ECS uses.
#include "engine/model.h"

#include "base/strings.h"

namespace slipway::engine {

using nlohmann::json;

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(ServiceEvent, id, created_at, message)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Deployment, id, status, task_definition, desired_count,
                                   failed_tasks, created_at, updated_at, rollout_state,
                                   rollout_state_reason)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Service, arn, name, cluster_arn, task_definition, desired_count,
                                   maximum_percent, minimum_healthy_percent,
                                   circuit_breaker_enable, circuit_breaker_rollback,
                                   health_check_grace_period, load_balancers,
                                   network_configuration, launch_type, status, created_at,
                                   deployments, events, blocked_reported, last_completed,
                                                launch_not_before)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Cluster, arn, name, status)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Target, id, port, state, reason, description, ok_streak,
                                   fail_streak, drain_until, next_check, checked_once)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(TargetGroup, arn, name, protocol, vpc_id, target_type, port,
                                   hc_path, hc_protocol, hc_port, matcher, hc_interval, hc_timeout,
                                   healthy_threshold, unhealthy_threshold, deregistration_delay,
                                   load_balancer_arns, targets)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(LoadBalancer, arn, name, dns_name, scheme, type, vpc_id,
                                   created_at)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Action, type, target_group_arn, order, fixed_status,
                                   fixed_content_type, fixed_body)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(RuleCondition, field, values)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Rule, arn, listener_arn, priority, conditions, actions)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Listener, arn, load_balancer_arn, protocol, port,
                                   default_actions)

void to_json(json& j, const ContainerState& c) {
  j = json{{"name", c.name},           {"last_status", c.last_status}, {"reason", c.reason},
           {"container_port", c.container_port}, {"host_port", c.host_port},
           {"health_status", c.health_status}, {"log_path", c.log_path},
           {"log_offset", c.log_offset}, {"log_group", c.log_group}, {"log_stream", c.log_stream}};
  if (c.exit_code) j["exit_code"] = *c.exit_code;
}
void from_json(const json& j, ContainerState& c) {
  c.name = j.value("name", "");
  c.last_status = j.value("last_status", "PENDING");
  c.reason = j.value("reason", "");
  c.container_port = j.value("container_port", 0);
  c.host_port = j.value("host_port", 0);
  c.health_status = j.value("health_status", "UNKNOWN");
  c.log_path = j.value("log_path", "");
  c.log_offset = j.value("log_offset", 0L);
  c.log_group = j.value("log_group", "");
  c.log_stream = j.value("log_stream", "");
  if (j.contains("exit_code")) c.exit_code = j["exit_code"].get<int>();
}

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Task, arn, id, cluster_arn, task_definition_arn, group,
                                   started_by, service_name, last_status, desired_status,
                                   created_at, started_at, stopping_at, stopped_at,
                                   stopped_reason, stop_code, health_status, containers, version,
                                   target_group_arn, target_port, drain_until, kill_at, overrides,
                                   failure_counted, counted_healthy)

json ToJson(const State& s) {
  return json{{"clusters", s.clusters},         {"task_definitions", s.task_definitions},
              {"services", s.services},         {"tasks", s.tasks},
              {"load_balancers", s.load_balancers}, {"target_groups", s.target_groups},
              {"listeners", s.listeners},       {"rules", s.rules},
              {"tags", s.tags}};
}

State StateFromJson(const json& j) {
  State s;
  if (j.contains("clusters")) j.at("clusters").get_to(s.clusters);
  if (j.contains("task_definitions")) j.at("task_definitions").get_to(s.task_definitions);
  if (j.contains("services")) j.at("services").get_to(s.services);
  if (j.contains("tasks")) j.at("tasks").get_to(s.tasks);
  if (j.contains("load_balancers")) j.at("load_balancers").get_to(s.load_balancers);
  if (j.contains("target_groups")) j.at("target_groups").get_to(s.target_groups);
  if (j.contains("listeners")) j.at("listeners").get_to(s.listeners);
  if (j.contains("rules")) j.at("rules").get_to(s.rules);
  if (j.contains("tags")) j.at("tags").get_to(s.tags);
  return s;
}

std::string ClusterArn(const std::string& name) {
  return std::string("arn:aws:ecs:us-east-1:") + kAccount + ":cluster/" + name;
}

std::string NewDeploymentId() { return "ecs-svc/" + RandomFrom("0123456789", 19); }

std::string NewEventId() {
  std::string h = RandomHex(32);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-4" + h.substr(13, 3) + "-a" + h.substr(17, 3) +
         "-" + h.substr(20, 12);
}

}  // namespace slipway::engine
