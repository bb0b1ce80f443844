// The slipway.yaml model (plain values) and its loader.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace slipway::config {

/// Target-group health check for a service behind the load balancer.
struct HealthCheck {
  std::string path = "/";
  int interval_seconds = 30;
  int timeout_seconds = 5;
  int healthy_threshold = 5;
  int unhealthy_threshold = 2;
  std::string matcher = "200";
};

/// A service of the app: how to build its task definition and reach it.
/// How slipway builds one container's image before a release.
struct BuildSpec {
  std::string context;     ///< absolute path of the build context
  std::string dockerfile;  ///< absolute path; default <context>/Dockerfile
  std::string target;      ///< multi-stage target, or empty
  std::map<std::string, std::string> args;  ///< --build-arg
  std::string repository;  ///< ECR repository name; default <app>/<service>[-<container>]
};

struct ServiceSpec {
  std::string name;
  std::string task_definition_path;  ///< absolute path of the JSON template
  std::string container;             ///< container behind the load balancer
  int container_port = 0;
  HealthCheck health_check;
  int deregistration_delay_seconds = 300;
  /// Migration run before traffic moves: a one-off task of the new revision with this command
  /// (overriding the container's). Empty: no migration.
  std::vector<std::string> migrate_command;
  std::string migrate_container;  ///< defaults to `container`
  int migrate_timeout_seconds = 600;
  /// Images slipway builds and pushes for this service, by container name.
  std::map<std::string, BuildSpec> builds;
};

/// Per-environment settings of one service.
struct ServiceEnv {
  std::string service_name;
  int desired_count = 1;
  std::string path_pattern;  ///< empty: the listener's default action
  int priority = 0;
  int maximum_percent = 200;
  int minimum_healthy_percent = 100;
  bool circuit_breaker = true;
  int health_check_grace_period_seconds = 0;
  /// `onDemand: true`: runs no task unless started (`slipway service start`), which runs
  /// desired_count; releases keep it at 0 while stopped.
  bool on_demand = false;
  /// `allow:` for this service: the CIDR blocks (canonical form) whose requests reach it. Unset:
  /// the environment's list applies. Set, it replaces the environment's; empty admits no one.
  std::optional<std::vector<std::string>> allow;
};

/// Fargate prices (USD per hour) that `slipway env status` estimates costs with; defaults are
/// us-east-1 Linux/x86 on-demand prices.
struct Pricing {
  double vcpu_hour = 0.04048;
  double gb_hour = 0.004445;
};

/// One HTTP check run after the rollout.
struct VerifyCheck {
  std::string path = "/";
  int status = 200;
  std::string contains;
};

struct Environment {
  std::string name;
  std::string provider = "local";  ///< "local" | "aws"
  /// The `region` key. Unset: "us-east-1" for provider local (the engine signs for its own region
  /// anyway); empty for provider aws, which then resolves it (--region, AWS_REGION, the profile).
  std::string region = "us-east-1";
  std::string cluster;
  std::string load_balancer_name;
  std::string listener_host = "127.0.0.1";
  int listener_port = 80;
  /// awsvpc networking: the subnets of the load balancer and the tasks. Provider aws needs at
  /// least two (an application load balancer spans two Availability Zones).
  std::vector<std::string> subnets;
  /// Security groups of the load balancer and the tasks. Empty on provider aws: slipway creates
  /// (or finds) one named after the load balancer that admits the listener port.
  std::vector<std::string> security_groups;
  /// The VPC of the target groups and the created security group (`vpc:`). Empty: on provider aws
  /// the subnets' VPC (EC2 DescribeSubnets); the engine has one VPC, "vpc-local".
  std::string vpc;
  /// The load balancer's Scheme: "internet-facing" (default) or "internal".
  std::string scheme = "internet-facing";
  /// Tasks get a public IP (awsvpcConfiguration.assignPublicIp ENABLED): needed in public subnets
  /// without a NAT gateway to pull images and reach CloudWatch Logs.
  bool assign_public_ip = false;
  std::map<std::string, ServiceEnv> services;  ///< by app service name
  std::vector<VerifyCheck> verify;
  int timeout_seconds = 900;
  int verify_attempts = 10;
  /// Resolve every image to its digest in its registry, check its platform against the task
  /// definition's runtimePlatform, and register it pinned (`name@sha256:…`). Off only for task
  /// definitions whose images no registry serves (the engine's exec runtime runs entryPoint).
  bool pin_images = true;
  /// A release must be approved by typing (or passing --confirm) this phrase.
  bool require_approval = false;
  std::string approval_phrase;  ///< default "deploy-<env>"
  Pricing pricing;  ///< `pricing: {vcpuHour, gbHour}`
  /// `allow:`: the CIDR blocks (canonical form) whose requests reach the services. Unset: no
  /// allowlist, everyone is admitted. Empty: no one is (every request gets 403).
  std::optional<std::vector<std::string>> allow;
};

struct Config {
  std::string path;  ///< the file it was read from
  std::string app;
  /// Which tool builds images: "auto" (podman, buildah, then docker, the first installed), or one of them.
  std::string builder = "auto";
  /// `engine.listen`: where a local engine that slipway starts for this config listens
  /// ("host:port"); empty: $SLIPWAY_ENGINE_LISTEN, else 127.0.0.1:4580.
  std::string engine_listen;
  std::map<std::string, ServiceSpec> services;
  std::map<std::string, Environment> environments;
};

/// Reads and validates `path`. Errors read "<file>:<line>: <key.path>: <problem>".
[[nodiscard]] Result<Config> LoadConfig(const std::string& path);

/// The allowlist that applies to `service` of `env`: the service's own `allow:`, else the
/// environment's; nullopt when neither sets one (everyone is admitted).
[[nodiscard]] std::optional<std::vector<std::string>> AllowFor(const Environment& env, const std::string& service);

/// Listener rule priorities slipway keeps for allowlist rules; a pathPattern's priority must lie
/// below them in an environment with an allowlist.
inline constexpr int kAllowlistFirstPriority = 47001;
inline constexpr int kAllowlistLastPriority = 50000;

/// Whether `listen` reads "host:port" with a port from 1 to 65535.
bool ValidListenAddress(const std::string& listen);

/// The config name of the service the listener sends `path` to: the lowest-priority-number
/// pathPattern that matches, else the service without one (the default action); "" when none.
[[nodiscard]] std::string ServiceForPath(const Environment& env, const std::string& path);

/// Expands ${VAR} and ${VAR:-default} using `lookup`; an unset ${VAR} without default is an
/// error naming `origin` (file) and the line.
[[nodiscard]] Result<std::string> ExpandTemplate(const std::string& text, const std::string& origin,
                                                 const std::map<std::string, std::string>& vars);

}  // namespace slipway::config
