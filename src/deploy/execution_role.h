// What a task definition needs on real Fargate that the engine does without: an execution role
// for the agent's own calls (awslogs, ECR pulls, secrets).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace slipway::deploy {

/// Error code: a task definition cannot run on ECS Fargate as written; nothing was changed.
inline constexpr const char* kTaskDefinitionInvalid = "TaskDefinitionInvalid";

/// Why Fargate could not start tasks of `td`: it has no executionRoleArn, yet a container uses
/// the awslogs driver, an image from ECR, or secrets, which Fargate reads with that role. Empty
/// when it has a role or needs none.
std::string MissingExecutionRole(const nlohmann::json& td);

}  // namespace slipway::deploy
