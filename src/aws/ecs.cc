// ECS requests built from arguments, and replies read through ReplyReader: a missing field reads
// as its default, a field of another type is the call's error, and no reply can throw.
#include "aws/ecs.h"

#include <nlohmann/json.hpp>

#include "aws/aws_client.h"
#include "aws/json_reply.h"

namespace slipway::aws {

using nlohmann::json;

namespace {

Tag ReadTag(ReplyReader& read, const json& j) { return {read.String(j, "key"), read.String(j, "value")}; }

EcsFailure ReadFailure(ReplyReader& read, const json& j) {
  return {read.String(j, "arn"), read.String(j, "reason"), read.String(j, "detail")};
}

Cluster ReadCluster(ReplyReader& read, const json& j) {
  return {read.String(j, "clusterArn"), read.String(j, "clusterName"), read.String(j, "status")};
}

// ECS's JSON timestamps are epoch seconds, with a fraction: read as Number.
Deployment ReadDeployment(ReplyReader& read, const json& j) {
  return {read.String(j, "id"),
          read.String(j, "status"),
          read.String(j, "taskDefinition"),
          read.String(j, "rolloutState"),
          read.String(j, "rolloutStateReason"),
          read.Int32(j, "failedTasks"),
          read.Number(j, "createdAt"),
          read.Int32(j, "desiredCount"),
          read.Int32(j, "runningCount"),
          read.Int32(j, "pendingCount")};
}

ServiceEvent ReadEvent(ReplyReader& read, const json& j) {
  return {read.String(j, "id"), read.String(j, "message"), read.Number(j, "createdAt")};
}

// `j` is an object: the reader hands out only objects.
Service ReadService(ReplyReader& read, const json& j) {
  Service s;
  s.arn = read.String(j, "serviceArn");
  s.name = read.String(j, "serviceName");
  s.status = read.String(j, "status");
  s.task_definition = read.String(j, "taskDefinition");
  s.desired_count = read.Int32(j, "desiredCount");
  s.running_count = read.Int32(j, "runningCount");
  s.pending_count = read.Int32(j, "pendingCount");
  s.current_service_deployment = read.String(j, "currentServiceDeployment");
  s.deployments = read.Objects(j, "deployments", ReadDeployment);
  s.events = read.Objects(j, "events", ReadEvent);
  s.tags = read.Objects(j, "tags", ReadTag);
  for (const std::string& arn :
       read.Objects(j, "loadBalancers", [](ReplyReader& r, const json& lb) { return r.String(lb, "targetGroupArn"); })) {
    if (!arn.empty()) s.target_group_arns.push_back(arn);
  }
  s.document = std::make_shared<const json>(j);
  return s;
}

// The service of a CreateService or UpdateService reply; its defaults when the reply has none.
Service ServiceOf(ReplyReader& read, const json& reply) {
  return ReadService(read, read.Object(reply, "service"));
}

std::string ReadImage(ReplyReader& read, const json& container) { return read.String(container, "image"); }

TaskDefinition ReadTaskDefinition(ReplyReader& read, const json& j) {
  TaskDefinition td;
  td.arn = read.String(j, "taskDefinitionArn");
  td.family = read.String(j, "family");
  td.revision = read.Int32(j, "revision");
  td.status = read.String(j, "status");
  td.registered_at = read.Number(j, "registeredAt");
  td.images = read.Objects(j, "containerDefinitions", ReadImage);
  td.document = std::make_shared<const json>(j);
  return td;
}

// The revision of a reply's `taskDefinition`, with the reply's tags.
TaskDefinition TaskDefinitionOf(ReplyReader& read, const json& reply) {
  TaskDefinition out = ReadTaskDefinition(read, read.Object(reply, "taskDefinition"));
  out.tags = read.Objects(reply, "tags", ReadTag);
  return out;
}

NetworkBinding ReadBinding(ReplyReader& read, const json& j) {
  return {read.Int32(j, "containerPort"), read.Int32(j, "hostPort")};
}

TaskContainer ReadContainer(ReplyReader& read, const json& j) {
  return {read.String(j, "name"), read.String(j, "lastStatus"), read.OptionalInt32(j, "exitCode"),
          read.String(j, "reason"), read.Objects(j, "networkBindings", ReadBinding)};
}

Task ReadTask(ReplyReader& read, const json& j) {
  Task t;
  t.arn = read.String(j, "taskArn");
  t.task_definition_arn = read.String(j, "taskDefinitionArn");
  t.last_status = read.String(j, "lastStatus");
  t.desired_status = read.String(j, "desiredStatus");
  t.health_status = read.String(j, "healthStatus");
  t.stopped_reason = read.String(j, "stoppedReason");
  t.stop_code = read.String(j, "stopCode");
  t.started_by = read.String(j, "startedBy");
  t.created_at = read.Number(j, "createdAt");
  t.started_at = read.Number(j, "startedAt");
  t.stopped_at = read.Number(j, "stoppedAt");
  t.containers = read.Objects(j, "containers", ReadContainer);
  return t;
}

Tasks ReadTasks(ReplyReader& read, const json& reply) {
  return {read.Objects(reply, "tasks", ReadTask), read.Objects(reply, "failures", ReadFailure)};
}

ServiceDeployment ReadServiceDeployment(ReplyReader& read, const json& j) {
  return {read.String(j, "serviceDeploymentArn"), read.String(j, "status"), read.String(j, "statusReason")};
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
  ReplyReader read("ecs DescribeClusters");
  return read.Finish(read.Objects(*r, "clusters", ReadCluster));
}

Result<Cluster> Ecs::CreateCluster(const std::string& name) {
  auto r = Call("CreateCluster", {{"clusterName", name}});
  if (!r) return tl::unexpected(r.error());
  ReplyReader read("ecs CreateCluster");
  return read.Finish(ReadCluster(read, read.Object(*r, "cluster")));
}

Result<Services> Ecs::DescribeServices(const std::string& cluster, const std::vector<std::string>& services,
                                       bool with_tags) {
  json body{{"cluster", cluster}, {"services", services}};
  if (with_tags) body["include"] = json::array({"TAGS"});
  auto r = Call("DescribeServices", body);
  if (!r) return tl::unexpected(r.error());
  ReplyReader read("ecs DescribeServices");
  return read.Finish(Services{read.Objects(*r, "services", ReadService), read.Objects(*r, "failures", ReadFailure)});
}

Result<Service> Ecs::CreateService(const json& input, const std::string& client_token) {
  if (!input.is_object()) return Fail("ecs CreateService: the input is not a JSON object");
  json body = input;
  if (!client_token.empty()) body["clientToken"] = client_token;
  auto r = Call("CreateService", body);
  if (!r) return tl::unexpected(r.error());
  ReplyReader read("ecs CreateService");
  return read.Finish(ServiceOf(read, *r));
}

Result<Service> Ecs::UpdateServiceWith(const json& input) {
  if (!input.is_object()) return Fail("ecs UpdateService: the input is not a JSON object");
  auto r = Call("UpdateService", input);
  if (!r) return tl::unexpected(r.error());
  ReplyReader read("ecs UpdateService");
  return read.Finish(ServiceOf(read, *r));
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
  ReplyReader read("ecs DescribeServiceDeployments");
  return read.Finish(ServiceDeployments{read.Objects(*r, "serviceDeployments", ReadServiceDeployment),
                                        read.Objects(*r, "failures", ReadFailure)});
}

Result<TaskDefinition> Ecs::DescribeTaskDefinition(const std::string& task_definition, bool with_tags) {
  json body{{"taskDefinition", task_definition}};
  if (with_tags) body["include"] = json::array({"TAGS"});
  auto r = Call("DescribeTaskDefinition", body);
  if (!r) return tl::unexpected(r.error());
  ReplyReader read("ecs DescribeTaskDefinition");
  return read.Finish(TaskDefinitionOf(read, *r));
}

Result<TaskDefinition> Ecs::RegisterTaskDefinition(const json& document) {
  if (!document.is_object()) return Fail("ecs RegisterTaskDefinition: the task definition is not a JSON object");
  auto r = Call("RegisterTaskDefinition", document);
  if (!r) return tl::unexpected(r.error());
  ReplyReader read("ecs RegisterTaskDefinition");
  TaskDefinition td = TaskDefinitionOf(read, *r);
  if (!read.ok()) return tl::unexpected(read.error());
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
  auto read = ReadJsonPages(
      "ecs ListTaskDefinitions", body, [&](const json& page) { return Call("ListTaskDefinitions", page); },
      [&](ReplyReader& reader, const json& reply) {
        for (auto& arn : reader.Strings(reply, "taskDefinitionArns")) out.push_back(std::move(arn));
      });
  if (!read) return tl::unexpected(read.error());
  return out;
}

Result<TaskDefinition> Ecs::DeregisterTaskDefinition(const std::string& task_definition) {
  auto r = Call("DeregisterTaskDefinition", {{"taskDefinition", task_definition}});
  if (!r) return tl::unexpected(r.error());
  ReplyReader read("ecs DeregisterTaskDefinition");
  return read.Finish(TaskDefinitionOf(read, *r));
}

Result<DeletedTaskDefinitions> Ecs::DeleteTaskDefinitions(const std::vector<std::string>& arns) {
  auto r = Call("DeleteTaskDefinitions", {{"taskDefinitions", arns}});
  if (!r) return tl::unexpected(r.error());
  ReplyReader read("ecs DeleteTaskDefinitions");
  DeletedTaskDefinitions out;
  for (const TaskDefinition& td : read.Objects(*r, "taskDefinitions", ReadTaskDefinition)) out.arns.push_back(td.arn);
  out.failures = read.Objects(*r, "failures", ReadFailure);
  return read.Finish(std::move(out));
}

Result<std::vector<std::string>> Ecs::ListTasks(const TaskQuery& query) {
  json body{{"cluster", query.cluster}};
  if (!query.service_name.empty()) body["serviceName"] = query.service_name;
  if (!query.started_by.empty()) body["startedBy"] = query.started_by;
  if (!query.desired_status.empty()) body["desiredStatus"] = query.desired_status;
  std::vector<std::string> out;
  auto read = ReadJsonPages(
      "ecs ListTasks", body, [&](const json& page) { return Call("ListTasks", page); },
      [&](ReplyReader& reader, const json& reply) {
        for (auto& arn : reader.Strings(reply, "taskArns")) out.push_back(std::move(arn));
      });
  if (!read) return tl::unexpected(read.error());
  return out;
}

Result<Tasks> Ecs::DescribeTasks(const std::string& cluster, const std::vector<std::string>& tasks) {
  auto r = Call("DescribeTasks", {{"cluster", cluster}, {"tasks", tasks}});
  if (!r) return tl::unexpected(r.error());
  ReplyReader read("ecs DescribeTasks");
  return read.Finish(ReadTasks(read, *r));
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
  ReplyReader read("ecs RunTask");
  return read.Finish(ReadTasks(read, *r));
}

Result<Task> Ecs::StopTask(const std::string& cluster, const std::string& task, const std::string& reason) {
  auto r = Call("StopTask", {{"cluster", cluster}, {"task", task}, {"reason", reason}});
  if (!r) return tl::unexpected(r.error());
  ReplyReader read("ecs StopTask");
  return read.Finish(ReadTask(read, read.Object(*r, "task")));
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
  ReplyReader read("ecs ListTagsForResource");
  return read.Finish(read.Objects(*r, "tags", ReadTag));
}

}  // namespace slipway::aws
