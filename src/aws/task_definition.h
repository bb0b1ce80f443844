// Facts of an ECS task definition that the engine (which acts on them) and the deployer (which
// reports them) must read alike: where awslogs writes a container's output, and its memory limit.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace slipway::aws {

struct AwslogsLocation {
  std::string group;   ///< awslogs-group
  std::string stream;  ///< <awslogs-stream-prefix>/<container-name>/<task-id>
  bool create_group = false;  ///< awslogs-create-group is "true"
};

/// The container definition's awslogs destination for task `task_id`; with an empty task id,
/// `stream` is the prefix every task's stream of that container starts with. nullopt when the
/// container does not log with awslogs (or names no group, or has a field of another type).
std::optional<AwslogsLocation> Awslogs(const nlohmann::json& container_definition, const std::string& task_id);

/// The container's hard memory limit in MiB: its own `memory`, else the task's (either may be a
/// number or a string, as ECS accepts both); 0 when neither is set.
long long ContainerMemoryMib(const nlohmann::json& task_definition, const nlohmann::json& container_definition);

}  // namespace slipway::aws
