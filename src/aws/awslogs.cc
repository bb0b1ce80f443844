// awslogs destinations, named as ECS names them.
#include "aws/awslogs.h"

#include <nlohmann/json.hpp>

namespace slipway::aws {

std::optional<AwslogsLocation> Awslogs(const nlohmann::json& def, const std::string& task_id) {
  using nlohmann::json;
  const json config = def.value("logConfiguration", json::object());
  if (config.value("logDriver", "") != "awslogs") return std::nullopt;
  const json opts = config.value("options", json::object());
  AwslogsLocation out;
  out.group = opts.value("awslogs-group", "");
  if (out.group.empty()) return std::nullopt;
  const std::string prefix = opts.value("awslogs-stream-prefix", "");
  out.stream = (prefix.empty() ? "" : prefix + "/") + def.value("name", "") + "/" + task_id;
  out.create_group = opts.value("awslogs-create-group", "false") == "true";
  return out;
}

}  // namespace slipway::aws
