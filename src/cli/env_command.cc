// `slipway env status|up|down ENV` and `slipway service start|stop ENV NAME`: how many tasks an
// environment's services run between releases, what that costs, and on-demand services.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "aws/ecs.h"
#include "aws/http_transport.h"
#include "cli/commands.h"
#include "cli/interrupt.h"
#include "cli/session.h"
#include "deploy/desired_count.h"
#include "deploy/lock.h"
#include "deploy/records.h"
#include "deploy/run.h"
#include "deploy/scaling.h"

namespace slipway::cli {

namespace {

using nlohmann::json;

struct EnvCommandFlags {
  EnvFlags env;
  std::string service;  ///< service start|stop: config or ECS service name
  std::string confirm;
};

int ErrorCode(const Error& e) {
  return e.code == aws::kOutcomeUnknown || aws::IsUnreachable(e) ? kExitOutcomeUnknown : kExitReleaseFailed;
}

std::string Money(double dollars, int decimals = 4) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "$%.*f", decimals, dollars);
  return buf;
}

// A price as given, without trailing zeros: "$0.04048".
std::string Price(double dollars) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "$%.10g", dollars);
  return buf;
}

// A change made under the release lock, so that no release starts meanwhile; End() removes it.
struct LockedChange {
  Session s;
  const EnvCommandFlags& f;
  InterruptScope interrupts;
  std::unique_ptr<deploy::ReleaseLock> lock;

  explicit LockedChange(const EnvCommandFlags& flags) : f(flags) {}

  void Progress(const std::string& line) const { PrintProgress(f.env, line); }

  // Loads, asks for approval, connects and takes the lock; an exit code when any of it fails.
  std::optional<int> Begin(const std::string& action) {
    auto loaded = LoadEnvironment(f.env);
    if (!loaded) return PrintError(f.env, f.env.env, kExitUsage, loaded.error().message);
    std::tie(s.cfg, s.env) = *loaded;
    if (!Approved(s.env, f.confirm, action)) {
      if (f.env.output == "json") PrintError(f.env, f.env.env, kExitNotApproved, "not approved; nothing was changed");
      return kExitNotApproved;
    }
    if (auto c = Connect(s, f.env); !c) return PrintError(f.env, f.env.env, kExitReleaseFailed, c.error().message);
    ReportUnreachable(s, [this](const std::string& line) { Progress(line); }, &interrupts.token());
    std::string held_by;
    auto taken = deploy::ReleaseLock::Acquire(*s.client, s.env, deploy::NewReleaseId(), deploy::Actor(),
                                              s.env.timeout_seconds * 2L + 600, held_by);
    if (!taken) return PrintError(f.env, f.env.env, ErrorCode(taken.error()), taken.error().message + "; nothing was changed");
    if (!*taken) {
      return PrintError(f.env, f.env.env, kExitLocked, "another release is in flight: " + held_by + "; nothing was changed");
    }
    lock = std::move(*taken);
    return std::nullopt;
  }

  // Removes the lock, then prints `message` as the error when there is one; returns `code`.
  int End(const std::string& message, int code) {
    if (lock) {
      if (auto removed = lock->Remove(); !removed) {
        Progress("warning: the lock could not be removed (" + removed.error().message + "); it expires " +
                 lock->expires() + ", or `slipway unlock " + s.env.name + "` removes it");
      }
    }
    return message.empty() ? code : PrintError(f.env, f.env.env, code, message);
  }

  Millis Timeout() const { return Millis(s.env.timeout_seconds * 1000L); }

  // Waits for `c`'s service to run `count` tasks and, when it sits behind the load balancer and
  // runs any, for that many healthy targets. "" when it got there, else why not.
  Result<std::string> WaitUntilServing(const deploy::ServiceCounts& c, int count) {
    auto progress = [this](const std::string& line) { Progress(line); };
    auto waited = deploy::WaitForCount(*s.client, s.clock, s.env.cluster, c.service_name, count, Timeout(),
                                       &interrupts.token(), progress);
    if (!waited || !waited->empty() || count == 0 || c.target_group_arn.empty()) return waited;
    return deploy::WaitForHealthyTargets(*s.client, s.clock, c.target_group_arn, c.service_name, count, Timeout(),
                                         &interrupts.token(), progress);
  }
};

json Row(const deploy::ServiceCounts& c, int previous, int desired, int running) {
  json row{{"service", c.name}, {"serviceName", c.service_name}, {"previousCount", previous},
           {"desiredCount", desired}, {"runningCount", running}};
  return row;
}

// Sets every existing service of the environment to `count_of(service)` and waits until each
// serves it. `by` names the command in the override tag.
int ScaleEnvironment(const EnvCommandFlags& f, bool up) {
  LockedChange change(f);
  if (auto rc = change.Begin(std::string(up ? "starting " : "stopping ") + "environment " + f.env.env)) return *rc;
  Session& s = change.s;
  std::vector<deploy::ServiceCounts> services;
  std::vector<std::string> never_released;
  for (const auto& [name, se] : s.env.services) {
    auto c = deploy::ReadServiceCounts(*s.client, s.env, name);
    if (!c) return change.End(c.error().message + "; nothing was changed", ErrorCode(c.error()));
    if (c->exists) services.push_back(*c);
    else never_released.push_back(se.service_name);
  }
  if (services.empty() || (up && !never_released.empty())) {
    return change.End("service " + (never_released.empty() ? std::string("?") : never_released[0]) +
                          " does not exist yet (never released); `slipway deploy " + s.env.name +
                          "` creates it; nothing was changed",
                      kExitReleaseFailed);
  }
  change.Progress(std::string(up ? "starting " : "stopping ") + s.env.name + ": " +
                  (up ? "slipway.yaml's desiredCount for each service" : "every service to 0 tasks"));
  json rows = json::array();
  for (const auto& c : services) {
    const config::ServiceEnv& se = s.env.services.at(c.name);
    const int count = up ? deploy::DefaultDesiredCount(se) : 0;
    change.Progress(c.service_name + ": desiredCount " + std::to_string(c.desired) + " -> " + std::to_string(count) +
                    (up && se.on_demand ? " (on demand: stays stopped until `slipway service start`)" : ""));
    if (auto set = deploy::SetDesiredCount(*s.client, s.env, c, count, up ? "env-up" : "env-down"); !set) {
      return change.End(c.service_name + ": " + set.error().message + "; the services before it were changed; " +
                            "run the command again",
                        ErrorCode(set.error()));
    }
    rows.push_back(Row(c, c.desired, count, 0));
  }
  for (size_t i = 0; i < services.size(); ++i) {
    const int count = rows[i]["desiredCount"].get<int>();
    auto waited = change.WaitUntilServing(services[i], count);
    if (!waited) return change.End("its tasks could not be watched: " + waited.error().message, ErrorCode(waited.error()));
    if (*waited == deploy::kWaitInterrupted) return change.End("interrupted while waiting; the counts stay set", kExitInterrupted);
    if (!waited->empty()) {
      return change.End(services[i].service_name + ": desiredCount is " + std::to_string(count) + " but " + *waited +
                            "; see slipway diagnose " + s.env.name,
                        kExitReleaseFailed);
    }
    rows[i]["runningCount"] = count;
  }
  std::string verify;
  if (up) {
    // The release's own checks, skipping those of services that run no task (on demand, stopped).
    aws::CurlTransport http;
    deploy::ReleaseOptions options;
    options.progress = [&change](const std::string& line) { change.Progress(line); };
    options.cancel = &change.interrupts.token();
    deploy::ReleaseReport report;
    for (size_t i = 0; i < services.size(); ++i) {
      report.services.push_back({.service_name = services[i].service_name,
                                 .desired_count = rows[i]["desiredCount"].get<int>()});
    }
    deploy::Run run{*s.client, http, s.clock, s.env, options, report, s.clock.Now()};
    verify = deploy::Verify(run);
  }
  const bool json_out = f.env.output == "json";
  const int code = verify.empty() ? kExitReleased : kExitReleaseFailed;
  if (json_out) {
    json out{{"environment", s.env.name}, {"action", up ? "up" : "down"}, {"services", rows},
             {"neverReleased", never_released}, {"exitCode", code}};
    if (up) out["verify"] = {{"passed", verify.empty()}, {"failure", verify.empty() ? json() : json(verify)}};
    if (!verify.empty()) out["error"] = "verify failed: " + verify;
    std::printf("%s\n", out.dump(2).c_str());
    change.End("", code);
    return code;
  }
  for (const auto& name : never_released) std::printf("%s: does not exist yet (never released)\n", name.c_str());
  if (!verify.empty()) {
    return change.End("the services run slipway.yaml's counts, but verify failed: " + verify +
                          "; see slipway diagnose " + s.env.name,
                      kExitReleaseFailed);
  }
  if (up) {
    std::printf("%s is up: every service runs slipway.yaml's desiredCount, overrides removed, verify passed\n",
                s.env.name.c_str());
  } else {
    std::printf("%s is down: 0 tasks running; releases keep it down until `slipway env up %s`\n", s.env.name.c_str(),
                s.env.name.c_str());
  }
  return change.End("", kExitReleased);
}

// One service's row of `env status`, with its cost estimate; adds its cost to `total`.
Result<json> StatusRow(Session& s, const std::string& name, double& total, int& tasks) {
  auto c = deploy::ReadServiceCounts(*s.client, s.env, name);
  if (!c) return tl::unexpected(c.error());
  const config::ServiceEnv& se = s.env.services.at(name);
  json row{{"service", name}, {"serviceName", c->service_name}, {"exists", c->exists},
           {"configuredCount", se.desired_count}, {"onDemand", se.on_demand},
           {"releaseCount", deploy::ReleaseDesiredCount(se, c->override_)},
           {"desiredCount", c->desired}, {"runningCount", c->running}, {"pendingCount", c->pending},
           {"override", c->override_ ? json{{"count", c->override_->count}, {"description", c->override_->Describe()}}
                                     : json()},
           {"vcpu", json()}, {"memoryGB", json()}, {"hourlyCost", json()}};
  if (!c->exists) return row;
  auto td = aws::Ecs(*s.client).DescribeTaskDefinition(c->task_definition);
  if (!td) return tl::unexpected(td.error());
  const json& doc = *td->document;
  auto text = [&](const char* key) { return doc.value(key, json()).is_string() ? doc[key].get<std::string>() : ""; };
  auto vcpus = deploy::VcpusOf(text("cpu"));
  auto gb = deploy::GigabytesOf(text("memory"));
  if (vcpus && gb) {
    const double cost = deploy::HourlyCost(*vcpus, *gb, c->running, s.env.pricing);
    row["vcpu"] = *vcpus;
    row["memoryGB"] = *gb;
    row["hourlyCost"] = cost;
    total += cost;
  }
  tasks += c->running;
  return row;
}

int EnvStatus(const EnvCommandFlags& f) {
  Session s;
  if (auto rc = OpenSession(s, f.env, EngineStart::kNever)) return *rc;
  json rows = json::array();
  double total = 0;
  int tasks = 0;
  for (const auto& [name, se] : s.env.services) {
    auto row = StatusRow(s, name, total, tasks);
    if (!row) return PrintError(f.env, f.env.env, kExitReleaseFailed, row.error().message);
    rows.push_back(*row);
  }
  const config::Pricing& p = s.env.pricing;
  const std::string basis = "estimate: Fargate Linux/x86 on-demand prices of " + Price(p.vcpu_hour) +
                            " per vCPU-hour and " + Price(p.gb_hour) +
                            " per GB-hour (defaults: us-east-1; `pricing:` in slipway.yaml sets yours) times each "
                            "running task's size; not a bill: load balancer, storage, data transfer, logs and "
                            "discounts are not counted";
  if (f.env.output == "json") {
    std::printf("%s\n", json{{"environment", s.env.name},
                             {"services", rows},
                             {"runningTasks", tasks},
                             {"hourlyCost", total},
                             {"pricing", {{"vcpuHour", p.vcpu_hour}, {"gbHour", p.gb_hour}}},
                             {"estimate", true},
                             {"note", basis}}
                            .dump(2)
                            .c_str());
    return kExitReleased;
  }
  std::printf("%-24s %-8s %-8s %-20s %-10s %s\n", "SERVICE", "DESIRED", "RUNNING", "TASK SIZE", "$/HOUR", "OVERRIDE");
  for (const auto& r : rows) {
    const std::string service = r["serviceName"].get<std::string>();
    if (!r["exists"].get<bool>()) {
      std::printf("%-24s does not exist yet (never released)\n", service.c_str());
      continue;
    }
    char size[64] = "unknown";
    if (!r["vcpu"].is_null()) std::snprintf(size, sizeof size, "%g vCPU, %g GB", r["vcpu"].get<double>(), r["memoryGB"].get<double>());
    std::string override_ = r["override"].is_null() ? (r["onDemand"].get<bool>() ? "- (on demand)" : "-")
                                                    : r["override"]["description"].get<std::string>();
    std::printf("%-24s %-8d %-8d %-20s %-10s %s\n", service.c_str(), r["desiredCount"].get<int>(),
                r["runningCount"].get<int>(), size,
                r["hourlyCost"].is_null() ? "?" : Money(r["hourlyCost"].get<double>()).c_str(), override_.c_str());
  }
  std::printf("%s: %d task(s) running, about %s per hour (%s per 30 days)\n", s.env.name.c_str(), tasks,
              Money(total).c_str(), Money(total * 24 * 30, 2).c_str());
  std::printf("%s\n", basis.c_str());
  return kExitReleased;
}

// `service start|stop`: one service to its configured count (healthy) or to 0.
int StartStop(const EnvCommandFlags& f, bool start) {
  LockedChange change(f);
  if (auto rc = change.Begin(std::string(start ? "starting " : "stopping ") + f.service)) return *rc;
  Session& s = change.s;
  std::string name;
  for (const auto& [n, se] : s.env.services) {
    if (f.service == n || f.service == se.service_name) name = n;
  }
  if (name.empty()) {
    return change.End("no service '" + f.service + "' in environment " + s.env.name + "; nothing was changed",
                      kExitUsage);
  }
  const config::ServiceEnv& se = s.env.services.at(name);
  auto c = deploy::ReadServiceCounts(*s.client, s.env, name);
  if (!c) return change.End(c.error().message + "; nothing was changed", ErrorCode(c.error()));
  if (!c->exists) {
    return change.End("service " + se.service_name + " does not exist yet (never released); `slipway deploy " +
                          s.env.name + "` creates it",
                      kExitReleaseFailed);
  }
  const int count = start ? se.desired_count : 0;
  change.Progress(std::string(start ? "starting " : "stopping ") + se.service_name + ": desiredCount " +
                  std::to_string(c->desired) + " -> " + std::to_string(count));
  if (auto set = deploy::SetDesiredCount(*s.client, s.env, *c, count, start ? "service-start" : "service-stop"); !set) {
    return change.End(se.service_name + ": " + set.error().message, ErrorCode(set.error()));
  }
  const auto began = s.clock.Now();
  auto waited = change.WaitUntilServing(*c, count);
  if (!waited) return change.End("its tasks could not be watched: " + waited.error().message, ErrorCode(waited.error()));
  if (*waited == deploy::kWaitInterrupted) return change.End("interrupted while waiting; desiredCount stays set", kExitInterrupted);
  if (!waited->empty()) {
    return change.End(se.service_name + ": desiredCount is " + std::to_string(count) + " but " + *waited +
                          "; see slipway diagnose " + s.env.name,
                      kExitReleaseFailed);
  }
  const double seconds = std::chrono::duration<double>(s.clock.Now() - began).count();
  if (f.env.output == "json") {
    json row = Row(*c, c->desired, count, count);
    row["environment"] = s.env.name;
    row["healthy"] = start && !c->target_group_arn.empty();
    row["seconds"] = seconds;
    row["exitCode"] = kExitReleased;
    std::printf("%s\n", row.dump(2).c_str());
  } else if (start) {
    std::printf("%s started: %d task(s) running%s in %.1f s; releases keep it running until `slipway service stop "
                "%s %s`\n",
                se.service_name.c_str(), count, c->target_group_arn.empty() ? "" : " and healthy", seconds,
                s.env.name.c_str(), name.c_str());
  } else {
    std::printf("%s stopped: 0 tasks in %.1f s\n", se.service_name.c_str(), seconds);
  }
  return change.End("", kExitReleased);
}

}  // namespace

void AddEnvCommands(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<EnvCommandFlags>();
  CLI::App* env = app.add_subcommand(
      "env", "Stop an environment to save cost, start it again, and see what it runs and costs.\n"
             "  slipway env status dev      desired and running tasks per service, overrides, cost estimate\n"
             "  slipway env down dev        every service to 0 tasks; releases keep it down\n"
             "  slipway env up dev          slipway.yaml's counts again, wait until steady, verify\n"
             "Exit: 0 done; 1 failed (not steady in timeoutSeconds, or verify failed: the message says which);\n"
             "2 usage or config error; 4 not approved; 5 a release is in flight; 6 outcome unknown;\n"
             "7 status: no local engine runs; 130 interrupted.");
  env->require_subcommand(1);
  CLI::App* status = env->add_subcommand(
      "status", "Desired and running tasks per service, any desiredCount override, and the hourly Fargate cost of "
                "what runs (an estimate: task vCPU and GB x running tasks x price). Reads only; exit 7 when no "
                "local engine runs.\n  slipway env status dev --output json");
  AddEnvFlags(status, flags->env);
  status->callback([flags, &exit_code] { exit_code = EnvStatus(*flags); });
  CLI::App* down = env->add_subcommand(
      "down", "Scale every service to 0 tasks and wait until none runs. Each service records the override "
              "(tag slipway:desiredCount, with the count it had), so releases keep it down until `env up`.\n"
              "  slipway env down dev");
  AddEnvFlags(down, flags->env);
  down->add_option("--confirm", flags->confirm, "Approval phrase for environments with `approval:`");
  down->callback([flags, &exit_code] { exit_code = ScaleEnvironment(*flags, false); });
  CLI::App* up = env->add_subcommand(
      "up", "Remove every desiredCount override and set slipway.yaml's counts (on-demand services stay stopped), "
            "wait until every service runs them with healthy targets, then run the environment's verify checks.\n"
            "  slipway env up dev\nExit 1 when a service does not become steady or verify fails.");
  AddEnvFlags(up, flags->env);
  up->add_option("--confirm", flags->confirm, "Approval phrase for environments with `approval:`");
  up->callback([flags, &exit_code] { exit_code = ScaleEnvironment(*flags, true); });

  CLI::App* service = app.add_subcommand(
      "service", "Start and stop a service on demand (`onDemand: true` in slipway.yaml: it runs no task unless started).\n"
                 "  slipway service start dev pgadmin   run its desiredCount (default 1) and wait until healthy\n"
                 "  slipway service stop dev pgadmin    back to 0 tasks\n"
                 "A started service keeps running across releases until stopped.\n"
                 "Exit: 0 done; 1 not running (healthy) within timeoutSeconds; 2 unknown service; 4 not approved; "
                 "5 a release is in flight; 6 outcome unknown; 130 interrupted.");
  service->require_subcommand(1);
  for (const bool start : {true, false}) {
    CLI::App* cmd = service->add_subcommand(
        start ? "start" : "stop",
        start ? "Set the service's desiredCount to slipway.yaml's (default 1), recorded as its override so that "
                "releases keep it running, and wait until that many tasks run and, behind the load balancer, are "
                "healthy.\n  slipway service start dev pgadmin --output json"
              : "Set the service's desiredCount to 0 (an on-demand service's override is removed) and wait until its "
                "tasks have stopped.\n  slipway service stop dev pgadmin");
    AddEnvFlags(cmd, flags->env);
    cmd->add_option("service", flags->service, "Service (config name or ECS service name)")->required();
    cmd->add_option("--confirm", flags->confirm, "Approval phrase for environments with `approval:`");
    cmd->callback([flags, start, &exit_code] { exit_code = StartStop(*flags, start); });
  }
}

}  // namespace slipway::cli
