// A service's migration: its command run as a one-off task (RunTask) of the new revision before
// any traffic moves, with its log streamed as it runs.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aws/aws_client.h"
#include "base/clock.h"
#include "config/config.h"

namespace slipway::deploy {

/// Where progress lines go.
using Progress = std::function<void(const std::string&)>;

/// Runs `svc`'s migration as a one-off task of `td_arn` (whose definition is `td`), streaming its
/// output. Returns "" when it exited 0, else the failure; `tail` keeps its last lines.
[[nodiscard]] Result<std::string> RunMigration(aws::AwsClient& c, Clock& clock, const config::Environment& env,
                                               const config::ServiceSpec& svc, const std::string& td_arn,
                                               const nlohmann::json& td, const Progress& progress,
                                               std::vector<std::string>& tail);

}  // namespace slipway::deploy
