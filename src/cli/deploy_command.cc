// `slipway deploy`, `slipway rollback` and `slipway status`.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/interrupt.h"
#include "cli/rollout_view.h"
#include "cli/session.h"
#include "deploy/plan.h"
#include "deploy/records.h"
#include "deploy/release.h"
#include "deploy/template_check.h"

namespace slipway::cli {

namespace {

struct ReleaseFlags {
  EnvFlags env;
  std::string confirm;
  std::string service;  // rollback --service
  std::string to;       // rollback --to
  bool force = false;   // rollback --force: --to a revision whose release did not complete
};

// The plan, on stderr (stdout may carry the report's JSON). A plan that cannot be read is said,
// and the gate still asks.
void ShowPlan(Session& s) {
  auto plan = PlanFor(s);
  if (!plan) {
    std::fprintf(stderr, "could not plan the release (%s); approve only if you know what it changes\n",
                 plan.error().message.c_str());
    return;
  }
  std::fprintf(stderr, "%s", deploy::FormatPlan(*plan, s.env.name).c_str());
}

int ExitFor(deploy::Outcome o) {
  switch (o) {
    case deploy::Outcome::kReleased: return kExitReleased;
    case deploy::Outcome::kFailed: return kExitReleaseFailed;
    case deploy::Outcome::kRollbackFailed: return kExitRollbackFailed;
    case deploy::Outcome::kLocked: return kExitLocked;
    case deploy::Outcome::kUnknown: return kExitOutcomeUnknown;
    case deploy::Outcome::kInterrupted: return kExitInterrupted;
  }
  return kExitOutcomeUnknown;
}

const char* ResultWord(deploy::Outcome o) {
  switch (o) {
    case deploy::Outcome::kReleased: return "released";
    case deploy::Outcome::kFailed: return "failed";
    case deploy::Outcome::kRollbackFailed: return "rollback-failed";
    case deploy::Outcome::kLocked: return "locked";
    case deploy::Outcome::kUnknown: return "unknown";
    case deploy::Outcome::kInterrupted: return "interrupted";
  }
  return "unknown";
}

// `slipway <verb> ENV` with the flags needed to reach the same environment again.
std::string CommandFor(const std::string& verb, const EnvFlags& f) {
  std::string command = "slipway " + verb + " " + f.env;
  if (f.config != "slipway.yaml") command += " --config " + f.config;
  if (f.data_dir != DefaultDataDir()) command += " --data-dir " + f.data_dir;
  return command;
}

// After kInterrupted or kUnknown: what each service was doing, and what to run next.
std::string InFlight(const deploy::ReleaseReport& r, const EnvFlags& f) {
  std::string out;
  for (const auto& s : r.services) {
    if (s.in_flight.empty()) continue;
    out += "  " + s.service_name + ": " + s.in_flight +
           (s.known_good_arn.empty() ? "" : "; known-good is " + deploy::FamilyRevision(s.known_good_arn)) + "\n";
  }
  if (out.empty()) return "";
  return "still in flight:\n" + out + "  watch it:   " + CommandFor("status", f) + "\n" +
         "  roll back:  " + CommandFor("rollback", f) + "\n";
}

// The end of an interrupted release, or of one whose outcome is unknown.
void PrintUnfinished(const deploy::ReleaseReport& r, const EnvFlags& f) {
  std::string out = "\n";
  if (r.outcome == deploy::Outcome::kUnknown) {
    out += "outcome unknown: " + r.unreachable + "\n";
    if (!r.failure.empty()) out += "  before that, the release had failed: " + r.failure + "\n";
  } else {
    out += r.failure + "\n";
  }
  out += InFlight(r, f);
  for (const auto& w : r.warnings) out += "warning: " + w + "\n";
  if (r.outcome == deploy::Outcome::kInterrupted && r.warnings.empty()) out += "the release lock is removed\n";
  std::fprintf(stderr, "%s", out.c_str());
}

void PrintReport(const deploy::ReleaseReport& r, const EnvFlags& f, bool json_out, const std::string& verb) {
  const std::string& env = f.env;
  if (json_out) {
    nlohmann::json j{{"environment", env}, {"result", ResultWord(r.outcome)}, {"releaseId", r.release_id},
                     {"seconds", r.seconds}, {"services", nlohmann::json::array()}};
    j["exitCode"] = ExitFor(r.outcome);
    if (!r.failure.empty()) j["failure"] = r.failure;
    // Anything but a release is an error, stated in the field every JSON error has.
    if (r.outcome != deploy::Outcome::kReleased) j["error"] = r.unreachable.empty() ? r.failure : r.unreachable;
    if (!r.state.empty()) j["state"] = r.state;
    if (!r.unreachable.empty()) j["unreachable"] = r.unreachable;
    if (!r.warnings.empty()) j["warnings"] = r.warnings;
    if (!r.migration_log.empty()) j["migrationLog"] = r.migration_log;
    j["stages"] = nlohmann::json::array();
    for (const auto& [stage, seconds] : r.stages) j["stages"].push_back({{"stage", stage}, {"seconds", seconds}});
    for (const auto& s : r.services) {
      nlohmann::json sj{{"service", s.service_name}, {"taskDefinition", s.task_definition_arn},
                        {"deployment", s.deployment_id}, {"runningCount", s.running_count},
                        {"runningTaskDefinition", s.running_task_definition},
                        {"knownGood", s.known_good_arn}, {"rollback", s.rollback},
                        {"stoppedTasks", nlohmann::json::array()}};
      if (!s.in_flight.empty()) sj["inFlight"] = s.in_flight;
      if (!s.rollback_deployment.empty()) sj["rollbackDeployment"] = s.rollback_deployment;
      for (const auto& t : s.stopped_tasks) sj["stoppedTasks"].push_back(deploy::TaskFactsJson(t));
      j["services"].push_back(sj);
    }
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  if (r.outcome == deploy::Outcome::kLocked) {
    std::fprintf(stderr, "another release is in flight: %s\nnothing was changed; retry when it has finished (%s)\n",
                 r.failure.c_str(), CommandFor("status", f).c_str());
    return;
  }
  if (r.outcome == deploy::Outcome::kUnknown || r.outcome == deploy::Outcome::kInterrupted) {
    return PrintUnfinished(r, f);
  }
  for (const auto& s : r.services) {
    std::string revision = deploy::FamilyRevision(s.task_definition_arn), note = s.rollback;
    // Never rolled out (a failed migration): show what runs instead, and say the new one did not.
    if (r.outcome != deploy::Outcome::kReleased && note.empty() && s.running_task_definition != s.task_definition_arn) {
      note = revision + " was not rolled out";
      revision = s.running_task_definition.empty() ? "(no service)" : deploy::FamilyRevision(s.running_task_definition);
    }
    std::printf("  %-24s %-28s %d running%s\n", s.service_name.c_str(), revision.c_str(), s.running_count,
                note.empty() ? "" : ("; " + note).c_str());
  }
  for (const auto& w : r.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  if (r.outcome == deploy::Outcome::kReleased) {
    std::string stages;
    for (const auto& [stage, seconds] : r.stages) {
      char part[64];
      std::snprintf(part, sizeof part, "%s%s %.1f s", stages.empty() ? "" : ", ", stage.c_str(), seconds);
      stages += part;
    }
    std::printf("%s %s in %.1f s%s\n", verb.c_str(), env.c_str(), r.seconds, stages.empty() ? "" : (": " + stages).c_str());
    return;
  }
  std::string out = "\n" + std::string(verb == "released" ? "release" : "rollback") + " failed: " + r.failure + "\n";
  if (!r.migration_log.empty()) {
    out += "  last " + std::to_string(r.migration_log.size()) + " lines of the migration:\n";
    for (const auto& l : r.migration_log) out += "    | " + l + "\n";
  }
  for (const auto& s : r.services) {
    if (s.stopped_tasks.empty()) continue;
    out += "  " + s.service_name + ": stopped tasks of deployment " + s.deployment_id + " (newest first)\n";
    out += deploy::FormatTasks(s.stopped_tasks);
  }
  if (r.outcome == deploy::Outcome::kFailed) {
    out += "every service is on its last known-good revision\n";
  } else {
    out += "ROLLBACK FAILED: " + r.state + "\n";
  }
  std::fprintf(stderr, "%s", out.c_str());
}

deploy::ReleaseOptions Options(const Session& s, const EnvFlags& f) {
  deploy::ReleaseOptions options;
  options.vars = TemplateVars(s.cfg);
  options.actor = deploy::Actor();
  options.progress = [f](const std::string& line) { PrintProgress(f, line); };
  return options;
}

int RunRelease(const ReleaseFlags& f, bool rollback) {
  Session s;
  auto loaded = LoadEnvironment(f.env);
  if (!loaded) return PrintError(f.env, f.env.env, kExitUsage, loaded.error().message);
  std::tie(s.cfg, s.env) = *loaded;
  if (rollback && !f.service.empty() &&
      std::none_of(s.env.services.begin(), s.env.services.end(), [&](const auto& kv) {
        return kv.first == f.service || kv.second.service_name == f.service;
      })) {
    return PrintError(f.env, f.env.env, kExitUsage, "no service '" + f.service + "' in environment " + s.env.name);
  }
  // Every template is checked with the variables the release will use, before anything is
  // contacted: a mistake in one changes nothing and registers nothing.
  if (!rollback) {
    if (auto checked = deploy::CheckTemplates(s.cfg, s.env, TemplateVars(s.cfg)); !checked) {
      return PrintError(f.env, f.env.env, kExitUsage, checked.error().message);
    }
  }
  // A release that will be approved (at a terminal, or by a matching --confirm) shows its plan
  // first, so that what is approved is known. Planning only reads: a refusal still changes nothing.
  const bool plan_first = !rollback && s.env.require_approval &&
                          (f.confirm.empty() ? ::isatty(STDIN_FILENO) != 0 : f.confirm == s.env.approval_phrase);
  if (plan_first) {
    if (auto c = Connect(s, f.env); !c) return PrintError(f.env, f.env.env, kExitReleaseFailed, c.error().message);
    ShowPlan(s);
  }
  if (!Approved(s.env, f.confirm, rollback ? "rolling back " + s.cfg.app : "releasing " + s.cfg.app)) {
    // The reason is on stderr already; a script reading JSON gets the outcome too.
    if (f.env.output == "json") PrintError(f.env, f.env.env, kExitNotApproved, "not approved; nothing was changed");
    return kExitNotApproved;
  }
  if (!plan_first) {
    if (auto c = Connect(s, f.env); !c) return PrintError(f.env, f.env.env, kExitReleaseFailed, c.error().message);
  }
  const bool json_out = f.env.output == "json";
  aws::CurlTransport verify_http;
  InterruptScope interrupts;
  auto options = Options(s, f.env);
  options.cancel = &interrupts.token();
  // On a terminal, each service's rollout is a line redrawn in place under the progress lines;
  // elsewhere (a pipe, a CI log, JSON) the progress lines are all there is.
  FdTerminal terminal(STDOUT_FILENO);
  RolloutView view(terminal, s.clock, options.cancel);
  if (WantsLiveView(STDOUT_FILENO, json_out)) {
    std::fflush(stdout);  // what printf buffered goes out before the view writes to the terminal
    options.progress = [&view](const std::string& line) { view.Print(Stamp() + "  " + line); };
    options.watch = [&view](const deploy::ServiceProgress& p) { view.Show(p); };
  }
  // Waits for an unreachable endpoint are part of the story, told where the progress goes.
  ReportUnreachable(s, options.progress, options.cancel);
  options.progress(std::string(rollback ? "rolling back " : "releasing ") + s.cfg.app + " in " + s.env.name + " (" +
                   s.env.provider + ", " + s.endpoint + ") as " + options.actor);
  auto report = rollback ? deploy::Rollback(*s.client, verify_http, s.clock, s.env, f.service, f.to, f.force, options)
                         : deploy::Release(*s.client, verify_http, s.clock, s.cfg, s.env, options);
  view.Finish();  // the last frame stays; the report and any error come under it
  if (!report) {
    // Only returned while no service was changed; the message says so.
    return PrintError(f.env, f.env.env, ExitCodeFor(report.error()), report.error().message);
  }
  PrintReport(*report, f.env, json_out, rollback ? "rolled back" : "released");
  return ExitFor(report->outcome);
}

int ShowStatus(const EnvFlags& f) {
  Session s;
  if (auto rc = OpenSession(s, f, EngineStart::kNever)) return *rc;
  auto st = deploy::Status(*s.client, s.env);
  if (!st) return PrintError(f, f.env, kExitReleaseFailed, st.error().message);
  // A service that does not exist was never released (as `diagnose` says).
  const char* kNeverReleased = "does not exist yet (never released)";
  if (f.output == "json") {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& x : *st) {
      j.push_back({{"service", x.service_name}, {"status", x.status}, {"taskDefinition", x.task_definition},
                   {"desiredCount", x.desired}, {"runningCount", x.running}, {"pendingCount", x.pending},
                   {"deployments", x.deployments}, {"rolloutState", x.rollout_state},
                   {"desiredCountOverride", x.count_override.empty() ? nlohmann::json() : nlohmann::json(x.count_override)}});
      if (x.status == "MISSING") j.back()["note"] = kNeverReleased;
    }
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("%-24s %-8s %-8s %-12s %s\n", "SERVICE", "STATUS", "RUNNING", "ROLLOUT", "TASK DEFINITION");
    for (const auto& x : *st) {
      if (x.status == "MISSING") {
        std::printf("%-24s %s\n", x.service_name.c_str(), kNeverReleased);
        continue;
      }
      std::printf("%-24s %-8s %d/%-6d %-12s %s\n", x.service_name.c_str(), x.status.c_str(), x.running, x.desired,
                  x.rollout_state.c_str(), x.task_definition.c_str());
      // A count set by `scale`, `env down` or `service start`: releases keep it, so say whose it is.
      if (!x.count_override.empty()) {
        std::printf("  desiredCount override: %s; releases keep it until `env up` or `scale --reset`\n",
                    x.count_override.c_str());
      }
    }
  }
  return kExitReleased;
}

}  // namespace

void AddDeployCommands(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<ReleaseFlags>();
  CLI::App* deploy = app.add_subcommand(
      "deploy",
      "Release an environment: provision what is missing, register task definitions, run migrations, roll out, "
      "watch until ECS reports COMPLETED, verify over HTTP. On any failure every service returns to its last "
      "known-good revision and the report says why (stopped reasons, exit codes, log tails, hints).\n"
      "Exit: 0 released; 1 failed, back on known-good; 2 usage/config error, or an image with no variant for the task's platform; 3 failed and the rollback failed too; "
      "4 not approved; 5 another release in flight; 6 outcome unknown: the endpoint stopped answering after a "
      "service may have changed (the message says what was in flight); 130 interrupted (SIGINT/SIGTERM): stopped "
      "at a safe point, lock removed, the revision recorded aborted or interrupted.");
  AddEnvFlags(deploy, flags->env);
  deploy->add_option("--confirm", flags->confirm, "Approval phrase for environments with `approval:` (for scripts)");
  deploy->callback([flags, &exit_code] { exit_code = RunRelease(*flags, false); });

  CLI::App* rollback = app.add_subcommand(
      "rollback",
      "Return services to an earlier revision, exactly as it was registered (same images, same environment): the "
      "newest known-good revision older than what runs now, or --to REVISION. The revision rolled away from is "
      "recorded as rolled-back and is no longer a known-good candidate.\n"
      "Exit: 0 rolled back; 1 failed before changing anything; 2 usage; 3 rollback failed; 4 not approved; 5 in flight; "
      "6 outcome unknown (the endpoint stopped answering); 130 interrupted.");
  AddEnvFlags(rollback, flags->env);
  rollback->add_option("--service", flags->service, "Only this service (config name or ECS service name)");
  rollback->add_option("--to", flags->to, "Revision number, family:revision or task definition ARN");
  rollback->add_flag("--force", flags->force,
                     "With --to: roll back to a revision recorded aborted, interrupted or failed (never verified)");
  rollback->add_option("--confirm", flags->confirm, "Approval phrase for environments with `approval:`");
  rollback->callback([flags, &exit_code] { exit_code = RunRelease(*flags, true); });

  CLI::App* status = app.add_subcommand("status", "Show each service's running/desired count and rollout state. Never starts the local engine: "
                                        "exit 7 when none runs");
  AddEnvFlags(status, flags->env);
  status->callback([flags, &exit_code] { exit_code = ShowStatus(flags->env); });
}

}  // namespace slipway::cli
