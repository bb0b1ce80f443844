// The migration task: RunTask with a command override, DescribeTasks until it stops, GetLogEvents.
#include "deploy/migration.h"

#include <optional>

#include "aws/ecs.h"
#include "aws/logs.h"
#include "aws/task_definition.h"
#include "base/strings.h"
#include "deploy/lock.h"
#include "deploy/provision.h"

namespace slipway::deploy {

using nlohmann::json;

namespace {

using Status = MigrationResult::Status;

MigrationResult Failed(std::string detail) { return {Status::kFailed, std::move(detail)}; }

// RunTask's failures as ECS wrote them, e.g. [{"arn":"…","reason":"RESOURCE:MEMORY"}].
std::string FailuresJson(const std::vector<aws::EcsFailure>& failures) {
  json out = json::array();
  for (const auto& f : failures) {
    json one{{"arn", f.arn}, {"reason", f.reason}};
    if (!f.detail.empty()) one["detail"] = f.detail;
    out.push_back(std::move(one));
  }
  return out.dump();
}

// Stops the migration task early; says what became of it.
std::string StopMigration(aws::AwsClient& c, const config::Environment& env, const std::string& task_arn,
                          const std::string& task_id, const std::string& reason) {
  auto stop = aws::Ecs(c).StopTask(env.cluster, task_arn, reason);
  return stop ? "its task " + task_id + " was stopped" : "its task " + task_id + " could not be stopped (" +
                                                             stop.error().message + ")";
}

}  // namespace

Result<MigrationResult> RunMigration(aws::AwsClient& c, Clock& clock, const config::Environment& env,
                                     const config::ServiceSpec& svc, const std::string& td_arn, const json& td,
                                     const std::string& client_token, const json& network, const Progress& progress, const CancelToken* cancel, MigrationProgress& state) {
  std::vector<std::string>& tail = state.tail;
  aws::Ecs ecs(c);
  auto run = ecs.RunTask({.cluster = env.cluster, .task_definition = td_arn, .started_by = kMigrationStartedBy,
                          .client_token = client_token, .container = svc.migrate_container,
                          .command = svc.migrate_command},
                         network);
  if (!run) return tl::unexpected(run.error());
  if (run->tasks.empty() || run->tasks[0].arn.empty()) {
    return Failed("migration task did not start: " + FailuresJson(run->failures));
  }
  const std::string task_arn = run->tasks[0].arn;
  const std::string task_id = state.task_id = task_arn.substr(task_arn.rfind('/') + 1);
  progress("migrating " + svc.name + ": task " + task_id + " runs " + Join(svc.migrate_command, " "));
  std::optional<aws::AwslogsLocation> log;
  const json defs = td.is_object() ? td.value("containerDefinitions", json::array()) : json::array();
  for (const auto& def : defs.is_array() ? defs : json::array()) {
    if (def.is_object() && def.value("name", json()) == json(svc.migrate_container)) log = aws::Awslogs(def, task_id);
  }
  aws::Logs logs(c);
  std::string token;
  // Reads the log on from where the last read ended: one page per poll while the task runs, and
  // once it stopped, page after page to the end of the stream (CloudWatch Logs answers the same
  // forward token, or no events, there), so that a chatty migration's last lines, which say why it
  // failed, are never cut off. At most kDrainPages pages, in case a stream never ends.
  constexpr int kDrainPages = 200;
  auto pump = [&](bool to_end) -> Result<void> {
    if (!log) return {};
    for (int page = 0; page < (to_end ? kDrainPages : 1); ++page) {
      auto r = logs.GetLogEvents(
          {.group = log->group, .stream = log->stream, .next_token = token, .start_from_head = true});
      if (!r) return r.error().code == "ResourceNotFoundException" ? Result<void>() : tl::unexpected(r.error());
      const bool moved = !r->next_token.empty() && r->next_token != token;
      if (!r->next_token.empty()) token = r->next_token;
      for (const auto& e : r->events) {
        const std::string& line = e.message;
        progress("  migrate | " + line);
        tail.push_back(line);
        if (tail.size() > 20) tail.erase(tail.begin());
      }
      if (r->events.empty() || !moved) break;
    }
    return {};
  };
  const SteadyTime deadline = clock.Now() + std::chrono::seconds(svc.migrate_timeout_seconds);
  for (;;) {
    auto d = ecs.DescribeTasks(env.cluster, {task_arn});
    if (!d) return tl::unexpected(d.error());
    if (auto p = pump(false); !p) return tl::unexpected(p.error());
    if (d->tasks.empty()) return Failed("migration task " + task_id + " disappeared");
    const aws::Task& t = d->tasks[0];
    if (t.last_status == "STOPPED") {
      if (auto p = pump(true); !p) return tl::unexpected(p.error());
      for (const auto& ct : t.containers) {
        if (ct.name != svc.migrate_container) continue;
        if (!ct.exit_code) return Failed("migration task " + task_id + " did not run: " + t.stopped_reason);
        const int code = *ct.exit_code;
        if (code == 0) {
          progress("migration of " + svc.name + " finished (exit 0)");
          return MigrationResult{};
        }
        return Failed("migration of " + svc.name + " exited with code " + std::to_string(code) +
                      (ct.reason.empty() ? "" : " (" + ct.reason + ")"));
      }
      return Failed("migration task " + task_id + " stopped: " + t.stopped_reason);
    }
    if (clock.Now() >= deadline) {
      (void)StopMigration(c, env, task_arn, task_id, "slipway: migration timed out");
      return Failed("migration of " + svc.name + " timed out after " + std::to_string(svc.migrate_timeout_seconds) +
                    " s");
    }
    if (!SleepUnlessCancelled(clock, Millis(250), cancel)) {
      return MigrationResult{Status::kInterrupted,
                             StopMigration(c, env, task_arn, task_id, "slipway: release interrupted")};
    }
  }
}

}  // namespace slipway::deploy
