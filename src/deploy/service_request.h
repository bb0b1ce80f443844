// The ECS service request a release sends, in one place: the rollout stage sends it, and
// `slipway plan` and `slipway render` show it, so what they show never drifts from what is sent.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.h"

namespace slipway::deploy {

/// The CreateService input for `se` running `task_definition` behind `target_group_arn`, its
/// tasks in `security_groups` (network.h), without a clientToken (the release adds its own). A new
/// service has no override yet: its desiredCount is DefaultDesiredCount (0 when on demand).
nlohmann::json CreateServiceInput(const config::Environment& env, const config::ServiceSpec& svc,
                                  const config::ServiceEnv& se, const std::string& task_definition,
                                  const std::string& target_group_arn, const std::vector<std::string>& security_groups);

/// The UpdateService input that moves an existing service to `task_definition` with the
/// config's settings (a new deployment even when the revision is the same), running
/// `desired_count` tasks (ReleaseDesiredCount: the config's, or the service's override).
nlohmann::json UpdateServiceInput(const config::Environment& env, const config::ServiceEnv& se,
                                  const std::string& task_definition, const std::vector<std::string>& security_groups,
                                  int desired_count);

}  // namespace slipway::deploy
