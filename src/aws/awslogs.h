// Where ECS's awslogs log driver writes a container's output. Shared by the engine (which writes
// there) and the deployer (which reads it back), so both name streams the same way.
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
/// container does not log with awslogs (or names no group).
std::optional<AwslogsLocation> Awslogs(const nlohmann::json& container_definition, const std::string& task_id);

}  // namespace slipway::aws
