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

namespace slipway::cli {

namespace {

using nlohmann::json;

struct ScaleFlags {
  EnvFlags env;
  std::string service;
  int count = 0;
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

// Polls the service until it runs `count` tasks with none pending in one deployment. Returns ""
// when it does, else why not ("interrupted" once cancelled).
Result<std::string> WaitForCount(Session& s, const std::string& service, int count,
                                 const CancelToken& cancel,
                                 const std::function<void(const std::string&)>& progress) {
  const auto deadline = s.clock.Now() + std::chrono::seconds(s.env.timeout_seconds);
  std::string last;
  for (;;) {
    auto d = deploy::DescribeService(*s.client, s.env.cluster, service);
    if (!d) return tl::unexpected(d.error());
    if (!*d) return std::string("the service is gone");
    const int running = (*d)->running_count, pending = (*d)->pending_count;
    const size_t deployments = (*d)->deployments.size();
    const std::string now = service + ": " + std::to_string(running) + "/" + std::to_string(count) +
                            " running, " + std::to_string(pending) + " pending";
    if (now != last) progress(now);
    last = now;
    if (running == count && pending == 0 && deployments <= 1) return std::string();
    if (s.clock.Now() >= deadline) {
      return "it did not reach " + std::to_string(count) + " running within timeoutSeconds (" +
             std::to_string(s.env.timeout_seconds) + " s): " + now + "; see slipway diagnose " +
             s.env.name;
    }
    if (!SleepUnlessCancelled(s.clock, Millis(1000), &cancel)) return std::string("interrupted");
  }
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
  auto d = deploy::DescribeService(*s.client, s.env.cluster, service);
  if (!d) return end(d.error().message + "; nothing was changed", kExitReleaseFailed);
  if (!*d || (*d)->status != "ACTIVE") {
    return end("service " + service + " does not exist yet (never released); `slipway deploy " +
                   s.env.name + "` creates it",
               kExitReleaseFailed);
  }
  const int before = (*d)->desired_count;
  progress("scaling " + service + " in " + s.env.name + " from " + std::to_string(before) + " to " +
           std::to_string(f.count) + " task(s)");
  auto u = aws::Ecs(*s.client).UpdateService({.cluster = s.env.cluster, .service = service, .desired_count = f.count});
  if (!u) {
    if (u.error().code == aws::kOutcomeUnknown || aws::IsUnreachable(u.error())) {
      return end(
          "outcome unknown: " + u.error().message + "; check with slipway status " + s.env.name,
          kExitOutcomeUnknown);
    }
    return end(u.error().message + "; nothing was changed", kExitReleaseFailed);
  }
  auto waited = WaitForCount(s, service, f.count, interrupts.token(), progress);
  if (!waited) {
    return end("desiredCount is " + std::to_string(f.count) +
                   " but its tasks could not be watched: " + waited.error().message,
               aws::IsUnreachable(waited.error()) ? kExitOutcomeUnknown : kExitReleaseFailed);
  }
  if (*waited == "interrupted") {
    return end("interrupted while waiting; desiredCount stays " + std::to_string(f.count),
               kExitInterrupted);
  }
  if (!waited->empty())
    return end("desiredCount is " + std::to_string(f.count) + " but " + *waited,
               kExitReleaseFailed);
  const double seconds = std::chrono::duration<double>(s.clock.Now() - started).count();
  const int configured = se->desired_count;
  if (f.env.output == "json") {
    std::printf("%s\n", json{{"environment", s.env.name},
                             {"service", service},
                             {"previousCount", before},
                             {"desiredCount", f.count},
                             {"runningCount", f.count},
                             {"seconds", seconds},
                             {"exitCode", kExitReleased}}
                            .dump(2)
                            .c_str());
  } else {
    std::printf("scaled %s in %s from %d to %d task(s) in %.1f s\n", service.c_str(),
                s.env.name.c_str(), before, f.count, seconds);
    if (configured != f.count) {
      std::printf("note: the next deploy sets it to slipway.yaml's desiredCount (%d) again\n",
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
                         "wait until it runs that many "
                         "tasks. The next deploy sets slipway.yaml's desiredCount again.\n"
                         "  slipway scale dev web 4\n"
                         "Exit: 0 scaled; 1 failed (the message says what runs); 2 usage or an "
                         "unknown service; 4 not approved; "
                         "5 a release is in flight; 6 outcome unknown; 130 interrupted.");
  AddEnvFlags(scale, flags->env);
  scale->add_option("service", flags->service, "Service (config name or ECS service name)")
      ->required();
  scale->add_option("count", flags->count, "Tasks to run (0-1000)")
      ->required()
      ->check(CLI::Range(0, 1000));
  scale->add_option("--confirm", flags->confirm,
                    "Approval phrase for environments with `approval:`");
  scale->callback([flags, &exit_code] { exit_code = Scale(*flags); });
}

}  // namespace slipway::cli
