// A typed thin client for the ECS operations slipway calls: requests from plain arguments,
// replies read into small structs with only the fields slipway reads.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/result.h"

namespace slipway::aws {

class AwsClient;

/// A resource tag.
struct Tag {
  std::string key;    ///< e.g. "slipway:lock"
  std::string value;  ///< "" when ECS shows none
};

/// Why ECS did not act on (or describe) one of the objects asked about.
struct EcsFailure {
  std::string arn;     ///< the object's ARN, or the name asked for
  std::string reason;  ///< e.g. "MISSING"
  std::string detail;  ///< "" when ECS gives none
};

/// A cluster as DescribeClusters and CreateCluster show it.
struct Cluster {
  std::string arn;     ///< clusterArn
  std::string name;    ///< clusterName
  std::string status;  ///< ACTIVE, PROVISIONING, DEPROVISIONING, FAILED or INACTIVE
};

/// One deployment of a service (ECS's `deployments[]`), newest first on the service.
struct Deployment {
  std::string id;                    ///< "ecs-svc/…"
  std::string status;                ///< PRIMARY, ACTIVE or INACTIVE
  std::string task_definition;       ///< the revision's ARN
  std::string rollout_state;         ///< IN_PROGRESS, COMPLETED or FAILED; "" when not shown
  std::string rollout_state_reason;  ///< ECS's words for the rollout state
  int failed_tasks = 0;              ///< tasks that failed to start in this deployment
  double created_at = 0;             ///< epoch seconds; 0 when not shown
  int desired_count = 0;             ///< the tasks this deployment wants
  int running_count = 0;             ///< its tasks that run
  int pending_count = 0;             ///< its tasks that are starting
};

/// One service event, e.g. "(service web) has reached a steady state."
struct ServiceEvent {
  std::string id;
  std::string message;
  double created_at = 0;  ///< epoch seconds; 0 when not shown
};

/// A service as DescribeServices, CreateService and UpdateService show it.
struct Service {
  std::string arn;              ///< serviceArn
  std::string name;             ///< serviceName
  std::string status;           ///< ACTIVE, DRAINING or INACTIVE
  std::string task_definition;  ///< the revision the service runs (its PRIMARY deployment's)
  int desired_count = 0;
  int running_count = 0;
  int pending_count = 0;
  /// The service deployment its last change began (ServiceDeployments API); "" when not shown.
  std::string current_service_deployment;
  std::vector<Deployment> deployments;  ///< newest (PRIMARY) first
  std::vector<ServiceEvent> events;     ///< newest first
  std::vector<Tag> tags;                ///< only when described with tags
  /// The target groups of its loadBalancers[], in order; empty when it has none.
  std::vector<std::string> target_group_arns;
  /// The service as ECS described it (a JSON object, never null): `slipway plan` compares its
  /// settings with the CreateService and UpdateService input slipway renders.
  std::shared_ptr<const nlohmann::json> document;
};

/// DescribeServices' answer: the services found, and why the others were not.
struct Services {
  std::vector<Service> services;
  std::vector<EcsFailure> failures;
};

/// What UpdateService changes on an existing service; unset fields are left as they are.
struct ServiceUpdate {
  std::string cluster;
  std::string service;          ///< name or ARN
  std::string task_definition;  ///< "" keeps the current revision
  std::optional<int> desired_count;
  bool force_new_deployment = false;
};

/// A task-definition revision as DescribeTaskDefinition, RegisterTaskDefinition and
/// DeregisterTaskDefinition show it.
struct TaskDefinition {
  std::string arn;                  ///< taskDefinitionArn
  std::string family;
  int revision = 0;
  std::string status;               ///< ACTIVE, INACTIVE or DELETE_IN_PROGRESS; "" when not shown
  double registered_at = 0;         ///< epoch seconds; 0 when not shown
  std::vector<std::string> images;  ///< each container definition's image, in order
  std::vector<Tag> tags;            ///< only when described with tags (or registered with some)
  /// The `taskDefinition` document as ECS returned it (a JSON object, never null; empty when the
  /// reply had none): the container definitions slipway rendered, read as ECS keeps them.
  std::shared_ptr<const nlohmann::json> document;
};

/// Which task-definition revisions ListTaskDefinitions lists.
struct TaskDefinitionQuery {
  std::string family_prefix;  ///< "" lists every family
  std::string status;         ///< ACTIVE, INACTIVE or DELETE_IN_PROGRESS; "" is ECS's default
  std::string sort;           ///< ASC or DESC; "" is ECS's default
};

/// DeleteTaskDefinitions' answer.
struct DeletedTaskDefinitions {
  std::vector<std::string> arns;  ///< the revisions now being deleted
  std::vector<EcsFailure> failures;  ///< the revisions that were not, and why
};

/// A port a container listens on and where the task exposes it.
struct NetworkBinding {
  int container_port = 0;
  int host_port = 0;  ///< 0 when not shown
};

/// A container of a task, as DescribeTasks shows it.
struct TaskContainer {
  std::string name;
  std::string last_status;
  std::optional<int> exit_code;  ///< set once the container has exited
  std::string reason;            ///< e.g. "OutOfMemoryError: Container killed due to memory usage"
  std::vector<NetworkBinding> network_bindings;
};

/// A task as DescribeTasks, RunTask and StopTask show it.
struct Task {
  std::string arn;                  ///< taskArn
  std::string task_definition_arn;
  std::string last_status;          ///< PROVISIONING … RUNNING … STOPPED
  std::string desired_status;       ///< RUNNING or STOPPED
  std::string health_status;        ///< HEALTHY, UNHEALTHY or UNKNOWN; "" when not shown
  std::string stopped_reason;
  std::string stop_code;            ///< e.g. "EssentialContainerExited"
  std::string started_by;
  double created_at = 0;            ///< epoch seconds; 0 when not shown
  double started_at = 0;            ///< epoch seconds; 0 when not started
  double stopped_at = 0;            ///< epoch seconds; 0 when not stopped
  std::vector<TaskContainer> containers;
};

/// DescribeTasks' and RunTask's answer: the tasks, and why the others were not described (started).
struct Tasks {
  std::vector<Task> tasks;
  std::vector<EcsFailure> failures;
};

/// Which tasks ListTasks lists.
struct TaskQuery {
  std::string cluster;
  std::string service_name;    ///< "" for any service (or none)
  std::string started_by;      ///< "" for any starter
  std::string desired_status;  ///< RUNNING or STOPPED; "" is ECS's default (RUNNING)
};

/// A one-off task to run (RunTask), with one container's command overridden.
struct TaskRun {
  std::string cluster;
  std::string task_definition;
  std::string launch_type = "FARGATE";
  std::string started_by;
  /// Makes the call safe to repeat: ECS starts the task once per token. "" sends none.
  std::string client_token;
  std::string container;              ///< the container whose command is overridden; "" for none
  std::vector<std::string> command;   ///< its command
};

/// A service deployment as DescribeServiceDeployments shows it.
struct ServiceDeployment {
  std::string arn;            ///< serviceDeploymentArn
  std::string status;         ///< PENDING, SUCCESSFUL, STOPPED, STOP_REQUESTED, IN_PROGRESS, ROLLBACK_…
  std::string status_reason;  ///< ECS's words for the status; "" when not shown
};

/// DescribeServiceDeployments' answer.
struct ServiceDeployments {
  std::vector<ServiceDeployment> service_deployments;
  std::vector<EcsFailure> failures;
};

/// The ECS operations slipway calls, over an AwsClient (which signs, retries and waits for the
/// endpoint). Errors are the client's ("ecs <Op>: <Code>: <message>", with the code, and
/// kEndpointUnreachable or kOutcomeUnknown when no reply came), or "ecs <Op>: unexpected reply:
/// …" for a reply that is not a JSON object, lacks what the operation must return, or has a field
/// of the wrong type (ReplyReader). A missing or null field gives its default. Never throws.
class Ecs {
 public:
  /// Sends every call through `client`, which must outlive this.
  explicit Ecs(AwsClient& client) : client_(client) {}

  /// The clusters named (by name or ARN) that exist; missing ones are left out.
  [[nodiscard]] Result<std::vector<Cluster>> DescribeClusters(const std::vector<std::string>& clusters);
  /// Creates the cluster `name` (ECS answers a repeat with the existing one).
  [[nodiscard]] Result<Cluster> CreateCluster(const std::string& name);

  /// The services of `cluster` named (by name or ARN); with `with_tags`, their tags too. Fails
  /// with code ClusterNotFoundException when the cluster does not exist.
  [[nodiscard]] Result<Services> DescribeServices(const std::string& cluster,
                                                  const std::vector<std::string>& services,
                                                  bool with_tags = false);
  /// CreateService with `input` (the request slipway renders, deploy/service_request.h) and
  /// `client_token`, which makes it safe to send again when its reply is lost ("": none).
  [[nodiscard]] Result<Service> CreateService(const nlohmann::json& input, const std::string& client_token);
  /// UpdateService with `input`, the request slipway renders (deploy/service_request.h).
  [[nodiscard]] Result<Service> UpdateServiceWith(const nlohmann::json& input);
  /// UpdateService with the few settings of `update`.
  [[nodiscard]] Result<Service> UpdateService(const ServiceUpdate& update);
  /// The service deployments named by ARN.
  [[nodiscard]] Result<ServiceDeployments> DescribeServiceDeployments(const std::vector<std::string>& arns);

  /// A revision (ARN, or "family[:revision]"); with `with_tags`, its tags too.
  [[nodiscard]] Result<TaskDefinition> DescribeTaskDefinition(const std::string& task_definition,
                                                              bool with_tags = false);
  /// Registers `document` (RegisterTaskDefinition input: a rendered definition, tags included) as
  /// a new revision of its family.
  [[nodiscard]] Result<TaskDefinition> RegisterTaskDefinition(const nlohmann::json& document);
  /// Every revision ARN that `query` matches, over all pages, in ECS's order.
  [[nodiscard]] Result<std::vector<std::string>> ListTaskDefinitions(const TaskDefinitionQuery& query);
  /// Marks a revision INACTIVE: nothing new starts from it.
  [[nodiscard]] Result<TaskDefinition> DeregisterTaskDefinition(const std::string& task_definition);
  /// Deletes INACTIVE revisions (ECS takes at most 10 at once).
  [[nodiscard]] Result<DeletedTaskDefinitions> DeleteTaskDefinitions(const std::vector<std::string>& arns);

  /// Every task ARN that `query` matches, over all pages. Fails with code
  /// ClusterNotFoundException when the cluster does not exist.
  [[nodiscard]] Result<std::vector<std::string>> ListTasks(const TaskQuery& query);
  /// The tasks of `cluster` named by ARN or id (ECS takes at most 100 at once).
  [[nodiscard]] Result<Tasks> DescribeTasks(const std::string& cluster, const std::vector<std::string>& tasks);
  /// Starts one task of `run` on Fargate, with `network_configuration` (ECS's
  /// networkConfiguration object; null sends none). Tasks that could not start are failures.
  [[nodiscard]] Result<Tasks> RunTask(const TaskRun& run, const nlohmann::json& network_configuration);
  /// Stops `task` of `cluster`, recording `reason` as its stopped reason.
  [[nodiscard]] Result<Task> StopTask(const std::string& cluster, const std::string& task, const std::string& reason);

  /// Adds `tags` to the resource, replacing the values of keys it has.
  [[nodiscard]] Result<void> TagResource(const std::string& arn, const std::vector<Tag>& tags);
  /// Removes the tags with `keys` from the resource.
  [[nodiscard]] Result<void> UntagResource(const std::string& arn, const std::vector<std::string>& keys);
  /// The resource's tags.
  [[nodiscard]] Result<std::vector<Tag>> ListTagsForResource(const std::string& arn);

 private:
  /// One call: the reply as a JSON object, or the client's error (or an unexpected reply's).
  [[nodiscard]] Result<nlohmann::json> Call(const std::string& op, const nlohmann::json& body);

  AwsClient& client_;
};

}  // namespace slipway::aws
