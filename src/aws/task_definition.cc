// Task-definition facts, read as ECS reads them.
#include "aws/task_definition.h"

#include <nlohmann/json.hpp>

#include "aws/json_reply.h"

namespace slipway::aws {

std::optional<AwslogsLocation> Awslogs(const nlohmann::json& def, const std::string& task_id) {
  // Any definition may come here, a caller's or ECS's: one of another shape names no location.
  ReplyReader read("container definition");
  const nlohmann::json& config = read.Object(def, "logConfiguration");
  const nlohmann::json& opts = read.Object(config, "options");
  AwslogsLocation out;
  out.group = read.String(opts, "awslogs-group");
  const std::string prefix = read.String(opts, "awslogs-stream-prefix");
  out.stream = (prefix.empty() ? "" : prefix + "/") + read.String(def, "name") + "/" + task_id;
  out.create_group = read.String(opts, "awslogs-create-group") == "true";
  if (read.String(config, "logDriver") != "awslogs" || out.group.empty() || !read.ok()) {
    return std::nullopt;
  }
  return out;
}

namespace {
long long Mib(const nlohmann::json& v) {
  if (v.is_number_integer()) return v.get<long long>();
  if (v.is_string()) return std::atoll(v.get<std::string>().c_str());
  return 0;
}
}  // namespace

long long ContainerMemoryMib(const nlohmann::json& td, const nlohmann::json& def) {
  long long mib = def.contains("memory") ? Mib(def["memory"]) : 0;
  if (mib == 0 && td.contains("memory")) mib = Mib(td["memory"]);
  return mib;
}

}  // namespace slipway::aws
