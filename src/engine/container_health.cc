// Container healthCheck (ECS task-definition semantics): the command runs every `interval`
// seconds with a `timeout`; `retries` consecutive failures after `startPeriod` make the container
// UNHEALTHY, one success makes it HEALTHY. The exec runtime runs the command on the host with the
// container's environment and working directory; a container runtime runs it inside the container.
#include <csignal>

#include "engine/control_plane.h"

namespace slipway::engine {

using nlohmann::json;

namespace {

struct HealthCheckDef {
  std::vector<std::string> argv;
  int interval = 30, timeout = 5, retries = 3, start_period = 0;
};

// Parses a container definition's healthCheck; nullopt when there is none (or it is NONE).
std::optional<HealthCheckDef> ParseHealthCheck(const json& def) {
  auto hc = def.find("healthCheck");
  if (hc == def.end() || !hc->is_object()) return std::nullopt;
  std::vector<std::string> command = hc->value("command", std::vector<std::string>{});
  if (command.empty() || command[0] == "NONE") return std::nullopt;
  HealthCheckDef out;
  if (command[0] == "CMD-SHELL") {
    std::string script;
    for (size_t i = 1; i < command.size(); ++i) script += (i > 1 ? " " : "") + command[i];
    out.argv = {"/bin/sh", "-c", script};
  } else {
    out.argv.assign(command.begin() + (command[0] == "CMD" ? 1 : 0), command.end());
  }
  if (out.argv.empty()) return std::nullopt;
  out.interval = std::clamp(hc->value("interval", 30), 5, 300);
  out.timeout = std::clamp(hc->value("timeout", 5), 2, 60);
  out.retries = std::clamp(hc->value("retries", 3), 1, 10);
  out.start_period = std::clamp(hc->value("startPeriod", 0), 0, 300);
  return out;
}

}  // namespace

bool ControlPlane::HasContainerHealthCheck(const Task& t) const {
  const json* td = FindTaskDefinition(t.task_definition_arn);
  if (td == nullptr) return false;
  for (const auto& def : (*td)["containerDefinitions"]) {
    if (ParseHealthCheck(def)) return true;
  }
  return false;
}

void ControlPlane::RunContainerHealthChecks() {
  const double now = Now();
  // Checks of tasks that are no longer running are dropped (their processes killed).
  std::erase_if(container_checks_, [&](const auto& kv) {
    auto t = core_.state.tasks.find(kv.first.substr(0, kv.first.find('/')));
    return t == core_.state.tasks.end() ||
           (t->second.last_status != "RUNNING" && t->second.last_status != "PENDING");
  });
  for (auto& [id, t] : core_.state.tasks) {
    // PENDING too: a container waiting on dependsOn HEALTHY waits on these checks.
    if ((t.last_status != "RUNNING" && t.last_status != "PENDING") || t.desired_status != "RUNNING") continue;
    const json* td = FindTaskDefinition(t.task_definition_arn);
    if (td == nullptr) continue;
    bool any = false, all_healthy = true, unhealthy = false;
    for (const auto& def : (*td)["containerDefinitions"]) {
      auto hc = ParseHealthCheck(def);
      if (!hc) continue;
      any = true;
      ContainerState* c = nullptr;
      for (auto& cs : t.containers) {
        if (cs.name == def.value("name", "")) c = &cs;
      }
      if (c == nullptr || c->last_status != "RUNNING") continue;
      const double started = c->started_at > 0 ? c->started_at : t.started_at;
      const std::string key = t.id + "/" + c->name;
      auto running = container_checks_.find(key);
      if (running != container_checks_.end()) {
        auto status = running->second.process.Poll();
        bool timed_out = !status && now >= running->second.deadline;
        if (status || timed_out) {
          const bool passed = status && status->code == 0;
          container_checks_.erase(running);
          if (passed) {
            c->health_failures = 0;
            c->health_status = "HEALTHY";
          } else if (now - started >= hc->start_period && ++c->health_failures >= hc->retries) {
            c->health_status = "UNHEALTHY";
          }
          c->next_health_check = now + hc->interval;
          Touch(t);
        }
      } else {
        if (c->next_health_check == 0) c->next_health_check = started + hc->interval;
        if (now >= c->next_health_check) {
          // A container runtime runs the check inside the container; the exec runtime runs the
          // command as a host process with the container's environment.
          auto argv = runtime_.HealthCheckArgv(t.id, c->name);
          std::map<std::string, std::string> env = runtime_.HealthCheckEnv();
          std::string cwd;
          if (argv.empty()) {
            cwd = def.value("workingDirectory", "");
            argv = hc->argv;
            env = options_.base_env;
            for (const auto& kv : def.value("environment", json::array())) env[kv.value("name", "")] = kv.value("value", "");
            if (c->host_port) env["PORT"] = std::to_string(c->host_port);
          } else if (const char* path = std::getenv("PATH")) {
            env["PATH"] = path;
          }
          auto child = ChildProcess::Spawn({.argv = argv, .env = env, .cwd = cwd});
          if (child) {
            container_checks_[key] = {std::move(*child), now + hc->timeout};
          } else {
            // A command that cannot start fails the check.
            c->next_health_check = now + hc->interval;
            if (now - started >= hc->start_period && ++c->health_failures >= hc->retries) c->health_status = "UNHEALTHY";
          }
        }
      }
      const bool essential = def.value("essential", true);
      all_healthy = all_healthy && c->health_status == "HEALTHY";
      unhealthy = unhealthy || (essential && c->health_status == "UNHEALTHY");
    }
    if (!any) continue;
    const std::string status = unhealthy ? "UNHEALTHY" : all_healthy ? "HEALTHY" : "UNKNOWN";
    if (status != t.health_status) {
      t.health_status = status;
      ++t.version;
      Touch(t);
    }
  }
}

}  // namespace slipway::engine
