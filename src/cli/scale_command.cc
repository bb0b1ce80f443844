// `slipway scale ENV SERVICE N`: change one service's desiredCount, and wait until it runs that
// many.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "aws/ecs.h"
#include "cli/commands.h"
#include "cli/interrupt.h"
#include "cli/session.h"
#include "deploy/lock.h"
#include "deploy/records.h"
#include "deploy/rollout.h"
#include "deploy/run.h"
#include "deploy/scaling.h"

namespace slipway::cli {

namespace {

using nlohmann::json;

struct ScaleFlags {
  EnvFlags env;
  std::string service;
  int count = -1;  ///< -1: not given (only with --reset)
  bool reset = false;
  std::string confirm;
};

// The environment's services by config name and ECS name, for a message.
std::string ServiceNames(const config::Environment& env) {
  std::string names;
  for (const auto& [name, se] : env.services) {
    names += (names.empty() ? "" : ", ") + name +
             (name == se.service_name ? "" : " (" + se.service_name + ")");
  }
  return names;
}

int Scale(const ScaleFlags& f) {
  Session s;
  auto loaded = LoadEnvironment(f.env);
  if (!loaded) return PrintError(f.env, f.env.env, kExitUsage, loaded.error().message);
  std::tie(s.cfg, s.env) = *loaded;
  const config::ServiceEnv* se = nullptr;
  for (const auto& [name, spec] : s.env.services) {
    if (f.service == name || f.service == spec.service_name) se = &spec;
  }
  if (!se) {
    return PrintError(f.env, f.env.env, kExitUsage,
                      "no service '" + f.service + "' in environment " + s.env.name +
                          " (its services: " + ServiceNames(s.env) + ")");
  }
  const std::string service = se->service_name;
  if (f.reset == (f.count >= 0)) {
    return PrintError(f.env, f.env.env, kExitUsage,
                      "give either a count or --reset (back to slipway.yaml's desiredCount)");
  }
  const int count = f.reset ? deploy::DefaultDesiredCount(*se) : f.count;
  if (!Approved(s.env, f.confirm, "scaling " + service)) {
    if (f.env.output == "json")
      PrintError(f.env, f.env.env, kExitNotApproved, "not approved; nothing was changed");
    return kExitNotApproved;
  }
  if (auto c = Connect(s, f.env); !c)
    return PrintError(f.env, f.env.env, kExitReleaseFailed, c.error().message);
  auto progress = [&f](const std::string& line) { PrintProgress(f.env, line); };
  InterruptScope interrupts;
  ReportUnreachable(s, progress, &interrupts.token());
  const auto started = s.clock.Now();
  // Held while scaling, so that no release starts meanwhile and none is scaled under.
  std::string held_by;
  auto lock = deploy::ReleaseLock::Acquire(*s.client, s.env, deploy::NewReleaseId(),
                                           deploy::Actor(), s.env.timeout_seconds + 600L, held_by);
  if (!lock)
    return PrintError(f.env, f.env.env, kExitReleaseFailed,
                      lock.error().message + "; nothing was changed");
  if (!*lock) {
    return PrintError(f.env, f.env.env, kExitLocked,
                      "another release is in flight: " + held_by + "; nothing was changed");
  }
  auto end = [&](const std::string& message, int code) {
    if (auto removed = (*lock)->Remove(); !removed) {
      PrintProgress(f.env, "warning: the lock could not be removed (" + removed.error().message +
                               "); it expires " + (*lock)->expires() + ", or `slipway unlock " +
                               s.env.name + "` removes it");
    }
    return message.empty() ? code : PrintError(f.env, f.env.env, code, message);
  };
  std::string config_name;
  for (const auto& [name, spec] : s.env.services) {
    if (&spec == se) config_name = name;
  }
  auto now = deploy::ReadServiceCounts(*s.client, s.env, config_name);
  if (!now) return end(now.error().message + "; nothing was changed", kExitReleaseFailed);
  if (!now->exists) {
    return end("service " + service + " does not exist yet (never released); `slipway deploy " +
                   s.env.name + "` creates it",
               kExitReleaseFailed);
  }
  const int before = now->desired;
  progress("scaling " + service + " in " + s.env.name + " from " + std::to_string(before) + " to " +
           std::to_string(count) + " task(s)" + (f.reset ? " (slipway.yaml's desiredCount)" : ""));
  if (auto u = deploy::SetDesiredCount(*s.client, s.env, *now, count, "scale"); !u) {
    if (u.error().code == aws::kOutcomeUnknown || aws::IsUnreachable(u.error())) {
      return end(
          "outcome unknown: " + u.error().message + "; check with slipway status " + s.env.name,
          kExitOutcomeUnknown);
    }
    return end(u.error().message + "; desiredCount was not changed", kExitReleaseFailed);
  }
  auto waited = deploy::WaitForCount(*s.client, s.clock, s.env.cluster, service, count,
                                     Millis(s.env.timeout_seconds * 1000L), &interrupts.token(), progress);
  if (!waited) {
    return end("desiredCount is " + std::to_string(count) +
                   " but its tasks could not be watched: " + waited.error().message,
               aws::IsUnreachable(waited.error()) ? kExitOutcomeUnknown : kExitReleaseFailed);
  }
  if (*waited == deploy::kWaitInterrupted) {
    return end("interrupted while waiting; desiredCount stays " + std::to_string(count),
               kExitInterrupted);
  }
  if (!waited->empty()) {
    return end("desiredCount is " + std::to_string(count) + " but " + *waited + " (timeoutSeconds); see slipway diagnose " +
                   s.env.name,
               kExitReleaseFailed);
  }
  const double seconds = std::chrono::duration<double>(s.clock.Now() - started).count();
  const int configured = deploy::DefaultDesiredCount(*se);
  const bool kept = count != configured;
  if (f.env.output == "json") {
    std::printf("%s\n", json{{"environment", s.env.name},
                             {"service", service},
                             {"previousCount", before},
                             {"desiredCount", count},
                             {"runningCount", count},
                             {"configuredCount", configured},
                             {"override", kept},
                             {"seconds", seconds},
                             {"exitCode", kExitReleased}}
                            .dump(2)
                            .c_str());
  } else {
    std::printf("scaled %s in %s from %d to %d task(s) in %.1f s\n", service.c_str(),
                s.env.name.c_str(), before, count, seconds);
    if (kept) {
      std::printf("releases keep %d (recorded as the service's %s tag) until `slipway scale %s %s --reset` "
                  "or `slipway env up %s` returns it to slipway.yaml's %d\n",
                  count, deploy::kDesiredCountTag, s.env.name.c_str(), config_name.c_str(), s.env.name.c_str(),
                  configured);
    }
  }
  return end("", kExitReleased);
}

}  // namespace

void AddScaleCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<ScaleFlags>();
  CLI::App* scale =
      app.add_subcommand("scale",
                         "Set one service's desiredCount (UpdateService, nothing else changes) and "
                         "wait until it runs that many tasks. The count is recorded on the service (tag "
                         "slipway:desiredCount) and releases keep it until --reset or `env up`.\n"
                         "  slipway scale dev web 4\n"
                         "  slipway scale dev web --reset      back to slipway.yaml's desiredCount\n"
                         "Exit: 0 scaled; 1 failed (the message says what runs); 2 usage or an "
                         "unknown service; 4 not approved; "
                         "5 a release is in flight; 6 outcome unknown; 130 interrupted.");
  AddEnvFlags(scale, flags->env);
  scale->add_option("service", flags->service, "Service (config name or ECS service name)")
      ->required();
  scale->add_option("count", flags->count, "Tasks to run (0-1000)")->check(CLI::Range(0, 1000));
  scale->add_flag("--reset", flags->reset,
                  "Remove the override: back to slipway.yaml's desiredCount (0 for an on-demand service)");
  scale->add_option("--confirm", flags->confirm,
                    "Approval phrase for environments with `approval:`");
  scale->callback([flags, &exit_code] { exit_code = Scale(*flags); });
}

}  // namespace slipway::cli
