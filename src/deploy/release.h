// `slipway deploy`: provision what is missing, register, roll out, watch and verify.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "aws/aws_client.h"
#include "base/clock.h"
#include "config/config.h"

namespace slipway::deploy {

/// What the release needs besides the config.
struct ReleaseOptions {
  /// Variables for task definition templates (the process environment plus slipway's own).
  std::map<std::string, std::string> vars;
  /// Progress lines for the user.
  std::function<void(const std::string&)> progress = [](const std::string&) {};
};

/// One service's result.
struct ServiceResult {
  std::string service_name;
  std::string task_definition_arn;
  std::string deployment_id;
  int running_count = 0;
};

/// The release's outcome; `failure` is empty when it released.
struct ReleaseReport {
  std::vector<ServiceResult> services;
  std::string failure;
  double seconds = 0;
};

/// Runs one release of `env`. Infrastructure errors are errors; a rollout or verify failure is a
/// report with `failure` set.
[[nodiscard]] Result<ReleaseReport> Release(aws::AwsClient& client, aws::HttpTransport& http, Clock& clock,
                                            const config::Config& cfg, const config::Environment& env,
                                            const ReleaseOptions& options);

/// Current state of the environment's services, as printed by `slipway status`.
struct ServiceStatus {
  std::string service_name, status, task_definition, rollout_state;
  int desired = 0, running = 0, pending = 0, deployments = 0;
};
[[nodiscard]] Result<std::vector<ServiceStatus>> Status(aws::AwsClient& client, const config::Environment& env);

}  // namespace slipway::deploy
