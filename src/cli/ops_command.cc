// Day-two commands over an environment: `history`, `logs` and `diagnose`.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <map>
#include <thread>

#include "aws/ecs.h"
#include "aws/logs.h"
#include "aws/task_definition.h"
#include "cli/commands.h"
#include "cli/session.h"
#include "deploy/diagnose.h"
#include "deploy/records.h"
#include "deploy/release.h"
#include "deploy/rollout.h"

namespace slipway::cli {

namespace {

using nlohmann::json;

struct OpsFlags {
  EnvFlags env;
  std::string service;
  std::string since = "10m";
  bool follow = false;
  int limit = 20;
};

using Services = std::vector<std::pair<std::string, config::ServiceEnv>>;

// Opens the session and picks the environment's services, or the one named (by config name or
// ECS service name); on failure prints the error and returns the exit code.
std::optional<int> OpenServices(Session& s, const OpsFlags& f, Services& out) {
  if (auto rc = OpenSession(s, f.env, EngineStart::kNever)) return rc;
  for (const auto& [name, se] : s.env.services) {
    if (f.service.empty() || f.service == name || f.service == se.service_name) out.emplace_back(name, se);
  }
  if (out.empty()) {
    return PrintError(f.env, f.env.env, kExitUsage, "no service '" + f.service + "' in environment " + s.env.name);
  }
  return std::nullopt;
}

// The task definition the service runs now; empty when the service does not exist.
Result<std::string> CurrentTaskDefinition(aws::AwsClient& c, const config::Environment& env, const std::string& service) {
  auto d = deploy::DescribeService(c, env.cluster, service);
  if (!d) return tl::unexpected(d.error());
  return *d ? (*d)->task_definition : std::string();
}

int Fatal(const OpsFlags& f, const Error& e) { return PrintError(f.env, f.env.env, kExitReleaseFailed, e.message); }

int History(const OpsFlags& f) {
  Session s;
  Services services;
  if (auto rc = OpenServices(s, f, services)) return *rc;
  json rows = json::array();
  std::vector<std::string> never_released;
  for (const auto& [name, se] : services) {
    auto current = CurrentTaskDefinition(*s.client, s.env, se.service_name);
    if (!current) return Fatal(f, current.error());
    std::string family = current->empty() ? "" : deploy::FamilyOf(*current);
    if (family.empty()) {
      auto tf = deploy::TemplateFamily(s.cfg.services.at(name), se, TemplateVars(s.cfg));
      if (!tf) return Fatal(f, tf.error());
      family = *tf;
    }
    // Families may be shared between services; show this service's releases (and revisions
    // registered outside slipway, which carry no target).
    auto revisions = deploy::ListRevisions(*s.client, family, f.limit * 4);
    if (!revisions) return Fatal(f, revisions.error());
    int shown = 0;
    const size_t before = rows.size();
    for (const auto& r : *revisions) {
      const std::string target = r.Tag("slipway:target");
      if ((!target.empty() && target != deploy::ReleaseTarget(s.env.cluster, se.service_name)) || shown == f.limit) continue;
      ++shown;
      rows.push_back({{"service", se.service_name}, {"revision", deploy::FamilyRevision(r.arn)},
                      {"current", r.arn == *current}, {"result", r.Tag("slipway:result")},
                      {"started", r.Tag("slipway:started")}, {"finished", r.Tag("slipway:finished")},
                      {"by", r.Tag("slipway:by")}, {"release", r.Tag("slipway:release")},
                      {"images", r.images}, {"detail", r.Tag("slipway:detail")},
                      {"restored", r.Tag("slipway:restored")}});
    }
    if (rows.size() == before && current->empty()) never_released.push_back(se.service_name);
  }
  if (f.env.output == "json") {
    std::printf("%s\n", rows.dump(2).c_str());
    return kExitReleased;
  }
  for (const auto& name : never_released) {
    std::printf("service %s: does not exist yet (never released); no revision recorded\n", name.c_str());
  }
  if (rows.empty()) return kExitReleased;
  std::printf("  %-18s %-12s %-25s %-25s %-16s %s\n", "REVISION", "RESULT", "STARTED", "FINISHED", "BY", "IMAGES");
  for (const auto& r : rows) {
    std::string images;
    for (const auto& i : r["images"]) images += (images.empty() ? "" : ",") + i.get<std::string>();
    std::string result = r["result"].get<std::string>().empty() ? "-" : r["result"].get<std::string>();
    std::printf("%s %-18s %-12s %-25s %-25s %-16s %s\n", r["current"].get<bool>() ? "*" : " ",
                r["revision"].get<std::string>().c_str(), result.c_str(), r["started"].get<std::string>().c_str(),
                r["finished"].get<std::string>().c_str(), r["by"].get<std::string>().c_str(), images.c_str());
    if (!r["detail"].get<std::string>().empty()) std::printf("    %s\n", r["detail"].get<std::string>().c_str());
    if (!r["restored"].get<std::string>().empty()) std::printf("    restored by rollback %s\n", r["restored"].get<std::string>().c_str());
  }
  std::printf("(* = running now)\n");
  return kExitReleased;
}

struct LogSource {
  std::string service, group, stream_prefix;
};

int Logs(const OpsFlags& f) {
  const long since = ParseDuration(f.since);
  if (since < 0) {
    return PrintError(f.env, f.env.env, kExitUsage, "--since " + f.since + ": use a number with s, m, h or d (e.g. 10m)");
  }
  Session s;
  Services services;
  if (auto rc = OpenServices(s, f, services)) return *rc;
  std::vector<LogSource> sources;
  for (const auto& [name, se] : services) {
    auto current = CurrentTaskDefinition(*s.client, s.env, se.service_name);
    if (!current) return Fatal(f, current.error());
    if (current->empty()) continue;
    auto td = aws::Ecs(*s.client).DescribeTaskDefinition(*current);
    if (!td) return Fatal(f, td.error());
    for (const auto& def : td->document->value("containerDefinitions", json::array())) {
      if (auto awslogs = aws::Awslogs(def, "")) sources.push_back({se.service_name, awslogs->group, awslogs->stream});
    }
  }
  if (sources.empty()) {
    return PrintError(f.env, f.env.env, kExitReleaseFailed, "no running service of " + s.env.name + " writes to CloudWatch Logs (awslogs)");
  }
  const bool json_out = f.env.output == "json";
  int64_t start_ms = static_cast<int64_t>(EpochSeconds(s.clock.WallNow()) - static_cast<double>(since)) * 1000;
  std::map<std::string, int64_t> seen;  // event id -> timestamp, for events at or after start_ms
  aws::Logs logs(*s.client);
  for (;;) {
    int64_t newest = start_ms;
    for (const auto& src : sources) {
      auto events = logs.FilterLogEvents(
          {.group = src.group, .stream_prefix = src.stream_prefix, .start_time_ms = start_ms});
      if (!events) return Fatal(f, events.error());
      for (const auto& e : *events) {
        if (!seen.emplace(e.event_id, e.timestamp_ms).second) continue;
        newest = std::max(newest, e.timestamp_ms);
        const std::string task = e.log_stream_name.substr(e.log_stream_name.rfind('/') + 1);
        if (json_out) {
          std::printf("%s\n", json{{"service", src.service}, {"task", task}, {"timestamp", e.timestamp_ms},
                                   {"message", e.message}}.dump().c_str());
        } else {
          std::printf("%s %s | %s\n", src.service.c_str(), task.substr(0, 8).c_str(), e.message.c_str());
        }
      }
    }
    std::fflush(stdout);
    if (!f.follow) return kExitReleased;
    // Re-read from the newest timestamp seen; event ids drop what was printed already, and only
    // ids at that timestamp or later can come back, so older ones are forgotten.
    start_ms = newest;
    std::erase_if(seen, [&](const auto& kv) { return kv.second < start_ms; });
    s.clock.SleepFor(Millis(1000));
  }
}

int Diagnose(const OpsFlags& f) {
  Session s;
  Services services;
  if (auto rc = OpenServices(s, f, services)) return *rc;
  json out = json::array();
  std::string text;
  for (const auto& [name, se] : services) {
    auto d = deploy::DescribeService(*s.client, s.env.cluster, se.service_name);
    if (!d) return Fatal(f, d.error());
    if (!*d) {
      text += "service " + se.service_name + ": does not exist yet (never released)\n";
      out.push_back({{"service", se.service_name}, {"status", "MISSING"}});
      continue;
    }
    const aws::Service& svc = **d;
    auto running = deploy::CollectTasks(*s.client, {s.env.cluster, se.service_name, "", "RUNNING", 10, 0});
    if (!running) return Fatal(f, running.error());
    auto stopped = deploy::CollectTasks(*s.client, {s.env.cluster, se.service_name, "", "STOPPED", 5, 10});
    if (!stopped) return Fatal(f, stopped.error());
    json sj{{"service", se.service_name}, {"status", svc.status}, {"taskDefinition", svc.task_definition},
            {"desiredCount", svc.desired_count}, {"runningCount", svc.running_count},
            {"deployments", json::array()}, {"events", json::array()}, {"runningTasks", json::array()},
            {"stoppedTasks", json::array()}};
    text += "service " + se.service_name + ": " + svc.status + ", " + std::to_string(svc.running_count) + "/" +
            std::to_string(svc.desired_count) + " running, " + deploy::FamilyRevision(svc.task_definition) + "\n";
    for (const auto& dep : svc.deployments) {
      sj["deployments"].push_back({{"id", dep.id}, {"status", dep.status}, {"taskDefinition", dep.task_definition},
                                   {"rolloutState", dep.rollout_state}, {"rolloutStateReason", dep.rollout_state_reason},
                                   {"failedTasks", dep.failed_tasks}});
      text += "  deployment " + dep.id + " " + dep.status + " " + deploy::FamilyRevision(dep.task_definition) + " " +
              dep.rollout_state + " (failed tasks " + std::to_string(dep.failed_tasks) + "): " +
              dep.rollout_state_reason + "\n";
    }
    text += "  recent events:\n";
    int shown = 0;
    for (const auto& e : svc.events) {
      if (shown++ == 8) break;
      sj["events"].push_back(e.message);
      text += "    " + e.message + "\n";
    }
    text += "  running tasks: " + std::to_string(running->size()) + "\n";
    for (const auto& t : *running) {
      sj["runningTasks"].push_back(deploy::TaskFactsJson(t));
      text += "    " + t.task_id + " " + t.last_status + " " + deploy::FamilyRevision(t.task_definition) + "\n";
    }
    text += stopped->empty() ? "  no recently stopped tasks\n" : "  recently stopped tasks (newest first):\n";
    for (const auto& t : *stopped) sj["stoppedTasks"].push_back(deploy::TaskFactsJson(t));
    text += deploy::FormatTasks(*stopped);
    out.push_back(sj);
  }
  if (f.env.output == "json") std::printf("%s\n", out.dump(2).c_str());
  else std::printf("%s", text.c_str());
  return kExitReleased;
}

}  // namespace

void AddOpsCommands(CLI::App& app, int& exit_code) {
  // These only read: none starts the local engine, and each exits 7 (kExitNoEngine) when none runs.
  auto flags = std::make_shared<OpsFlags>();
  CLI::App* history = app.add_subcommand(
      "history", "List each service's releases, newest first: revision, result (released, failed, aborted, "
                 "interrupted, rolled-back, or in-progress), when it started and finished, who ran it, and its images. Read from tags on the "
                 "task definitions, so every machine sees the same history. Exit 7: no local engine runs.");
  AddEnvFlags(history, flags->env);
  history->add_option("service", flags->service, "Only this service");
  history->add_option("--limit", flags->limit, "Revisions per service")->capture_default_str()->check(CLI::Range(1, 100));
  history->callback([flags, &exit_code] { exit_code = History(*flags); });

  CLI::App* logs = app.add_subcommand(
      "logs", "Print the output of a service's tasks from CloudWatch Logs (the awslogs configuration of the "
              "task definition it runs now). Lines read 'SERVICE TASK | message'.\n"
              "  slipway logs dev web --since 30m\n  slipway logs dev --follow\nExit 7: no local engine runs.");
  AddEnvFlags(logs, flags->env);
  logs->add_option("service", flags->service, "Only this service");
  logs->add_option("--since", flags->since, "How far back: 90s, 10m, 2h, 1d")->capture_default_str();
  logs->add_flag("-f,--follow", flags->follow, "Keep printing new lines until interrupted");
  logs->callback([flags, &exit_code] { exit_code = Logs(*flags); });

  CLI::App* diagnose = app.add_subcommand(
      "diagnose", "Explain a service's state: deployments and rollout reasons, recent ECS events, running tasks, "
                  "and recently stopped tasks with stopped reason, exit codes, log tails and hints. Exit 7: no local engine runs.");
  AddEnvFlags(diagnose, flags->env);
  diagnose->add_option("service", flags->service, "Only this service");
  diagnose->callback([flags, &exit_code] { exit_code = Diagnose(*flags); });
}

}  // namespace slipway::cli
