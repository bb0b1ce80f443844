// The migrate stage: each service's migration, as a one-off task of its new revision, before traffic moves.
#include "deploy/stages.h"

#include "deploy/migration.h"
#include "deploy/records.h"

namespace slipway::deploy {

using nlohmann::json;

Result<void> Migrate(Run& run, const config::Config& cfg, const std::map<std::string, json>& definitions,
                     const Infrastructure& infra) {
  size_t index = 0;
  for (const auto& [name, se] : run.env.services) {
    const auto& spec = cfg.services.at(name);
    ServiceResult& sr = run.report.services[index++];
    if (spec.migrate_command.empty()) continue;
    MigrationProgress progress;
    auto m = RunMigration(run.c, run.clock, run.env, spec, sr.task_definition_arn, definitions.at(name),
                          ClientToken(run.report.release_id, "RunTask migrate " + se.service_name),
                          NetworkConfiguration(run.env, infra.network.security_groups),
                          run.options.progress, run.options.cancel, progress);
    if (!m) {
      // A migration that may be running (or may have run) is a change whose outcome is unknown.
      const bool may_run = !progress.task_id.empty() || m.error().code == aws::kOutcomeUnknown;
      if (!may_run || !aws::IsUnreachable(m.error())) return tl::unexpected(m.error());
      sr.in_flight = progress.task_id.empty()
                         ? "RunTask for the migration of " + name + " was sent without a reply; no service was updated"
                         : "migration task " + progress.task_id + " of " + name + " was running; no service was updated";
      EndUnknown(run, m.error());
      return {};
    }
    if (m->status == MigrationResult::Status::kInterrupted) {
      Abort(run, "during the migration of " + name + " (" + m->detail + ")");
      return {};
    }
    if (m->status == MigrationResult::Status::kFailed) {
      run.report.migration_log = progress.tail;
      run.report.outcome = Outcome::kFailed;
      run.report.failure = m->detail + "; no service was changed";
      // Recorded as what it was, a failed release, as the report and the exit code say.
      Record(run, kResultFailed, m->detail);
      return {};
    }
  }
  return {};
}

}  // namespace slipway::deploy
