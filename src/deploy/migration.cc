// The migration task: RunTask with a command override, DescribeTasks until it stops, GetLogEvents.
#include "deploy/migration.h"

#include <optional>

#include "aws/task_definition.h"
#include "base/strings.h"
#include "deploy/provision.h"

namespace slipway::deploy {

using nlohmann::json;

Result<std::string> RunMigration(aws::AwsClient& c, Clock& clock, const config::Environment& env,
                                 const config::ServiceSpec& svc, const std::string& td_arn, const json& td,
                                 const Progress& progress, std::vector<std::string>& tail) {
  json req{{"cluster", env.cluster}, {"taskDefinition", td_arn}, {"count", 1}, {"launchType", "FARGATE"},
           {"startedBy", "slipway-migrate"},
           {"overrides", {{"containerOverrides", json::array({{{"name", svc.migrate_container},
                                                               {"command", svc.migrate_command}}})}}}};
  if (json network = NetworkConfiguration(env); !network.is_null()) req["networkConfiguration"] = network;
  auto run = c.Json(aws::kEcs, "RunTask", req);
  if (!run) return tl::unexpected(run.error());
  if ((*run)["tasks"].empty()) {
    return "migration task did not start: " + (*run)["failures"].dump();
  }
  const std::string task_arn = (*run)["tasks"][0]["taskArn"];
  const std::string task_id = task_arn.substr(task_arn.rfind('/') + 1);
  progress("migrating " + svc.name + ": task " + task_id + " runs " + Join(svc.migrate_command, " "));
  std::optional<aws::AwslogsLocation> log;
  for (const auto& def : td["containerDefinitions"]) {
    if (def.value("name", "") == svc.migrate_container) log = aws::Awslogs(def, task_id);
  }
  std::string token;
  auto pump = [&]() -> Result<void> {
    if (!log) return {};
    json get{{"logGroupName", log->group}, {"logStreamName", log->stream}, {"startFromHead", true}};
    if (!token.empty()) get["nextToken"] = token;
    auto r = c.Json(aws::kLogs, "GetLogEvents", get);
    if (!r) return r.error().code == "ResourceNotFoundException" ? Result<void>() : tl::unexpected(r.error());
    token = (*r)["nextForwardToken"];
    for (const auto& e : (*r)["events"]) {
      std::string line = e.value("message", "");
      progress("  migrate | " + line);
      tail.push_back(line);
      if (tail.size() > 20) tail.erase(tail.begin());
    }
    return {};
  };
  const SteadyTime deadline = clock.Now() + std::chrono::seconds(svc.migrate_timeout_seconds);
  for (;;) {
    auto d = c.Json(aws::kEcs, "DescribeTasks", {{"cluster", env.cluster}, {"tasks", {task_arn}}});
    if (!d) return tl::unexpected(d.error());
    if (auto p = pump(); !p) return tl::unexpected(p.error());
    if ((*d)["tasks"].empty()) return "migration task " + task_id + " disappeared";
    const json& t = (*d)["tasks"][0];
    if (t.value("lastStatus", "") == "STOPPED") {
      if (auto p = pump(); !p) return tl::unexpected(p.error());
      for (const auto& ct : t["containers"]) {
        if (ct.value("name", "") != svc.migrate_container) continue;
        if (!ct.contains("exitCode")) return "migration task " + task_id + " did not run: " + t.value("stoppedReason", "");
        int code = ct["exitCode"];
        if (code == 0) {
          progress("migration of " + svc.name + " finished (exit 0)");
          return std::string();
        }
        return "migration of " + svc.name + " exited with code " + std::to_string(code) +
               (ct.value("reason", "").empty() ? "" : " (" + ct.value("reason", "") + ")");
      }
      return "migration task " + task_id + " stopped: " + t.value("stoppedReason", "");
    }
    if (clock.Now() >= deadline) {
      auto stop = c.Json(aws::kEcs, "StopTask", {{"cluster", env.cluster}, {"task", task_arn},
                                                 {"reason", "slipway: migration timed out"}});
      (void)stop;
      return "migration of " + svc.name + " timed out after " + std::to_string(svc.migrate_timeout_seconds) + " s";
    }
    clock.SleepFor(Millis(250));
  }
}

}  // namespace slipway::deploy
