// ECS JSON 1.1 operations over the control-plane state, shaped per botocore's ecs model.
#include <algorithm>

#include "base/strings.h"
#include "engine/control_plane.h"

namespace slipway::engine {

using nlohmann::json;
using ecs::ClientError;
using ecs::InvalidParameter;

namespace {
ApiError HandedOver() {
  return {"ServiceUnavailableException", "The engine is handing over to a new process; retry the request.", 503};
}
}  // namespace

XmlResult ControlPlane::HandleElb(const std::string& action, const QueryParams& params) {
  std::lock_guard lock(core_.mu);
  if (core_.frozen) return tl::unexpected(HandedOver());
  if (auto earlier = CommitEarlierChanges("InternalFailure"); !earlier) return tl::unexpected(earlier.error());
  XmlResult result = lb_.Handle(action, params);
  // Acknowledged means durable: whatever the call changed is committed before the answer leaves.
  if (auto committed = CommitOrRevert(); !committed) {
    return tl::unexpected(ApiError{"InternalFailure", "The engine could not save the change: " +
                                                          committed.error().message, 500});
  }
  lb_.PublishIfStale();  // ...and in effect: a rule answered is a rule the proxy applies
  return result;
}

ApiResult ControlPlane::HandleEcs(const std::string& op, const json& r) {
  std::lock_guard lock(core_.mu);
  if (core_.frozen) return tl::unexpected(HandedOver());
  using Handler = ApiResult (ControlPlane::*)(const json&);
  static const std::map<std::string, Handler> kOps = {
      {"CreateCluster", &ControlPlane::CreateCluster},
      {"DescribeClusters", &ControlPlane::DescribeClusters},
      {"ListClusters", &ControlPlane::ListClusters},
      {"RegisterTaskDefinition", &ControlPlane::RegisterTaskDefinition},
      {"DescribeTaskDefinition", &ControlPlane::DescribeTaskDefinition},
      {"ListTaskDefinitions", &ControlPlane::ListTaskDefinitions},
      {"DeregisterTaskDefinition", &ControlPlane::DeregisterTaskDefinition},
      {"DeleteTaskDefinitions", &ControlPlane::DeleteTaskDefinitions},
      {"CreateService", &ControlPlane::CreateService},
      {"UpdateService", &ControlPlane::UpdateService},
      {"DescribeServices", &ControlPlane::DescribeServices},
      {"ListServices", &ControlPlane::ListServices},
      {"ListServiceDeployments", &ControlPlane::ListServiceDeployments},
      {"DescribeServiceDeployments", &ControlPlane::DescribeServiceDeployments},
      {"DescribeServiceRevisions", &ControlPlane::DescribeServiceRevisions},
      {"ListTasks", &ControlPlane::ListTasks},
      {"DescribeTasks", &ControlPlane::DescribeTasks},
      {"StopTask", &ControlPlane::StopTask},
      {"RunTask", &ControlPlane::RunTask},
      {"TagResource", &ControlPlane::TagResource},
      {"UntagResource", &ControlPlane::UntagResource},
      {"ListTagsForResource", &ControlPlane::ListTagsForResource},
  };
  auto it = kOps.find(op);
  if (it == kOps.end()) {
    return tl::unexpected(ApiError{"UnknownOperationException",
                                   "The engine does not implement ECS operation " + op + ".", 400});
  }
  if (auto earlier = CommitEarlierChanges("ServerException"); !earlier) return tl::unexpected(earlier.error());
  ApiResult result;
  try {
    result = (this->*(it->second))(r);
  } catch (const json::exception&) {
    // Last resort: the validator has checked every member's type, so this is a handler reading a
    // member the model leaves optional. Answer as AWS would, never with the library's text.
    result = tl::unexpected(ApiError{"SerializationException", "A member of the request has an unexpected type.", 400});
  }
  // Acknowledged means durable: whatever the call changed is committed before the answer leaves.
  if (auto committed = CommitOrRevert(); !committed) {
    return tl::unexpected(ApiError{"ServerException", "The engine could not save the change: " +
                                                          committed.error().message, 500});
  }
  return result;
}

tl::expected<Cluster*, ApiError> ControlPlane::FindCluster(const json& r) {
  std::string name = NameFromArn(r.value("cluster", "default"));
  auto it = core_.state.clusters.find(name);
  if (it == core_.state.clusters.end() || it->second.status != "ACTIVE") {
    return tl::unexpected(ApiError{"ClusterNotFoundException", "Cluster not found.", 400});
  }
  return &it->second;
}

namespace {
json ClusterJson(const Cluster& c, const State& s) {
  int running = 0, pending = 0, services = 0;
  for (const auto& [id, t] : s.tasks) {
    if (t.cluster_arn != c.arn) continue;
    running += t.last_status == "RUNNING";
    pending += t.last_status == "PENDING" || t.last_status == "PROVISIONING";
  }
  for (const auto& [arn, svc] : s.services) services += svc.cluster_arn == c.arn && svc.status == "ACTIVE";
  return {{"clusterArn", c.arn}, {"clusterName", c.name}, {"status", c.status},
          {"registeredContainerInstancesCount", 0}, {"runningTasksCount", running},
          {"pendingTasksCount", pending}, {"activeServicesCount", services},
          {"statistics", json::array()}, {"tags", json::array()}, {"settings", json::array()},
          {"capacityProviders", json::array({"FARGATE"})}};
}
}  // namespace

ApiResult ControlPlane::CreateCluster(const json& r) {
  std::string name = r.value("clusterName", "default");
  auto& c = core_.state.clusters[name];
  c.name = name;
  c.arn = core_.Arn("ecs", "cluster/" + name);
  c.status = "ACTIVE";
  core_.Touch(ObjectKind::kCluster, name);
  return json{{"cluster", ClusterJson(c, core_.state)}};
}

ApiResult ControlPlane::DescribeClusters(const json& r) {
  json out{{"clusters", json::array()}, {"failures", json::array()}};
  std::vector<std::string> wanted = r.value("clusters", std::vector<std::string>{"default"});
  for (const auto& ref : wanted) {
    auto it = core_.state.clusters.find(NameFromArn(ref));
    if (it == core_.state.clusters.end()) {
      out["failures"].push_back({{"arn", ref.find("arn:") == 0 ? ref : core_.Arn("ecs", "cluster/" + ref)}, {"reason", "MISSING"}});
    } else {
      out["clusters"].push_back(ClusterJson(it->second, core_.state));
    }
  }
  return out;
}

ApiResult ControlPlane::ListClusters(const json& r) {
  const int max_results = IntField(r, "maxResults", 100);
  if (max_results < 1 || max_results > 100) return tl::unexpected(InvalidParameter("maxResults must be between 1 and 100."));
  // Pages continue after the cluster the token names (clusters are listed by name).
  const std::string after = r.value("nextToken", "");
  json out{{"clusterArns", json::array()}};
  std::string last;
  for (const auto& [name, c] : core_.state.clusters) {
    if (c.status != "ACTIVE" || (!after.empty() && name <= after)) continue;
    if (static_cast<int>(out["clusterArns"].size()) == max_results) {
      out["nextToken"] = last;
      break;
    }
    out["clusterArns"].push_back(c.arn);
    last = name;
  }
  return out;
}

void ControlPlane::ApplyDeploymentConfiguration(Service& s, const json& config) {
  if (!config.is_object()) return;
  s.maximum_percent = IntField(config, "maximumPercent", s.maximum_percent);
  s.minimum_healthy_percent = IntField(config, "minimumHealthyPercent", s.minimum_healthy_percent);
  if (config.contains("deploymentCircuitBreaker")) {
    s.circuit_breaker_enable = config["deploymentCircuitBreaker"].value("enable", false);
    s.circuit_breaker_rollback = config["deploymentCircuitBreaker"].value("rollback", false);
  }
}

tl::expected<void, ApiError> ControlPlane::CheckTaskLimit(const Service* except, long long wanted,
                                                          const std::string& what) const {
  long long allotted = 0;
  for (const auto& [key, svc] : core_.state.services) {
    if (&svc != except && svc.status == "ACTIVE") allotted += svc.desired_count;
  }
  // Tasks meant to run now, outside `except`: a rollout can run more than desired. Tasks on their
  // way out do not count (they are gone in moments); launches wait for them instead.
  long long live = 0;
  for (const auto& [id, t] : core_.state.tasks) {
    if (t.last_status == "STOPPED" || t.desired_status == "STOPPED") continue;
    if (t.service_name.empty()) ++allotted;
    if (except == nullptr || t.service_name != except->name || t.cluster_arn != except->cluster_arn) ++live;
  }
  allotted = std::max(allotted, live);
  if (allotted + wanted <= options_.max_tasks) return {};
  return tl::unexpected(ApiError{
      "LimitExceededException",
      what + " would take the engine past its limit of " + std::to_string(options_.max_tasks) +
          " tasks (engine start --max-tasks); " + std::to_string(allotted) + " are already allotted.",
      400});
}

Service* ControlPlane::FindService(const Cluster& cluster, const std::string& ref) {
  std::string name = NameFromArn(ref);
  auto it = core_.state.services.find(cluster.arn + "/" + name);
  return it == core_.state.services.end() ? nullptr : &it->second;
}

ApiResult ControlPlane::CreateService(const json& r) {
  auto cluster = FindCluster(r);
  if (!cluster) return tl::unexpected(cluster.error());
  std::string name = r.value("serviceName", "");
  if (name.empty()) return tl::unexpected(InvalidParameter("serviceName must not be empty."));
  Service* existing = FindService(**cluster, name);
  const std::string token = r.value("clientToken", "");
  if (existing && existing->status == "ACTIVE") {
    // A repeat of the request that created it (its reply was lost) gets the same service.
    if (!token.empty() && existing->client_token == token) return json{{"service", ServiceJson(*existing)}};
    return tl::unexpected(InvalidParameter("Creation of service was not idempotent."));
  }
  const json* td = FindTaskDefinition(r.value("taskDefinition", ""));
  if (td == nullptr) return tl::unexpected(ClientError("TaskDefinition not found."));
  if (!Usable(*td)) return tl::unexpected(ClientError("TaskDefinition is inactive"));
  json lbs = r.value("loadBalancers", json::array());
  for (const auto& lb : lbs) {
    if (!lb_.HasTargetGroup(lb.value("targetGroupArn", ""))) {
      return tl::unexpected(InvalidParameter("Unable to assume role and validate the specified "
                                             "targetGroupArn. Please verify that the ECS service "
                                             "role being passed has the proper permissions."));
    }
  }
  auto tags = MergeTags(json::array(), r.value("tags", json::array()));
  if (!tags) return tl::unexpected(tags.error());
  Service s;
  s.name = name;
  s.cluster_arn = (*cluster)->arn;
  s.arn = core_.Arn("ecs", "service/" + (*cluster)->name + "/" + name);
  s.task_definition = (*td)["taskDefinitionArn"];
  s.desired_count = IntField(r, "desiredCount", 0);
  if (auto room = CheckTaskLimit(nullptr, s.desired_count, "desiredCount " + std::to_string(s.desired_count)); !room) {
    return tl::unexpected(room.error());
  }
  s.load_balancers = lbs;
  s.network_configuration = r.value("networkConfiguration", json());
  s.health_check_grace_period = IntField(r, "healthCheckGracePeriodSeconds", 0);
  s.launch_type = r.value("launchType", "FARGATE");
  s.client_token = token;
  s.created_at = Now();
  ApplyDeploymentConfiguration(s, r.value("deploymentConfiguration", json()));
  Deployment d;
  d.id = NewDeploymentId();
  d.task_definition = s.task_definition;
  d.desired_count = s.desired_count;
  d.created_at = d.updated_at = s.created_at;
  d.rollout_state_reason = "ECS deployment " + d.id + " in progress.";
  s.deployments.push_back(d);
  BeginServiceDeployment(s, d);
  std::string key = s.cluster_arn + "/" + name;
  if (!tags->empty()) {
    core_.state.tags[s.arn] = *tags;
    core_.Touch(ObjectKind::kTags, s.arn);
  }
  core_.state.services[key] = s;
  core_.Touch(ObjectKind::kService, key);
  return json{{"service", ServiceJson(core_.state.services[key])}};
}

ApiResult ControlPlane::UpdateService(const json& r) {
  auto cluster = FindCluster(r);
  if (!cluster) return tl::unexpected(cluster.error());
  Service* s = FindService(**cluster, r.value("service", ""));
  if (s == nullptr) return tl::unexpected(ApiError{"ServiceNotFoundException", "Service not found.", 400});
  if (s->status != "ACTIVE") {
    return tl::unexpected(ApiError{"ServiceNotActiveException", "Service was not ACTIVE.", 400});
  }
  std::string new_td = s->task_definition;
  if (r.contains("taskDefinition")) {
    const json* td = FindTaskDefinition(r["taskDefinition"].get<std::string>());
    if (td == nullptr) return tl::unexpected(ClientError("TaskDefinition not found."));
    if (!Usable(*td)) return tl::unexpected(ClientError("TaskDefinition is inactive"));
    new_td = (*td)["taskDefinitionArn"];
  }
  if (r.contains("desiredCount")) {
    const int desired = IntField(r, "desiredCount", 0);
    if (auto room = CheckTaskLimit(s, desired, "desiredCount " + std::to_string(desired)); !room) {
      return tl::unexpected(room.error());
    }
    s->desired_count = desired;
  }
  if (r.contains("healthCheckGracePeriodSeconds")) {
    s->health_check_grace_period = IntField(r, "healthCheckGracePeriodSeconds", 0);
  }
  ApplyDeploymentConfiguration(*s, r.value("deploymentConfiguration", json()));
  bool force = r.value("forceNewDeployment", false);
  if (new_td != s->task_definition || force) {
    s->task_definition = new_td;
    for (auto& d : s->deployments) d.status = "ACTIVE";
    Deployment d;
    d.id = NewDeploymentId();
    d.task_definition = new_td;
    d.desired_count = s->desired_count;
    d.created_at = d.updated_at = Now();
    d.rollout_state_reason = "ECS deployment " + d.id + " in progress.";
    s->deployments.insert(s->deployments.begin(), d);
    s->blocked_reported = false;
    BeginServiceDeployment(*s, d);
  }
  s->deployments.front().desired_count = s->desired_count;
  core_.Touch(ObjectKind::kService, s->cluster_arn + "/" + s->name);
  return json{{"service", ServiceJson(*s)}};
}

json ControlPlane::ServiceJson(const Service& s) const {
  int running = 0, pending = 0;
  std::map<std::string, std::pair<int, int>> per_deployment;  // id -> running, pending
  for (const auto& [id, t] : core_.state.tasks) {
    if (t.service_name != s.name || t.cluster_arn != s.cluster_arn) continue;
    bool is_running = t.last_status == "RUNNING";
    bool is_pending = t.last_status == "PROVISIONING" || t.last_status == "PENDING";
    running += is_running;
    pending += is_pending;
    per_deployment[t.started_by].first += is_running;
    per_deployment[t.started_by].second += is_pending;
  }
  json deployments = json::array();
  for (const auto& d : s.deployments) {
    deployments.push_back({{"id", d.id}, {"status", d.status}, {"taskDefinition", d.task_definition},
                           {"desiredCount", d.desired_count},
                           {"runningCount", per_deployment[d.id].first},
                           {"pendingCount", per_deployment[d.id].second},
                           {"failedTasks", d.failed_tasks}, {"createdAt", d.created_at},
                           {"updatedAt", d.updated_at}, {"launchType", s.launch_type},
                           {"platformVersion", "1.4.0"}, {"platformFamily", "Linux"},
                           {"rolloutState", d.rollout_state},
                           {"rolloutStateReason", d.rollout_state_reason}});
    if (!s.network_configuration.is_null()) deployments.back()["networkConfiguration"] = s.network_configuration;
  }
  json events = json::array();
  for (const auto& e : s.events) events.push_back({{"id", e.id}, {"createdAt", e.created_at}, {"message", e.message}});
  json out{{"serviceArn", s.arn}, {"serviceName", s.name}, {"clusterArn", s.cluster_arn},
           {"loadBalancers", s.load_balancers}, {"serviceRegistries", json::array()},
           {"status", s.status}, {"desiredCount", s.desired_count}, {"runningCount", running},
           {"pendingCount", pending}, {"launchType", s.launch_type},
           {"platformVersion", "LATEST"}, {"platformFamily", "Linux"},
           {"taskDefinition", s.task_definition},
           {"deploymentConfiguration",
            {{"deploymentCircuitBreaker",
              {{"enable", s.circuit_breaker_enable}, {"rollback", s.circuit_breaker_rollback}}},
             {"maximumPercent", s.maximum_percent},
             {"minimumHealthyPercent", s.minimum_healthy_percent}}},
           {"deployments", deployments}, {"events", events}, {"createdAt", s.created_at},
           {"placementConstraints", json::array()}, {"placementStrategy", json::array()},
           {"healthCheckGracePeriodSeconds", s.health_check_grace_period},
           {"schedulingStrategy", "REPLICA"}, {"deploymentController", {{"type", "ECS"}}},
           {"createdBy", std::string("arn:aws:iam::") + kAccount + ":root"},
           {"enableECSManagedTags", false}, {"propagateTags", "NONE"},
           {"enableExecuteCommand", false}};
  if (!s.network_configuration.is_null()) out["networkConfiguration"] = s.network_configuration;
  if (!s.service_deployments.empty()) {
    out["currentServiceDeployment"] = ServiceDeploymentArn(s, s.service_deployments.front().id);
  }
  return out;
}

ApiResult ControlPlane::DescribeServices(const json& r) {
  auto cluster = FindCluster(r);
  if (!cluster) return tl::unexpected(cluster.error());
  if (!r.contains("services") || !r["services"].is_array()) {
    return tl::unexpected(InvalidParameter("Services cannot be empty."));
  }
  const auto include = r.value("include", std::vector<std::string>{});
  const bool with_tags = std::find(include.begin(), include.end(), "TAGS") != include.end();
  json out{{"services", json::array()}, {"failures", json::array()}};
  for (const auto& ref : r["services"]) {
    Service* s = FindService(**cluster, ref.get<std::string>());
    if (s == nullptr) {
      out["failures"].push_back({{"arn", core_.Arn("ecs", "service/" + (*cluster)->name + "/" +
                                                              NameFromArn(ref.get<std::string>()))},
                                 {"reason", "MISSING"}});
    } else {
      out["services"].push_back(ServiceJson(*s));
      if (with_tags) {
        auto t = core_.state.tags.find(s->arn);
        out["services"].back()["tags"] = t == core_.state.tags.end() || !t->second.is_array() ? json::array() : t->second;
      }
    }
  }
  return out;
}

ApiResult ControlPlane::ListServices(const json& r) {
  auto cluster = FindCluster(r);
  if (!cluster) return tl::unexpected(cluster.error());
  json arns = json::array();
  for (const auto& [key, s] : core_.state.services) {
    if (s.cluster_arn == (*cluster)->arn && s.status == "ACTIVE") arns.push_back(s.arn);
  }
  return json{{"serviceArns", arns}};
}

ApiResult ControlPlane::ListTasks(const json& r) {
  auto cluster = FindCluster(r);
  if (!cluster) return tl::unexpected(cluster.error());
  std::string service = NameFromArn(r.value("serviceName", ""));
  if (!service.empty() && FindService(**cluster, service) == nullptr) {
    return tl::unexpected(ApiError{"ServiceNotFoundException", "Service not found.", 400});
  }
  std::string desired = r.value("desiredStatus", "RUNNING");
  std::string family = r.value("family", "");
  std::string started_by = r.value("startedBy", "");
  json arns = json::array();
  for (const auto& [id, t] : core_.state.tasks) {
    if (t.cluster_arn != (*cluster)->arn) continue;
    if (!service.empty() && t.service_name != service) continue;
    if (!started_by.empty() && t.started_by != started_by) continue;
    if (!family.empty() && NameFromArn(t.task_definition_arn).rfind(family + ":", 0) != 0) continue;
    if (t.desired_status != desired) continue;
    arns.push_back(t.arn);
  }
  return json{{"taskArns", arns}};
}

namespace {

// A stable UUID-shaped id for the task's network interface attachment.
std::string AttachmentId(const Task& t) {
  return t.id.substr(0, 8) + "-" + t.id.substr(8, 4) + "-" + t.id.substr(12, 4) + "-" + t.id.substr(16, 4) + "-" +
         t.id.substr(20, 12);
}

}  // namespace

json ControlPlane::TaskJson(const Task& t) const {
  json containers = json::array();
  for (const auto& c : t.containers) {
    json cj{{"containerArn", core_.Arn("ecs", "container/" + NameFromArn(t.cluster_arn) + "/" + t.id + "/" + c.name)},
            {"taskArn", t.arn}, {"name", c.name}, {"lastStatus", c.last_status},
            {"healthStatus", c.health_status}, {"networkInterfaces", json::array()},
            {"networkBindings", json::array()}};
    if (!t.ip.empty()) {
      cj["networkInterfaces"].push_back({{"attachmentId", AttachmentId(t)}, {"privateIpv4Address", t.ip}});
    }
    if (const json* td = FindTaskDefinition(t.task_definition_arn)) {
      for (const auto& def : (*td)["containerDefinitions"]) {
        if (def["name"] == c.name) cj["image"] = def["image"];
      }
    }
    if (c.host_port && t.ip.empty()) {
      cj["networkBindings"].push_back({{"bindIP", options_.listener_host}, {"containerPort", c.container_port},
                                       {"hostPort", c.host_port}, {"protocol", "tcp"}});
    }
    if (c.exit_code) cj["exitCode"] = *c.exit_code;
    if (!c.reason.empty()) cj["reason"] = c.reason;
    containers.push_back(cj);
  }
  json out{{"taskArn", t.arn}, {"clusterArn", t.cluster_arn},
           {"taskDefinitionArn", t.task_definition_arn}, {"group", t.group},
           {"lastStatus", t.last_status}, {"desiredStatus", t.desired_status},
           {"healthStatus", t.health_status}, {"containers", containers},
           {"launchType", "FARGATE"}, {"platformVersion", "1.4.0"}, {"platformFamily", "Linux"},
           {"availabilityZone", core_.region + "a"}, {"connectivity", "CONNECTED"},
           {"createdAt", t.created_at}, {"version", t.version}, {"attachments", json::array()},
           {"attributes", json::array()},
           {"overrides", t.overrides.is_object() ? t.overrides : json{{"containerOverrides", json::array()}}},
           {"tags", json::array()}};
  if (const json* td = FindTaskDefinition(t.task_definition_arn)) {
    if (td->contains("cpu")) out["cpu"] = (*td)["cpu"];
    if (td->contains("memory")) out["memory"] = (*td)["memory"];
  }
  if (!t.ip.empty()) {
    // awsvpc: the task's network interface, as ECS describes its ENI attachment.
    out["attachments"].push_back(
        {{"id", AttachmentId(t)}, {"type", "ElasticNetworkInterface"},
         {"status", t.last_status == "STOPPED" ? "DELETED" : "ATTACHED"},
         {"details", json::array({{{"name", "subnetId"}, {"value", "subnet-slipway-local"}},
                                  {{"name", "networkInterfaceId"}, {"value", "eni-" + t.id.substr(0, 17)}},
                                  {{"name", "privateIPv4Address"}, {"value", t.ip}}})}});
  }
  if (!t.started_by.empty()) out["startedBy"] = t.started_by;
  if (t.started_at > 0) out["startedAt"] = t.started_at;
  if (t.started_at > 0) out["connectivityAt"] = t.started_at;
  if (t.stopping_at > 0) out["stoppingAt"] = t.stopping_at;
  if (t.stopped_at > 0) {
    out["stoppedAt"] = t.stopped_at;
    out["executionStoppedAt"] = t.stopped_at;
  }
  if (!t.stopped_reason.empty()) out["stoppedReason"] = t.stopped_reason;
  if (!t.stop_code.empty()) out["stopCode"] = t.stop_code;
  return out;
}

ApiResult ControlPlane::DescribeTasks(const json& r) {
  auto cluster = FindCluster(r);
  if (!cluster) return tl::unexpected(cluster.error());
  if (!r.contains("tasks") || !r["tasks"].is_array()) {
    return tl::unexpected(InvalidParameter("Tasks cannot be empty."));
  }
  json out{{"tasks", json::array()}, {"failures", json::array()}};
  for (const auto& ref : r["tasks"]) {
    auto it = core_.state.tasks.find(NameFromArn(ref.get<std::string>()));
    if (it == core_.state.tasks.end() || it->second.cluster_arn != (*cluster)->arn) {
      out["failures"].push_back({{"arn", ref}, {"reason", "MISSING"}});
    } else {
      out["tasks"].push_back(TaskJson(it->second));
    }
  }
  return out;
}

ApiResult ControlPlane::StopTask(const json& r) {
  auto cluster = FindCluster(r);
  if (!cluster) return tl::unexpected(cluster.error());
  auto it = core_.state.tasks.find(NameFromArn(r.value("task", "")));
  if (it == core_.state.tasks.end() || it->second.cluster_arn != (*cluster)->arn) {
    return tl::unexpected(InvalidParameter("The referenced task was not found."));
  }
  Task& t = it->second;
  if (t.desired_status != "STOPPED") {
    BeginStop(t, r.value("reason", "Task stopped by user"), "UserInitiated");
  }
  return json{{"task", TaskJson(t)}};
}

ApiResult ControlPlane::RunTask(const json& r) {
  auto cluster = FindCluster(r);
  if (!cluster) return tl::unexpected(cluster.error());
  // A repeat of a RunTask whose reply was lost gets the tasks it started, not new ones.
  const std::string token = r.value("clientToken", "");
  if (!token.empty()) {
    json repeat{{"tasks", json::array()}, {"failures", json::array()}};
    for (const auto& [id, t] : core_.state.tasks) {
      if (t.client_token == token && t.cluster_arn == (*cluster)->arn) repeat["tasks"].push_back(TaskJson(t));
    }
    if (!repeat["tasks"].empty()) return repeat;
  }
  const json* td = FindTaskDefinition(r.value("taskDefinition", ""));
  if (td == nullptr) return tl::unexpected(InvalidParameter("TaskDefinition not found."));
  if (!Usable(*td)) return tl::unexpected(ClientError("TaskDefinition is inactive"));
  const int count = IntField(r, "count", 1);
  if (count < 1 || count > 10) return tl::unexpected(InvalidParameter("Count must be between 1 and 10."));
  if (auto room = CheckTaskLimit(nullptr, count, "RunTask count " + std::to_string(count)); !room) {
    return tl::unexpected(room.error());
  }
  json overrides = r.value("overrides", json::object());
  for (const auto& o : overrides.value("containerOverrides", json::array())) {
    bool known = false;
    for (const auto& def : (*td)["containerDefinitions"]) known = known || def["name"] == o.value("name", "");
    if (!known) {
      return tl::unexpected(InvalidParameter("Override for container named " + o.value("name", "") +
                                             " is not a container in the TaskDefinition."));
    }
  }
  const std::string family = (*td)["family"];
  json out{{"tasks", json::array()}, {"failures", json::array()}};
  for (int i = 0; i < count; ++i) {
    Task t;
    t.id = RandomHex(32);
    t.cluster_arn = (*cluster)->arn;
    t.arn = core_.Arn("ecs", "task/" + (*cluster)->name + "/" + t.id);
    t.task_definition_arn = (*td)["taskDefinitionArn"];
    t.group = r.value("group", "family:" + family);
    t.started_by = r.value("startedBy", "");
    t.client_token = token;
    t.overrides = overrides;
    if (!t.overrides.contains("containerOverrides")) t.overrides["containerOverrides"] = json::array();
    t.created_at = Now();
    out["tasks"].push_back(TaskJson(t));
    core_.Touch(ObjectKind::kTask, t.id);
    core_.state.tasks[t.id] = std::move(t);
  }
  return out;
}

tl::expected<std::string, ApiError> ControlPlane::CheckTaggable(const std::string& arn) const {
  if (arn.find(":task-definition/") != std::string::npos) {
    if (FindTaskDefinition(arn) == nullptr) {
      return tl::unexpected(InvalidParameter("The specified task definition does not exist."));
    }
    return arn;
  }
  for (const auto& [key, s] : core_.state.services) {
    if (s.arn == arn && s.status == "ACTIVE") return arn;
  }
  for (const auto& [name, c] : core_.state.clusters) {
    if (c.arn == arn) return arn;
  }
  return tl::unexpected(ApiError{"InvalidParameterException", "The specified resource could not be found.", 400});
}

tl::expected<json, ApiError> ControlPlane::MergeTags(json tags, const json& added) {
  if (!added.is_array()) return tl::unexpected(InvalidParameter("tags must be a list of {key, value}."));
  for (const auto& tag : added) {
    if (!tag.is_object()) return tl::unexpected(InvalidParameter("tags must be a list of {key, value}."));
    std::string key = tag.value("key", "");
    if (key.empty() || key.size() > 128) return tl::unexpected(InvalidParameter("Tag keys must be 1 to 128 characters."));
    if (tag.value("value", "").size() > 256) return tl::unexpected(InvalidParameter("Tag values must be at most 256 characters."));
    json kept = json::array();
    for (const auto& t : tags) {
      if (t.value("key", "") != key) kept.push_back(t);
    }
    tags = kept;
    tags.push_back({{"key", key}, {"value", tag.value("value", "")}});
  }
  if (tags.size() > 50) return tl::unexpected(InvalidParameter("A resource can have at most 50 tags."));
  return tags;
}

ApiResult ControlPlane::TagResource(const json& r) {
  auto arn = CheckTaggable(r.value("resourceArn", ""));
  if (!arn) return tl::unexpected(arn.error());
  // Built on a copy: a refused request changes nothing.
  auto existing = core_.state.tags.find(*arn);
  auto tags = MergeTags(existing != core_.state.tags.end() && existing->second.is_array() ? existing->second : json::array(),
                        r.value("tags", json::array()));
  if (!tags) return tl::unexpected(tags.error());
  core_.state.tags[*arn] = std::move(*tags);
  core_.Touch(ObjectKind::kTags, *arn);
  return json::object();
}

ApiResult ControlPlane::UntagResource(const json& r) {
  auto arn = CheckTaggable(r.value("resourceArn", ""));
  if (!arn) return tl::unexpected(arn.error());
  auto keys = r.value("tagKeys", std::vector<std::string>{});
  json& tags = core_.state.tags[*arn];
  if (!tags.is_array()) tags = json::array();
  json kept = json::array();
  for (const auto& t : tags) {
    if (std::find(keys.begin(), keys.end(), t.value("key", "")) == keys.end()) kept.push_back(t);
  }
  tags = kept;
  core_.Touch(ObjectKind::kTags, *arn);
  return json::object();
}

ApiResult ControlPlane::ListTagsForResource(const json& r) {
  auto arn = CheckTaggable(r.value("resourceArn", ""));
  if (!arn) return tl::unexpected(arn.error());
  auto it = core_.state.tags.find(*arn);
  return json{{"tags", it == core_.state.tags.end() || !it->second.is_array() ? json::array() : it->second}};
}

}  // namespace slipway::engine
