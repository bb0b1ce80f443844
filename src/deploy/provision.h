// What a release needs in place before it registers anything: the cluster, the network (the VPC
// and security groups, network.h), the load balancer, one target group per service, the listener
// and its rules, and the CloudWatch Logs groups.
// Missing pieces are created; nothing is ever deleted, except listener rules slipway owns that the
// config no longer wants (allowlist.h).
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aws/aws_client.h"
#include "config/config.h"
#include "deploy/network.h"

namespace slipway::deploy {

/// The environment's load balancer and each service's target group.
struct Infrastructure {
  std::string load_balancer_arn;
  std::string load_balancer_dns;
  std::map<std::string, std::string> target_group_by_service;  ///< config service name -> ARN
  /// The VPC of the target groups; the security groups of the load balancer and the tasks.
  Network network;
  /// The listener rules this release created, modified or deleted (path and allowlist rules).
  std::vector<std::string> rule_changes;
};

/// Whether `env`'s cluster exists (ACTIVE).
[[nodiscard]] Result<bool> ClusterExists(aws::AwsClient& c, const config::Environment& env);
/// Creates `env`'s cluster when it does not exist (CreateCluster is idempotent by name). A release
/// does this before it takes the lock, which lives on the cluster too.
[[nodiscard]] Result<void> EnsureCluster(aws::AwsClient& c, const config::Environment& env);

/// Creates what is missing for `env`; `definitions` (by config service name) name the log groups.
[[nodiscard]] Result<Infrastructure> Provision(aws::AwsClient& c, const config::Config& cfg,
                                               const config::Environment& env,
                                               const std::map<std::string, nlohmann::json>& definitions);

/// The target group attribute that holds how long a deregistered target keeps draining.
inline constexpr const char* kDeregistrationDelayKey = "deregistration_delay.timeout_seconds";

/// The name of `service`'s target group: "<load balancer>-<service>", cut to ELBv2's 32 characters.
std::string TargetGroupName(const config::Environment& env, const std::string& service);

}  // namespace slipway::deploy
