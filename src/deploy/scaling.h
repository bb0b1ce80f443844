// Changing how many tasks a service runs outside a release (`scale`, `env up|down`, `service
// start|stop`): the override tag and UpdateService, then waiting until the tasks run (or stop)
// and, for a service behind the load balancer, until its targets are healthy.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "aws/aws_client.h"
#include "base/cancel.h"
#include "base/clock.h"
#include "config/config.h"
#include "deploy/desired_count.h"

namespace slipway::deploy {

/// One service of an environment as read for scaling.
struct ServiceCounts {
  std::string name;          ///< config service name
  std::string service_name;  ///< ECS service name
  bool exists = false;       ///< ACTIVE; false: never released (or deleted)
  std::string arn;
  std::string task_definition;  ///< the revision it runs
  int desired = 0, running = 0, pending = 0;
  size_t deployments = 0;
  std::optional<CountOverride> override_;  ///< its slipway:desiredCount tag
  std::string target_group_arn;  ///< of its load balancer entry; "" when it has none
};

/// Reads the service `name` of `env` (DescribeServices with tags).
[[nodiscard]] Result<ServiceCounts> ReadServiceCounts(aws::AwsClient& c, const config::Environment& env,
                                                      const std::string& name);

/// Sets the service's desiredCount to `count`: first records the override (`by` the command, with
/// the count it had) when `count` differs from what a release would set without one
/// (DefaultDesiredCount), else removes the tag; then UpdateService (no new deployment).
[[nodiscard]] Result<void> SetDesiredCount(aws::AwsClient& c, const config::Environment& env,
                                           const ServiceCounts& now, int count, const std::string& by);

/// Where a wait ended: "" when it got there, kWaitInterrupted once cancelled, else why not.
inline constexpr const char* kWaitInterrupted = "interrupted";

/// Polls the service until it runs `count` tasks with none pending in one deployment, calling
/// `progress` when the counts change. Gives up after `timeout`.
[[nodiscard]] Result<std::string> WaitForCount(aws::AwsClient& c, Clock& clock, const std::string& cluster,
                                               const std::string& service, int count, Millis timeout,
                                               const CancelToken* cancel,
                                               const std::function<void(const std::string&)>& progress);

/// Polls the target group until at least `count` of its targets are healthy.
[[nodiscard]] Result<std::string> WaitForHealthyTargets(aws::AwsClient& c, Clock& clock,
                                                        const std::string& target_group_arn,
                                                        const std::string& service, int count, Millis timeout,
                                                        const CancelToken* cancel,
                                                        const std::function<void(const std::string&)>& progress);

}  // namespace slipway::deploy
