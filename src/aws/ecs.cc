// ECS requests built from arguments, and replies read defensively: a field that is missing or of
// another type reads as its default, so that no reply can throw.
#include "aws/ecs.h"

#include <limits>
#include <nlohmann/json.hpp>

#include "aws/aws_client.h"

namespace slipway::aws {

using nlohmann::json;

namespace {

/// A reply that pages on past this many pages is taken as looping, not as that large.
constexpr int kMaxPages = 1000;

const json* Field(const json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

std::string Text(const json& j, const char* key) {
  const json* v = Field(j, key);
  return v != nullptr && v->is_string() ? v->get<std::string>() : "";
}

std::optional<int> OptionalInt(const json& j, const char* key) {
  const json* v = Field(j, key);
  if (v == nullptr || !v->is_number_integer()) return std::nullopt;
  // Unsigned values above INT_MAX read as negative through a signed type: compare as unsigned.
  if (v->is_number_unsigned()) {
    const auto u = v->get<unsigned long long>();
    if (u > static_cast<unsigned long long>(std::numeric_limits<int>::max())) return std::nullopt;
    return static_cast<int>(u);
  }
  const auto n = v->get<long long>();
  if (n < std::numeric_limits<int>::min() || n > std::numeric_limits<int>::max()) return std::nullopt;
  return static_cast<int>(n);
}

int Int(const json& j, const char* key) { return OptionalInt(j, key).value_or(0); }

// ECS's JSON timestamps are epoch seconds, with a fraction.
double Seconds(const json& j, const char* key) {
  const json* v = Field(j, key);
  return v != nullptr && v->is_number() ? v->get<double>() : 0;
}

// The objects of the list `key`; other elements are skipped.
template <typename T>
std::vector<T> Objects(const json& j, const char* key, T (*read)(const json&)) {
  std::vector<T> out;
  const json* list = Field(j, key);
  if (list == nullptr || !list->is_array()) return out;
  for (const json& e : *list) {
    if (e.is_object()) out.push_back(read(e));
  }
  return out;
}

std::vector<std::string> Strings(const json& j, const char* key) {
  std::vector<std::string> out;
  const json* list = Field(j, key);
  if (list == nullptr || !list->is_array()) return out;
  for (const json& e : *list) {
    if (e.is_string()) out.push_back(e.get<std::string>());
  }
  return out;
}

Tag ReadTag(const json& j) { return {Text(j, "key"), Text(j, "value")}; }

EcsFailure ReadFailure(const json& j) { return {Text(j, "arn"), Text(j, "reason"), Text(j, "detail")}; }

Cluster ReadCluster(const json& j) { return {Text(j, "clusterArn"), Text(j, "clusterName"), Text(j, "status")}; }

Deployment ReadDeployment(const json& j) {
  return {Text(j, "id"),
          Text(j, "status"),
          Text(j, "taskDefinition"),
          Text(j, "rolloutState"),
          Text(j, "rolloutStateReason"),
          Int(j, "failedTasks"),
          Seconds(j, "createdAt")};
}

ServiceEvent ReadEvent(const json& j) { return {Text(j, "id"), Text(j, "message"), Seconds(j, "createdAt")}; }

Service ReadService(const json& j) {
  Service s;
  s.arn = Text(j, "serviceArn");
  s.name = Text(j, "serviceName");
  s.status = Text(j, "status");
  s.task_definition = Text(j, "taskDefinition");
  s.desired_count = Int(j, "desiredCount");
  s.running_count = Int(j, "runningCount");
  s.pending_count = Int(j, "pendingCount");
  s.current_service_deployment = Text(j, "currentServiceDeployment");
  s.deployments = Objects(j, "deployments", ReadDeployment);
  s.events = Objects(j, "events", ReadEvent);
  s.tags = Objects(j, "tags", ReadTag);
  s.document = std::make_shared<const json>(j.is_object() ? j : json::object());
  return s;
}

// The service of a CreateService or UpdateService reply; its defaults when the reply has none.
Service ServiceOf(const json& reply) {
  const json* s = Field(reply, "service");
  return ReadService(s != nullptr ? *s : json::object());
}

TaskDefinition ReadTaskDefinition(const json& j) {
  TaskDefinition td;
  td.arn = Text(j, "taskDefinitionArn");
  td.family = Text(j, "family");
  td.revision = Int(j, "revision");
  td.status = Text(j, "status");
  td.registered_at = Seconds(j, "registeredAt");
  if (const json* defs = Field(j, "containerDefinitions"); defs != nullptr && defs->is_array()) {
    for (const json& def : *defs) {
      if (def.is_object()) td.images.push_back(Text(def, "image"));
    }
  }
  td.document = std::make_shared<const json>(j.is_object() ? j : json::object());
  return td;
}

// The revision of a reply's `taskDefinition`, with the reply's tags.
TaskDefinition TaskDefinitionOf(const json& reply) {
  const json* td = Field(reply, "taskDefinition");
  TaskDefinition out = ReadTaskDefinition(td != nullptr ? *td : json::object());
  out.tags = Objects(reply, "tags", ReadTag);
  return out;
}

NetworkBinding ReadBinding(const json& j) { return {Int(j, "containerPort"), Int(j, "hostPort")}; }

TaskContainer ReadContainer(const json& j) {
  return {Text(j, "name"), Text(j, "lastStatus"), OptionalInt(j, "exitCode"), Text(j, "reason"),
          Objects(j, "networkBindings", ReadBinding)};
}

Task ReadTask(const json& j) {
  Task t;
  t.arn = Text(j, "taskArn");
  t.task_definition_arn = Text(j, "taskDefinitionArn");
  t.last_status = Text(j, "lastStatus");
  t.desired_status = Text(j, "desiredStatus");
  t.health_status = Text(j, "healthStatus");
  t.stopped_reason = Text(j, "stoppedReason");
  t.stop_code = Text(j, "stopCode");
  t.started_by = Text(j, "startedBy");
  t.created_at = Seconds(j, "createdAt");
  t.started_at = Seconds(j, "startedAt");
  t.stopped_at = Seconds(j, "stoppedAt");
  t.containers = Objects(j, "containers", ReadContainer);
  return t;
}

Tasks ReadTasks(const json& reply) { return {Objects(reply, "tasks", ReadTask), Objects(reply, "failures", ReadFailure)}; }

ServiceDeployment ReadServiceDeployment(const json& j) {
  return {Text(j, "serviceDeploymentArn"), Text(j, "status"), Text(j, "statusReason")};
}

json TagList(const std::vector<Tag>& tags) {
  json out = json::array();
  for (const Tag& t : tags) out.push_back({{"key", t.key}, {"value", t.value}});
  return out;
}

Error UnexpectedReply(const std::string& op, const std::string& what) {
  return Error{"ecs " + op + ": unexpected reply: " + what, ""};
}

}  // namespace

Result<json> Ecs::Call(const std::string& op, const json& body) {
  try {
    auto r = client_.Json(kEcs, op, body);
    if (!r) return tl::unexpected(r.error());
    if (!r->is_object()) return tl::unexpected(UnexpectedReply(op, "not a JSON object"));
    return r;
  } catch (const json::exception& e) {
    // Serialising a request whose text is not UTF-8 throws: it is refused here, never sent.
    return Fail("ecs " + op + ": cannot send the request: " + e.what());
  }
}

Result<std::vector<Cluster>> Ecs::DescribeClusters(const std::vector<std::string>& clusters) {
  auto r = Call("DescribeClusters", {{"clusters", clusters}});
  if (!r) return tl::unexpected(r.error());
  return Objects(*r, "clusters", ReadCluster);
}

Result<Cluster> Ecs::CreateCluster(const std::string& name) {
  auto r = Call("CreateCluster", {{"clusterName", name}});
  if (!r) return tl::unexpected(r.error());
  const json* c = Field(*r, "cluster");
  return ReadCluster(c != nullptr ? *c : json::object());
}

Result<Services> Ecs::DescribeServices(const std::string& cluster, const std::vector<std::string>& services,
                                       bool with_tags) {
  json body{{"cluster", cluster}, {"services", services}};
  if (with_tags) body["include"] = json::array({"TAGS"});
  auto r = Call("DescribeServices", body);
  if (!r) return tl::unexpected(r.error());
  return Services{Objects(*r, "services", ReadService), Objects(*r, "failures", ReadFailure)};
}

Result<Service> Ecs::CreateService(const json& input, const std::string& client_token) {
  if (!input.is_object()) return Fail("ecs CreateService: the input is not a JSON object");
  json body = input;
  if (!client_token.empty()) body["clientToken"] = client_token;
  auto r = Call("CreateService", body);
  if (!r) return tl::unexpected(r.error());
  return ServiceOf(*r);
}

Result<Service> Ecs::UpdateServiceWith(const json& input) {
  if (!input.is_object()) return Fail("ecs UpdateService: the input is not a JSON object");
  auto r = Call("UpdateService", input);
  if (!r) return tl::unexpected(r.error());
  return ServiceOf(*r);
}

Result<Service> Ecs::UpdateService(const ServiceUpdate& update) {
  json body{{"cluster", update.cluster}, {"service", update.service}};
  if (!update.task_definition.empty()) body["taskDefinition"] = update.task_definition;
  if (update.desired_count) body["desiredCount"] = *update.desired_count;
  if (update.force_new_deployment) body["forceNewDeployment"] = true;
  return UpdateServiceWith(body);
}

Result<ServiceDeployments> Ecs::DescribeServiceDeployments(const std::vector<std::string>& arns) {
  auto r = Call("DescribeServiceDeployments", {{"serviceDeploymentArns", arns}});
  if (!r) return tl::unexpected(r.error());
  return ServiceDeployments{Objects(*r, "serviceDeployments", ReadServiceDeployment),
                            Objects(*r, "failures", ReadFailure)};
}

Result<TaskDefinition> Ecs::DescribeTaskDefinition(const std::string& task_definition, bool with_tags) {
  json body{{"taskDefinition", task_definition}};
  if (with_tags) body["include"] = json::array({"TAGS"});
  auto r = Call("DescribeTaskDefinition", body);
  if (!r) return tl::unexpected(r.error());
  return TaskDefinitionOf(*r);
}

Result<TaskDefinition> Ecs::RegisterTaskDefinition(const json& document) {
  if (!document.is_object()) return Fail("ecs RegisterTaskDefinition: the task definition is not a JSON object");
  auto r = Call("RegisterTaskDefinition", document);
  if (!r) return tl::unexpected(r.error());
  TaskDefinition td = TaskDefinitionOf(*r);
  // Everything after registration names the revision by its ARN.
  if (td.arn.empty()) return tl::unexpected(UnexpectedReply("RegisterTaskDefinition", "no taskDefinitionArn"));
  return td;
}

Result<std::vector<std::string>> Ecs::ListTaskDefinitions(const TaskDefinitionQuery& query) {
  json body = json::object();
  if (!query.family_prefix.empty()) body["familyPrefix"] = query.family_prefix;
  if (!query.sort.empty()) body["sort"] = query.sort;
  if (!query.status.empty()) body["status"] = query.status;
  std::vector<std::string> out;
  for (int page = 0; page < kMaxPages; ++page) {
    auto r = Call("ListTaskDefinitions", body);
    if (!r) return tl::unexpected(r.error());
    for (auto& arn : Strings(*r, "taskDefinitionArns")) out.push_back(std::move(arn));
    const std::string next = Text(*r, "nextToken");
    if (next.empty()) return out;
    body["nextToken"] = next;
  }
  return tl::unexpected(UnexpectedReply("ListTaskDefinitions", "more than " + std::to_string(kMaxPages) + " pages"));
}

Result<TaskDefinition> Ecs::DeregisterTaskDefinition(const std::string& task_definition) {
  auto r = Call("DeregisterTaskDefinition", {{"taskDefinition", task_definition}});
  if (!r) return tl::unexpected(r.error());
  return TaskDefinitionOf(*r);
}

Result<DeletedTaskDefinitions> Ecs::DeleteTaskDefinitions(const std::vector<std::string>& arns) {
  auto r = Call("DeleteTaskDefinitions", {{"taskDefinitions", arns}});
  if (!r) return tl::unexpected(r.error());
  DeletedTaskDefinitions out;
  for (const TaskDefinition& td : Objects(*r, "taskDefinitions", ReadTaskDefinition)) out.arns.push_back(td.arn);
  out.failures = Objects(*r, "failures", ReadFailure);
  return out;
}

Result<std::vector<std::string>> Ecs::ListTasks(const TaskQuery& query) {
  json body{{"cluster", query.cluster}};
  if (!query.service_name.empty()) body["serviceName"] = query.service_name;
  if (!query.started_by.empty()) body["startedBy"] = query.started_by;
  if (!query.desired_status.empty()) body["desiredStatus"] = query.desired_status;
  std::vector<std::string> out;
  for (int page = 0; page < kMaxPages; ++page) {
    auto r = Call("ListTasks", body);
    if (!r) return tl::unexpected(r.error());
    for (auto& arn : Strings(*r, "taskArns")) out.push_back(std::move(arn));
    const std::string next = Text(*r, "nextToken");
    if (next.empty()) return out;
    body["nextToken"] = next;
  }
  return tl::unexpected(UnexpectedReply("ListTasks", "more than " + std::to_string(kMaxPages) + " pages"));
}

Result<Tasks> Ecs::DescribeTasks(const std::string& cluster, const std::vector<std::string>& tasks) {
  auto r = Call("DescribeTasks", {{"cluster", cluster}, {"tasks", tasks}});
  if (!r) return tl::unexpected(r.error());
  return ReadTasks(*r);
}

Result<Tasks> Ecs::RunTask(const TaskRun& run, const json& network_configuration) {
  json body{{"cluster", run.cluster}, {"taskDefinition", run.task_definition}, {"count", 1}};
  if (!run.launch_type.empty()) body["launchType"] = run.launch_type;
  if (!run.started_by.empty()) body["startedBy"] = run.started_by;
  if (!run.client_token.empty()) body["clientToken"] = run.client_token;
  if (!run.container.empty()) {
    body["overrides"] = {{"containerOverrides", json::array({{{"name", run.container}, {"command", run.command}}})}};
  }
  if (!network_configuration.is_null()) body["networkConfiguration"] = network_configuration;
  auto r = Call("RunTask", body);
  if (!r) return tl::unexpected(r.error());
  return ReadTasks(*r);
}

Result<Task> Ecs::StopTask(const std::string& cluster, const std::string& task, const std::string& reason) {
  auto r = Call("StopTask", {{"cluster", cluster}, {"task", task}, {"reason", reason}});
  if (!r) return tl::unexpected(r.error());
  const json* t = Field(*r, "task");
  return ReadTask(t != nullptr ? *t : json::object());
}

Result<void> Ecs::TagResource(const std::string& arn, const std::vector<Tag>& tags) {
  auto r = Call("TagResource", {{"resourceArn", arn}, {"tags", TagList(tags)}});
  if (!r) return tl::unexpected(r.error());
  return {};
}

Result<void> Ecs::UntagResource(const std::string& arn, const std::vector<std::string>& keys) {
  auto r = Call("UntagResource", {{"resourceArn", arn}, {"tagKeys", keys}});
  if (!r) return tl::unexpected(r.error());
  return {};
}

Result<std::vector<Tag>> Ecs::ListTagsForResource(const std::string& arn) {
  auto r = Call("ListTagsForResource", {{"resourceArn", arn}});
  if (!r) return tl::unexpected(r.error());
  return Objects(*r, "tags", ReadTag);
}

}  // namespace slipway::aws
