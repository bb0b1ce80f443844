// Which containers need the task's execution role on Fargate (execution_role.h).
#include "deploy/execution_role.h"

namespace slipway::deploy {

using nlohmann::json;

namespace {

// What the ECS agent does for `def` with the execution role, or empty.
std::string NeedsRole(const json& def) {
  const json log = def.value("logConfiguration", json::object());
  if (log.is_object() && log.value("logDriver", "") == "awslogs") return "uses the awslogs log driver";
  const std::string image = def.value("image", "");
  if (image.substr(0, image.find('/')).find(".dkr.ecr.") != std::string::npos) return "pulls its image from ECR";
  if (def.contains("secrets") && def["secrets"].is_array() && !def["secrets"].empty()) return "reads secrets";
  return "";
}

}  // namespace

std::string MissingExecutionRole(const json& td) {
  if (!td.is_object() || !td.value("executionRoleArn", "").empty()) return "";
  for (const auto& def : td.value("containerDefinitions", json::array())) {
    const std::string why = NeedsRole(def);
    if (why.empty()) continue;
    return "task definition " + td.value("family", "") + ": container " + def.value("name", "") + " " + why +
           ", which Fargate does with the task's execution role, and executionRoleArn is not set; set it to a role "
           "that ecs-tasks.amazonaws.com may assume, with the AmazonECSTaskExecutionRolePolicy managed policy "
           "(plus secretsmanager:GetSecretValue or ssm:GetParameters for secrets)";
  }
  return "";
}

}  // namespace slipway::deploy
