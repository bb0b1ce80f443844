// Template checks that run before a release contacts anything, so a mistake exits 2 having
// changed nothing rather than leaving a registered revision behind.
#include "deploy/template_check.h"

#include <nlohmann/json.hpp>

#include "deploy/execution_role.h"
#include "deploy/stages.h"

namespace slipway::deploy {

using nlohmann::json;

namespace {

// The container definition named `name`, or null.
const json* FindContainer(const json& containers, const std::string& name) {
  for (const auto& c : containers) {
    if (c.is_object() && c.value("name", "") == name) return &c;
  }
  return nullptr;
}

std::string ContainerNames(const json& containers) {
  std::string names;
  for (const auto& c : containers) {
    if (c.is_object()) names += (names.empty() ? "" : ", ") + c.value("name", std::string("(unnamed)"));
  }
  return names;
}

Result<void> CheckService(const config::ServiceSpec& svc, const json& td) {
  const std::string& file = svc.task_definition_path;
  const json containers = td.value("containerDefinitions", json());
  if (!containers.is_array() || containers.empty()) {
    return Fail(file + ": containerDefinitions: must list at least one container");
  }
  const json* main = FindContainer(containers, svc.container);
  if (!main) {
    return Fail(file + ": services." + svc.name + ".container '" + svc.container +
                "' names no container of the template (it has: " + ContainerNames(containers) + ")");
  }
  if (!svc.migrate_command.empty() && !FindContainer(containers, svc.migrate_container)) {
    return Fail(file + ": services." + svc.name + ".migrate.container '" + svc.migrate_container +
                "' names no container of the template (it has: " + ContainerNames(containers) + ")");
  }
  if (svc.container_port != 0) {
    std::string ports;
    for (const auto& m : main->value("portMappings", json::array())) {
      if (!m.is_object() || !m.contains("containerPort")) continue;
      if (m["containerPort"] == svc.container_port) return {};
      ports += (ports.empty() ? "" : ", ") + m["containerPort"].dump();
    }
    return Fail(file + ": services." + svc.name + ".containerPort " + std::to_string(svc.container_port) +
                " matches no port mapping of container '" + svc.container + "' (" +
                (ports.empty() ? "it has none" : "its containerPorts: " + ports) + ")");
  }
  return {};
}

}  // namespace

Result<void> CheckTemplates(const config::Config& cfg, const config::Environment& env,
                            const std::map<std::string, std::string>& vars) {
  // The same placeholders the image stages use before the load balancer exists.
  auto with_placeholders = vars;
  with_placeholders.emplace("LOAD_BALANCER_DNS", "load-balancer.invalid");
  with_placeholders.emplace("LOAD_BALANCER_URL", "http://load-balancer.invalid");
  for (const auto& [name, se] : env.services) {
    const config::ServiceSpec& svc = cfg.services.at(name);
    auto td = LoadTaskDefinition(svc, se, with_placeholders);
    if (!td) return tl::unexpected(td.error());
    if (auto checked = CheckService(svc, *td); !checked) return checked;
    // Fargate's agent needs the execution role for these; the engine runs tasks without one.
    if (env.provider == "aws") {
      if (std::string problem = MissingExecutionRole(*td); !problem.empty()) return Fail(problem, kTaskDefinitionInvalid);
    }
  }
  return {};
}

}  // namespace slipway::deploy
