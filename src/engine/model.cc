// Serialisation of the control-plane state, and identifier formats ECS uses.
#include "engine/model.h"

#include "base/strings.h"

namespace slipway::engine {

using nlohmann::json;

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(ServiceEvent, id, created_at, message)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Deployment, id, status, task_definition, desired_count,
                                   failed_tasks, created_at, updated_at, rollout_state,
                                   rollout_state_reason)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ServiceDeploymentRecord, id, deployment_id, source_deployments,
                                                status, status_reason, created_at, started_at, finished_at,
                                                stopped_at, updated_at, rollback_to, rollback_reason,
                                                rollback_started_at, failure_count)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ServiceRevisionRecord, deployment_id, task_definition, load_balancers,
                                                network_configuration, launch_type, created_at)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Service, arn, name, cluster_arn, task_definition, desired_count,
                                   maximum_percent, minimum_healthy_percent,
                                   circuit_breaker_enable, circuit_breaker_rollback,
                                   health_check_grace_period, load_balancers,
                                   network_configuration, launch_type, status, created_at,
                                   deployments, events, blocked_reported, last_completed,
                                                launch_not_before, service_deployments, service_revisions,
                                                client_token)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Cluster, arn, name, status)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Target, id, port, task_id, state, reason, description,
                                                drain_until)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(TargetGroup, arn, name, protocol, vpc_id, target_type, port,
                                                hc_path, hc_protocol, hc_port, matcher, hc_interval, hc_timeout,
                                                healthy_threshold, unhealthy_threshold, deregistration_delay,
                                                load_balancer_arns, targets)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(LoadBalancer, arn, name, dns_name, scheme, type, vpc_id,
                                   created_at)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Action, type, target_group_arn, order, fixed_status,
                                   fixed_content_type, fixed_body)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RuleCondition, field, values, header_name)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Rule, arn, listener_arn, priority, conditions, actions)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Listener, arn, load_balancer_arn, protocol, port,
                                   default_actions)

void to_json(json& j, const ContainerState& c) {
  j = json{{"name", c.name},           {"last_status", c.last_status}, {"reason", c.reason},
           {"container_port", c.container_port}, {"host_port", c.host_port},
           {"health_status", c.health_status}, {"log_path", c.log_path},
           {"log_offset", c.log_offset}, {"log_punched", c.log_punched}, {"log_group", c.log_group},
           {"log_stream", c.log_stream}, {"launched", c.launched}, {"log_timestamped", c.log_timestamped},
           {"pending_since", c.pending_since}, {"started_at", c.started_at},
           {"stop_sent_at", c.stop_sent_at}, {"kill_sent", c.kill_sent}};
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
  c.log_punched = j.value("log_punched", 0L);
  c.log_group = j.value("log_group", "");
  c.log_stream = j.value("log_stream", "");
  c.launched = j.value("launched", false);
  c.log_timestamped = j.value("log_timestamped", false);
  c.pending_since = j.value("pending_since", 0.0);
  c.started_at = j.value("started_at", 0.0);
  c.stop_sent_at = j.value("stop_sent_at", 0.0);
  c.kill_sent = j.value("kill_sent", false);
  if (j.contains("exit_code")) c.exit_code = j["exit_code"].get<int>();
}

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Task, arn, id, cluster_arn, task_definition_arn, group,
                                   started_by, service_name, last_status, desired_status,
                                   created_at, started_at, stopping_at, stopped_at,
                                   stopped_reason, stop_code, health_status, containers, version,
                                   target_group_arn, target_port, drain_until, kill_at, overrides,
                                   failure_counted, counted_healthy, ip, client_token)

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

const std::vector<ObjectKind>& AllObjectKinds() {
  static const std::vector<ObjectKind> kinds = {
      ObjectKind::kCluster,      ObjectKind::kTaskDefinition, ObjectKind::kService,  ObjectKind::kTask,
      ObjectKind::kLoadBalancer, ObjectKind::kTargetGroup,    ObjectKind::kTarget,   ObjectKind::kListener,
      ObjectKind::kRule,         ObjectKind::kTags};
  return kinds;
}

const char* KindName(ObjectKind kind) {
  switch (kind) {
    case ObjectKind::kCluster: return "cluster";
    case ObjectKind::kTaskDefinition: return "task-definition";
    case ObjectKind::kService: return "service";
    case ObjectKind::kTask: return "task";
    case ObjectKind::kLoadBalancer: return "load-balancer";
    case ObjectKind::kTargetGroup: return "target-group";
    case ObjectKind::kTarget: return "target";
    case ObjectKind::kListener: return "listener";
    case ObjectKind::kRule: return "rule";
    case ObjectKind::kTags: return "tags";
  }
  return "unknown";
}

std::string TaskDefinitionKey(const std::string& family, int revision) {
  return family + ":" + std::to_string(revision);
}

std::string TargetKey(const std::string& target_group_arn, const std::string& target) {
  return target_group_arn + "|" + target;
}

namespace {

// "family:3" -> ("family", 3); revision 0 when malformed.
std::pair<std::string, int> SplitRevision(const std::string& key) {
  size_t colon = key.rfind(':');
  if (colon == std::string::npos) return {key, 0};
  return {key.substr(0, colon), std::atoi(key.c_str() + colon + 1)};
}

std::pair<std::string, std::string> SplitTarget(const std::string& key) {
  size_t bar = key.find('|');  // ARNs hold no bar; a target Id might
  if (bar == std::string::npos) return {key, ""};
  return {key.substr(0, bar), key.substr(bar + 1)};
}

template <typename Map>
std::optional<std::string> Dump(const Map& m, const std::string& key) {
  auto it = m.find(key);
  if (it == m.end()) return std::nullopt;
  return json(it->second).dump();
}

template <typename Map>
void Load(Map& m, const std::string& key, const json& j) {
  m[key] = j.get<typename Map::mapped_type>();
}

}  // namespace

std::optional<std::string> StoredObject(const State& s, const ObjectRef& ref) {
  const std::string& key = ref.second;
  switch (ref.first) {
    case ObjectKind::kCluster: return Dump(s.clusters, key);
    case ObjectKind::kService: return Dump(s.services, key);
    case ObjectKind::kTask: return Dump(s.tasks, key);
    case ObjectKind::kLoadBalancer: return Dump(s.load_balancers, key);
    case ObjectKind::kListener: return Dump(s.listeners, key);
    case ObjectKind::kRule: return Dump(s.rules, key);
    case ObjectKind::kTags: return Dump(s.tags, key);
    case ObjectKind::kTaskDefinition: {
      auto [family, revision] = SplitRevision(key);
      auto it = s.task_definitions.find(family);
      if (it == s.task_definitions.end() || revision < 1 || revision > static_cast<int>(it->second.size())) {
        return std::nullopt;
      }
      return it->second[static_cast<size_t>(revision - 1)].dump();
    }
    case ObjectKind::kTargetGroup: {
      auto it = s.target_groups.find(key);
      if (it == s.target_groups.end()) return std::nullopt;
      json j = it->second;
      j.erase("targets");  // stored as rows of their own, so a health change rewrites one target
      return j.dump();
    }
    case ObjectKind::kTarget: {
      auto [tg_arn, target] = SplitTarget(key);
      auto tg = s.target_groups.find(tg_arn);
      if (tg == s.target_groups.end()) return std::nullopt;
      return Dump(tg->second.targets, target);
    }
  }
  return std::nullopt;
}

void EraseObject(State& s, const ObjectRef& ref) {
  const std::string& key = ref.second;
  switch (ref.first) {
    case ObjectKind::kCluster: s.clusters.erase(key); return;
    case ObjectKind::kService: s.services.erase(key); return;
    case ObjectKind::kTask: s.tasks.erase(key); return;
    case ObjectKind::kLoadBalancer: s.load_balancers.erase(key); return;
    case ObjectKind::kListener: s.listeners.erase(key); return;
    case ObjectKind::kRule: s.rules.erase(key); return;
    case ObjectKind::kTags: s.tags.erase(key); return;
    case ObjectKind::kTargetGroup: s.target_groups.erase(key); return;
    case ObjectKind::kTaskDefinition: {
      // Revisions are only ever appended: the one to erase is the last.
      auto [family, revision] = SplitRevision(key);
      auto it = s.task_definitions.find(family);
      if (it != s.task_definitions.end() && revision == static_cast<int>(it->second.size())) it->second.pop_back();
      if (it != s.task_definitions.end() && it->second.empty()) s.task_definitions.erase(it);
      return;
    }
    case ObjectKind::kTarget: {
      auto [tg_arn, target] = SplitTarget(key);
      auto tg = s.target_groups.find(tg_arn);
      if (tg != s.target_groups.end()) tg->second.targets.erase(target);
      return;
    }
  }
}

bool RestoreObject(State& s, ObjectKind kind, const std::string& key, const std::string& body) {
  const json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) return false;
  try {
    switch (kind) {
      case ObjectKind::kCluster: Load(s.clusters, key, j); break;
      case ObjectKind::kService: Load(s.services, key, j); break;
      case ObjectKind::kTask: Load(s.tasks, key, j); break;
      case ObjectKind::kLoadBalancer: Load(s.load_balancers, key, j); break;
      case ObjectKind::kListener: Load(s.listeners, key, j); break;
      case ObjectKind::kRule: Load(s.rules, key, j); break;
      case ObjectKind::kTags: s.tags[key] = j; break;
      case ObjectKind::kTargetGroup: {
        // A target group's row does not hold its targets (each is a row of its own): restoring
        // the group over one in memory keeps the targets it has.
        auto it = s.target_groups.find(key);
        auto targets = it != s.target_groups.end() ? it->second.targets : decltype(it->second.targets){};
        Load(s.target_groups, key, j);
        s.target_groups[key].targets = std::move(targets);
        break;
      }
      case ObjectKind::kTaskDefinition: {
        auto [family, revision] = SplitRevision(key);
        if (revision < 1 || !j.is_object()) return false;
        auto& revisions = s.task_definitions[family];
        if (static_cast<int>(revisions.size()) < revision) revisions.resize(static_cast<size_t>(revision));
        revisions[static_cast<size_t>(revision - 1)] = j;
        break;
      }
      case ObjectKind::kTarget: {
        auto [tg_arn, target] = SplitTarget(key);
        auto tg = s.target_groups.find(tg_arn);
        if (tg == s.target_groups.end()) return false;
        tg->second.targets[target] = j.get<Target>();
        break;
      }
    }
  } catch (const json::exception&) {
    return false;
  }
  return true;
}

std::vector<ObjectRef> AllObjects(const State& s) {
  std::vector<ObjectRef> out;
  for (const auto& [k, v] : s.clusters) out.emplace_back(ObjectKind::kCluster, k);
  for (const auto& [family, revisions] : s.task_definitions) {
    for (size_t i = 0; i < revisions.size(); ++i) {
      out.emplace_back(ObjectKind::kTaskDefinition, TaskDefinitionKey(family, static_cast<int>(i) + 1));
    }
  }
  for (const auto& [k, v] : s.services) out.emplace_back(ObjectKind::kService, k);
  for (const auto& [k, v] : s.tasks) out.emplace_back(ObjectKind::kTask, k);
  for (const auto& [k, v] : s.load_balancers) out.emplace_back(ObjectKind::kLoadBalancer, k);
  for (const auto& [k, tg] : s.target_groups) {
    out.emplace_back(ObjectKind::kTargetGroup, k);
    for (const auto& [t, v] : tg.targets) out.emplace_back(ObjectKind::kTarget, TargetKey(k, t));
  }
  for (const auto& [k, v] : s.listeners) out.emplace_back(ObjectKind::kListener, k);
  for (const auto& [k, v] : s.rules) out.emplace_back(ObjectKind::kRule, k);
  for (const auto& [k, v] : s.tags) out.emplace_back(ObjectKind::kTags, k);
  return out;
}

std::string NewDeploymentId() { return "ecs-svc/" + RandomFrom("0123456789", 19); }

std::string NewServiceDeploymentId() {
  return RandomFrom("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 21);
}

std::string NewEventId() {
  std::string h = RandomHex(32);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-4" + h.substr(13, 3) + "-a" + h.substr(17, 3) +
         "-" + h.substr(20, 12);
}

}  // namespace slipway::engine
