// `slipway plan`: what a release of an environment would change, decided from what is read
// before anything changes. PlanRelease is pure; ReadAndPlan (plan_run.cc) reads and calls it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aws/aws_client.h"
#include "aws/http_transport.h"
#include "config/config.h"
#include "deploy/allowlist.h"

namespace slipway::deploy {

/// The image a container built by slipway shows in a plan or render: its digest is known only
/// once the release has built and pushed it.
inline constexpr const char* kBuiltAtRelease = "(built at release)";
/// What a plan or render shows for the ARN or id of something the release creates.
inline constexpr const char* kCreatedAtRelease = "(created at release)";

/// What exists of the environment's infrastructure, as read.
struct InfrastructureState {
  bool cluster = false;
  bool load_balancer = false;
  std::string load_balancer_dns;  ///< "" when the load balancer does not exist
  bool listener = false;          ///< on the environment's listener port
  std::map<std::string, std::string> target_groups;  ///< config service name -> ARN, existing ones only
  /// config service name -> its target group's deregistration delay in seconds, existing groups
  /// whose attribute was read only
  std::map<std::string, int> deregistration_delays;
  std::map<std::string, bool> rules;  ///< config service name (with a pathPattern) -> a rule forwards to it
  std::vector<std::string> security_groups;  ///< of the load balancer and tasks, existing ones only
  std::string security_group_to_create;      ///< its name; "" when named in the config or already there
  /// The listener's rules against the config's path and allowlist rules; unset without a listener.
  std::optional<RuleDrift> rule_drift;
};

/// One service as read: its DescribeServices entry and the revision it runs.
struct ServiceState {
  nlohmann::json service;             ///< null when the service does not exist (or is not ACTIVE)
  nlohmann::json running_definition;  ///< DescribeTaskDefinition's taskDefinition; null when none
};

/// Everything a plan is decided from.
struct PlanInput {
  /// Each service's task definition as the release would register it (by config service name),
  /// with images it builds shown as kBuiltAtRelease.
  std::map<std::string, nlohmann::json> definitions;
  std::map<std::string, ServiceState> services;  ///< by config service name
  InfrastructureState infrastructure;
};

/// One difference between what runs and what a release would set. `before` null: added;
/// `after` null: removed.
struct FieldChange {
  std::string path;  ///< e.g. containerDefinitions[web].environment[APP_VERSION].value
  nlohmann::json before, after;
};

/// A service whose desired count differs from what a release sets (the config's desiredCount, or
/// its override): changed out of band, or by autoscaling. A release sets it back.
struct ScaleDrift {
  int configured = 0, desired = 0, running = 0;
};

/// A desiredCount override (deploy/desired_count.h) that a release keeps.
struct ScaleOverride {
  int count = 0;
  int configured = 0;       ///< what the config says (0 for an on-demand service)
  std::string description;  ///< e.g. "0 (set by env down; was 2)"
};

/// What a release would do to one service.
struct ServicePlan {
  std::string name;          ///< config service name
  std::string service_name;  ///< ECS service name
  bool create = false;       ///< the service does not exist yet
  std::string family;        ///< the task definition family a release registers a revision of
  std::string running_revision;  ///< "family:revision" it runs now; "" when none
  /// Task definition fields that would change (empty when the service is created: all is new).
  std::vector<FieldChange> definition;
  /// Service settings UpdateService would change: deploymentConfiguration, health check grace period.
  std::vector<FieldChange> settings;
  /// Containers whose images the release builds, as "container (context)".
  std::vector<std::string> builds;
  std::optional<ScaleDrift> drift;
  /// The service's desiredCount override; not a change (a release keeps it).
  std::optional<ScaleOverride> override_;
  bool on_demand = false;  ///< `onDemand: true` in the config
  /// The migration command a release runs before its rollout, space-joined; "" when none. Every
  /// release runs it, so it is shown but does not count as a change.
  std::string migration;
  /// What differs but a release would not change (load balancer wiring of an existing service,
  /// fewer tasks running than desired).
  std::vector<std::string> notes;

  /// True when a release would change anything about this service.
  bool Changes() const { return create || !definition.empty() || !settings.empty() || !builds.empty() || drift; }
};

/// What a release of the environment would change.
struct Plan {
  std::vector<std::string> create;  ///< infrastructure to create, e.g. "cluster demo-dev"
  std::vector<ServicePlan> services;
  /// Listener rules a release would create ("+"), modify ("~") or delete ("-"), or could not
  /// create ("!"): the allowlist's drift (path rules to create are in `create`).
  std::vector<std::string> listener_rules;
  nlohmann::json allowlist;  ///< DriftJson of the listener's rules; null without a listener
  /// Said before any change: e.g. an allowlist that would block the release's own verify.
  std::vector<std::string> warnings;

  /// True when a release would change anything (exit 10 with --detailed-exitcode).
  bool Changes() const;
};

/// The security groups a release would give the tasks, with kCreatedAtRelease for the one it
/// would create.
std::vector<std::string> SecurityGroups(const InfrastructureState& in);

/// Decides the plan from what was read. Registration fields and defaults ECS fills in are not
/// compared (see NormalizeDefinition).
Plan PlanRelease(const config::Config& cfg, const config::Environment& env, const PlanInput& in);

/// `td` without the fields ECS adds on registration (revision, status, registeredAt, …) and
/// without the defaults ECS fills in where `rendered` leaves them out, so that a registered
/// revision compares equal to the template it came from. `rendered` null: only the former.
nlohmann::json NormalizeDefinition(const nlohmann::json& td, const nlohmann::json& rendered);

/// The differences from `before` to `after`, in path order. Arrays of objects with a "name" are
/// compared by name, other arrays as whole values.
std::vector<FieldChange> DiffJson(const nlohmann::json& before, const nlohmann::json& after);

/// The plan as `--output json` prints it.
nlohmann::json PlanJson(const Plan& plan);
/// The plan as text, one line per change; says so when nothing would change.
std::string FormatPlan(const Plan& plan, const std::string& environment);

/// Reads the environment (Describe* and List* calls only; never a change) and renders what a
/// release would register. `http` reads image registries when the environment pins images.
/// `vars` are the template variables.
[[nodiscard]] Result<PlanInput> ReadForPlan(aws::AwsClient& c, aws::HttpTransport& http, const config::Config& cfg,
                                            const config::Environment& env,
                                            const std::map<std::string, std::string>& vars);

/// What a release would register and create, as plain ECS input other tools accept.
struct Rendered {
  std::map<std::string, nlohmann::json> task_definitions;  ///< RegisterTaskDefinition input, by service
  std::map<std::string, nlohmann::json> services;          ///< CreateService input, by service
};

/// Renders the environment's task definitions and service requests as a release would send them,
/// reading only (the load balancer's DNS name and target groups; image digests when pinned).
/// What does not exist yet, and images slipway builds, show as placeholders.
[[nodiscard]] Result<Rendered> Render(aws::AwsClient& c, aws::HttpTransport& http, const config::Config& cfg,
                                      const config::Environment& env,
                                      const std::map<std::string, std::string>& vars);

}  // namespace slipway::deploy
