// The engine's control-plane objects (ECS and ELBv2), as stored and as served.
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace slipway::engine {

inline constexpr const char* kAccount = "000000000000";

/// One service event, newest first in Service::events.
struct ServiceEvent {
  std::string id;
  double created_at = 0;
  std::string message;
};

/// An ECS deployment of a service (rolling-update controller).
struct Deployment {
  std::string id;  ///< "ecs-svc/" + 19 digits
  std::string status = "PRIMARY";
  std::string task_definition;
  int desired_count = 0;
  int failed_tasks = 0;
  double created_at = 0, updated_at = 0;
  std::string rollout_state = "IN_PROGRESS";
  std::string rollout_state_reason;
};

/// One service deployment as the ServiceDeployments API shows it: the change from the revisions
/// that ran to the one a deployment (ECS's rolling-update Deployment) brings, and how it ended.
struct ServiceDeploymentRecord {
  std::string id;                  ///< 21 characters, the last part of its ARN
  std::string deployment_id;       ///< the Deployment ("ecs-svc/…") whose revision is the target
  std::vector<std::string> source_deployments;  ///< Deployments that ran when it began
  /// PENDING | IN_PROGRESS | SUCCESSFUL | STOPPED | ROLLBACK_IN_PROGRESS | ROLLBACK_SUCCESSFUL | ROLLBACK_FAILED
  std::string status = "IN_PROGRESS";
  std::string status_reason;
  double created_at = 0, started_at = 0, finished_at = 0, stopped_at = 0, updated_at = 0;
  std::string rollback_to;         ///< the Deployment a circuit-breaker rollback returns to; "" for none
  std::string rollback_reason;
  double rollback_started_at = 0;
  int failure_count = 0;           ///< tasks that failed, when it ended
};

/// A service revision: what one Deployment runs (task definition, load balancers, network).
struct ServiceRevisionRecord {
  std::string deployment_id;       ///< "ecs-svc/<19 digits>"; the digits number the revision
  std::string task_definition;
  nlohmann::json load_balancers = nlohmann::json::array();
  nlohmann::json network_configuration;
  std::string launch_type = "FARGATE";
  double created_at = 0;
};

struct Service {
  std::string arn, name, cluster_arn, task_definition;
  int desired_count = 0;
  int maximum_percent = 200, minimum_healthy_percent = 100;
  bool circuit_breaker_enable = false, circuit_breaker_rollback = false;
  int health_check_grace_period = 0;
  nlohmann::json load_balancers = nlohmann::json::array();
  nlohmann::json network_configuration;
  std::string launch_type = "FARGATE";
  std::string status = "ACTIVE";
  double created_at = 0;
  std::vector<Deployment> deployments;  ///< [0] is PRIMARY
  std::deque<ServiceEvent> events;      ///< newest first, at most 100
  bool blocked_reported = false;
  /// The last deployment that reached COMPLETED (empty id: none yet); where a circuit-breaker
  /// rollback returns.
  Deployment last_completed;
  /// Engine bookkeeping: no task launches before this time (back-off after failed tasks).
  double launch_not_before = 0;
  /// Service deployments, newest first, at most kServiceHistory; and the revisions they name.
  std::deque<ServiceDeploymentRecord> service_deployments;
  std::deque<ServiceRevisionRecord> service_revisions;
  /// The clientToken of the CreateService that made it: a repeat with it returns this service.
  std::string client_token;
};

/// Service deployments (and revisions) a service keeps; ECS keeps 90 days of them.
inline constexpr size_t kServiceHistory = 100;

struct ContainerState {
  std::string name;
  std::string last_status = "PENDING";
  std::optional<int> exit_code;
  std::string reason;
  int container_port = 0;
  int host_port = 0;
  std::string health_status = "UNKNOWN";  ///< HEALTHY | UNHEALTHY | UNKNOWN (container healthCheck)
  // Engine bookkeeping, not on the wire.
  std::string log_path;                   ///< the container's stdout+stderr file
  long log_offset = 0;                    ///< bytes of log_path already shipped to CloudWatch Logs
  long log_punched = 0;                   ///< leading bytes of log_path whose disk blocks were freed
  std::string log_group, log_stream;      ///< awslogs destination; empty when not configured
  int health_failures = 0;                ///< consecutive failed healthCheck runs
  double next_health_check = 0;
  /// Handed to a runtime that starts containers in the background; RUNNING once it reports so.
  bool launched = false;
  /// log_path holds podman's k8s-file lines ("<time> <stream> <F|P> <text>") rather than raw output.
  bool log_timestamped = false;
  double pending_since = 0;               ///< when its dependsOn wait began (startTimeout)
  double started_at = 0;                  ///< when it began running
  double stop_sent_at = 0;                ///< when it was told to stop (0: not yet)
  bool kill_sent = false;                 ///< SIGKILL was sent after its stopTimeout
};

struct Task {
  std::string arn, id, cluster_arn, task_definition_arn, group, started_by;
  std::string service_name;  ///< empty for standalone tasks
  std::string last_status = "PROVISIONING", desired_status = "RUNNING";
  double created_at = 0, started_at = 0, stopping_at = 0, stopped_at = 0;
  std::string stopped_reason, stop_code;
  std::string health_status = "UNKNOWN";
  std::vector<ContainerState> containers;
  long version = 1;
  /// The task's own address in the task network (awsvpc); empty when it shares the host's.
  std::string ip;
  // Engine bookkeeping, not on the wire.
  std::string target_group_arn;
  int target_port = 0;
  double drain_until = 0;
  double kill_at = 0;
  nlohmann::json overrides;          ///< RunTask overrides, as sent
  bool failure_counted = false;      ///< already added to its deployment's failedTasks
  bool counted_healthy = false;      ///< already reset its deployment's failedTasks
  /// The clientToken of the RunTask that started it: a repeat with it returns these tasks.
  std::string client_token;
};

struct Cluster {
  std::string arn, name, status = "ACTIVE";
};

/// One registered target and its health, as DescribeTargetHealth reports it.
struct Target {
  std::string id;  ///< IP address
  int port = 0;
  /// The ECS task that registered it (empty for targets registered through the ELBv2 API); ECS
  /// drains and removes targets by task, so one task can never remove another's target.
  std::string task_id;
  std::string state = "initial";
  std::string reason = "Elb.RegistrationInProgress";
  std::string description = "Target registration is in progress";
  double drain_until = 0;
  // Engine bookkeeping, not stored: a restarted engine checks every target afresh.
  int ok_streak = 0, fail_streak = 0;
  double next_check = 0;
};

struct TargetGroup {
  std::string arn, name, protocol = "HTTP", vpc_id, target_type = "ip";
  int port = 80;
  std::string hc_path = "/", hc_protocol = "HTTP", hc_port = "traffic-port", matcher = "200";
  int hc_interval = 30, hc_timeout = 5, healthy_threshold = 5, unhealthy_threshold = 2;
  int deregistration_delay = 300;
  std::vector<std::string> load_balancer_arns;
  std::map<std::string, Target> targets;  ///< key "ip:port"
};

struct LoadBalancer {
  std::string arn, name, dns_name, scheme = "internet-facing", type = "application", vpc_id;
  double created_at = 0;
};

/// A forward or fixed-response action.
struct Action {
  std::string type = "forward";
  std::string target_group_arn;
  int order = 1;
  std::string fixed_status, fixed_content_type, fixed_body;
};

/// One condition of a listener rule. Values of one condition are alternatives (any may match);
/// the conditions of a rule must all match.
struct RuleCondition {
  std::string field;  ///< "path-pattern" | "host-header" | "source-ip" | "http-header"
  std::vector<std::string> values;  ///< patterns, or CIDR blocks for source-ip
  std::string header_name;          ///< the header an http-header condition reads
};

struct Rule {
  std::string arn, listener_arn, priority;  ///< priority "default" for the default rule
  std::vector<RuleCondition> conditions;
  std::vector<Action> actions;
};

struct Listener {
  std::string arn, load_balancer_arn, protocol = "HTTP";
  int port = 80;
  std::vector<Action> default_actions;
};

/// Every control-plane object. Guarded by Engine's mutex.
struct State {
  std::map<std::string, Cluster> clusters;                            ///< by name
  std::map<std::string, std::vector<nlohmann::json>> task_definitions;  ///< family -> revisions
  std::map<std::string, Service> services;                            ///< by ARN
  std::map<std::string, Task> tasks;                                  ///< by task id
  std::map<std::string, LoadBalancer> load_balancers;                 ///< by ARN
  std::map<std::string, TargetGroup> target_groups;                   ///< by ARN
  std::map<std::string, Listener> listeners;                          ///< by ARN
  std::map<std::string, Rule> rules;                                  ///< by ARN
  std::map<std::string, nlohmann::json> tags;                         ///< resource ARN -> [{key, value}]
};

/// Each kind of object the store keeps, one row per object.
enum class ObjectKind {
  kCluster,         ///< key: cluster name
  kTaskDefinition,  ///< key: "family:revision"
  kService,         ///< key: cluster ARN + "/" + service name
  kTask,            ///< key: task id
  kLoadBalancer,    ///< key: ARN
  kTargetGroup,     ///< key: ARN (its targets are rows of their own)
  kTarget,          ///< key: target group ARN + "|" + "ip:port"
  kListener,        ///< key: ARN
  kRule,            ///< key: ARN
  kTags,            ///< key: the tagged resource's ARN
};
/// One object of the state: its kind and key.
using ObjectRef = std::pair<ObjectKind, std::string>;
/// Every kind, in the order a restore must read them (target groups before their targets).
const std::vector<ObjectKind>& AllObjectKinds();
/// The kind's name in the store ("task", "service", …).
const char* KindName(ObjectKind kind);

std::string TaskDefinitionKey(const std::string& family, int revision);
std::string TargetKey(const std::string& target_group_arn, const std::string& target);

/// The stored form (JSON text) of one object, or nullopt when `state` no longer has it.
std::optional<std::string> StoredObject(const State& state, const ObjectRef& ref);
/// Removes one object from `state` (nothing when it has none).
void EraseObject(State& state, const ObjectRef& ref);
/// Puts one stored object back into `state`; false when the text is not a valid object.
bool RestoreObject(State& state, ObjectKind kind, const std::string& key, const std::string& body);
/// Every object `state` holds, for a full write (the first one after a migration).
std::vector<ObjectRef> AllObjects(const State& state);

/// The whole state as one JSON document: how engines before row storage kept it.
State StateFromJson(const nlohmann::json& j);

std::string NewDeploymentId();
std::string NewEventId();
/// A service deployment's id: 21 characters of [A-Za-z0-9_-].
std::string NewServiceDeploymentId();

}  // namespace slipway::engine
