// Checks every task-definition template of an environment before a release contacts anything.
#pragma once

#include <map>
#include <string>

#include "base/result.h"
#include "config/config.h"

namespace slipway::deploy {

/// Expands and checks each service template of `env` with `vars` (the load balancer's variables
/// get placeholders unless given): valid JSON (file:line:column), every variable set, a non-empty
/// containerDefinitions list, `container` and the migration's container naming one of them, and
/// `containerPort` matching a port mapping of that container, as ECS's CreateService requires,
/// and on provider aws an executionRoleArn where Fargate needs one (MissingExecutionRole).
/// An error here is a mistake in what was asked for: nothing was contacted.
[[nodiscard]] Result<void> CheckTemplates(const config::Config& cfg, const config::Environment& env,
                                          const std::map<std::string, std::string>& vars);

}  // namespace slipway::deploy
