// Task-definition facts, read as ECS reads them.
#include "aws/task_definition.h"

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
