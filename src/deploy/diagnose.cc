// Failure diagnosis over ECS DescribeTasks and CloudWatch Logs GetLogEvents.
#include "deploy/diagnose.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>

#include "aws/ecs.h"
#include "aws/logs.h"
#include "aws/task_definition.h"

namespace slipway::deploy {

using nlohmann::json;

namespace {

// First capture of `re` in the newest matching line.
std::optional<std::string> FindInLog(const std::vector<std::string>& lines, const std::regex& re) {
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    std::smatch m;
    if (std::regex_search(*it, m, re)) return m.size() > 1 && m[1].matched ? m[1].str() : m[0].str();
  }
  return std::nullopt;
}

std::string ShortId(const std::string& task_arn) { return task_arn.substr(task_arn.rfind('/') + 1); }

}  // namespace

std::vector<std::string> Hints(const TaskFacts& t) {
  std::vector<std::string> hints;
  const ContainerFacts* main = t.containers.empty() ? nullptr : &t.containers.front();
  for (const auto& c : t.containers) {
    if (c.exit_code && (!main || !main->exit_code)) main = &c;
  }
  static const std::regex kMissingEnv(
      R"((?:environment variable|env var|variable)\s+['"`]?([A-Z_][A-Z0-9_]*)['"`]?\s+(?:is\s+)?(?:not set|missing|required|undefined|must be set))"
      R"(|([A-Z_][A-Z0-9_]{2,})\s+(?:is not set|is required|must be set|is missing|not defined))"
      R"(|KeyError:\s*'([A-Z_][A-Z0-9_]*)')",
      std::regex::icase);
  static const std::regex kListenPort(R"((?:listening|listen|bound|serving)\s+on\s+(?:port\s+|[\w.\[\]:]*:)(\d{2,5}))",
                                      std::regex::icase);
  static const std::regex kExecFormat("exec format error", std::regex::icase);

  for (const auto& c : t.containers) {
    if (c.reason.find("OutOfMemoryError") == std::string::npos) continue;
    std::string limit = c.memory_mib ? " (limit " + std::to_string(c.memory_mib) + " MiB)" : "";
    hints.push_back("container " + c.name + " ran out of memory" + limit +
                    ": raise `memory` in the task definition or find what allocates");
  }
  std::smatch m;
  for (auto it = t.log_lines.rbegin(); it != t.log_lines.rend(); ++it) {
    if (std::regex_search(*it, m, kMissingEnv)) {
      std::string name = m[1].matched ? m[1].str() : m[2].matched ? m[2].str() : m[3].str();
      hints.push_back("the app needs environment variable " + name + " (log: \"" + *it +
                      "\"): set it in the task definition's `environment` or `secrets`");
      break;
    }
  }
  if (FindInLog(t.log_lines, kExecFormat) || t.stopped_reason.find("exec format error") != std::string::npos) {
    hints.push_back("exec format error: the image was built for another CPU architecture; build for linux/amd64");
  }
  if (main && main->container_port) {
    auto port = FindInLog(t.log_lines, kListenPort);
    if (port && std::stoi(*port) != main->container_port && std::stoi(*port) != main->host_port) {
      hints.push_back("the app listens on port " + *port + " but the task definition maps containerPort " +
                      std::to_string(main->container_port) + ": make them agree");
    }
  }
  if (t.stopped_reason.rfind("Task failed ELB health checks", 0) == 0) {
    hints.push_back("the load balancer's health check never passed: check the health-check path and matcher, and "
                    "that the app answers it on the container port");
  } else if (t.stopped_reason.rfind("Task failed container health checks", 0) == 0) {
    hints.push_back("the container's healthCheck command kept failing: run it by hand in the container");
  }
  if (t.stopped_reason.find("ResourceInitializationError") != std::string::npos &&
      t.stopped_reason.find("log group") != std::string::npos) {
    hints.push_back("the awslogs log group does not exist: create it or set awslogs-create-group to \"true\"");
  }
  if (hints.empty() && main && main->exit_code && *main->exit_code != 0 && t.started_at > 0 && t.stopped_at > 0 &&
      t.stopped_at - t.started_at < 10) {
    hints.push_back("container " + main->name + " exited with code " + std::to_string(*main->exit_code) + " within " +
                    std::to_string(static_cast<int>(t.stopped_at - t.started_at) + 1) +
                    " s of starting: it crashes at startup; see its last log lines");
  }
  return hints;
}

Result<std::vector<std::string>> TailLog(aws::AwsClient& c, const std::string& group, const std::string& stream, int n) {
  if (n <= 0) return std::vector<std::string>{};  // GetLogEvents takes a limit of 1 to 10000
  auto r = aws::Logs(c).GetLogEvents({.group = group, .stream = stream, .limit = n, .start_from_head = false});
  if (!r) {
    if (r.error().code == "ResourceNotFoundException") return std::vector<std::string>{};
    return tl::unexpected(r.error());
  }
  std::vector<std::string> lines;
  for (const auto& e : r->events) lines.push_back(e.message);
  return lines;
}

Result<std::vector<TaskFacts>> CollectTasks(aws::AwsClient& c, const TaskQuery& q) {
  aws::Ecs ecs(c);
  auto arns = ecs.ListTasks({.cluster = q.cluster, .service_name = q.service, .started_by = q.started_by,
                             .desired_status = q.desired_status});
  if (!arns) return tl::unexpected(arns.error());
  std::vector<TaskFacts> out;
  if (arns->empty()) return out;
  if (arns->size() > 100) arns->resize(100);  // DescribeTasks takes at most 100
  auto described = ecs.DescribeTasks(q.cluster, *arns);
  if (!described) return tl::unexpected(described.error());
  std::vector<aws::Task> tasks = std::move(described->tasks);
  // Tasks that failed come before tasks the scheduler merely replaced; newest first within each.
  auto replaced = [](const aws::Task& t) { return t.stopped_reason.rfind("Scaling activity", 0) == 0; };
  auto when = [](const aws::Task& t) { return t.stopped_at > 0 ? t.stopped_at : t.created_at; };
  std::sort(tasks.begin(), tasks.end(), [&](const aws::Task& a, const aws::Task& b) {
    if (replaced(a) != replaced(b)) return !replaced(a);
    return when(a) > when(b);
  });
  if (static_cast<int>(tasks.size()) > q.max_tasks) tasks.resize(static_cast<size_t>(q.max_tasks));
  std::map<std::string, json> definitions;
  for (const auto& t : tasks) {
    TaskFacts f;
    f.task_id = ShortId(t.arn);
    f.task_definition = t.task_definition_arn;
    f.last_status = t.last_status;
    f.health_status = t.health_status;
    f.stopped_reason = t.stopped_reason;
    f.stop_code = t.stop_code;
    f.started_at = t.started_at;
    f.stopped_at = t.stopped_at;
    if (!definitions.count(f.task_definition)) {
      auto td = ecs.DescribeTaskDefinition(f.task_definition);
      definitions[f.task_definition] = td ? *td->document : json::object();
    }
    const json& td = definitions[f.task_definition];
    for (const auto& ct : t.containers) {
      ContainerFacts cf;
      cf.name = ct.name;
      cf.exit_code = ct.exit_code;
      for (const auto& b : ct.network_bindings) {
        if (!cf.host_port) cf.host_port = b.host_port;
      }
      cf.reason = ct.reason;
      for (const auto& def : td.value("containerDefinitions", json::array())) {
        if (def.value("name", "") != cf.name) continue;
        for (const auto& pm : def.value("portMappings", json::array())) {
          if (!cf.container_port) cf.container_port = pm.value("containerPort", 0);
        }
        cf.memory_mib = aws::ContainerMemoryMib(td, def);
        auto awslogs = aws::Awslogs(def, f.task_id);
        if (f.log_stream.empty() && awslogs && def.value("essential", true)) {
          auto lines = TailLog(c, awslogs->group, awslogs->stream, q.log_lines);
          if (!lines) return tl::unexpected(lines.error());
          f.log_lines = *lines;
          f.log_stream = awslogs->group + ":" + awslogs->stream;
        }
      }
      f.containers.push_back(cf);
    }
    out.push_back(std::move(f));
  }
  return out;
}

std::string FormatTask(const TaskFacts& t) {
  std::string s = "  task " + t.task_id + " (" + t.task_definition.substr(t.task_definition.rfind('/') + 1) + ") " +
                  t.last_status + (t.health_status.empty() || t.health_status == "UNKNOWN" ? "" : " " + t.health_status) + "\n";
  if (!t.stopped_reason.empty()) s += "    stopped: " + t.stopped_reason + (t.stop_code.empty() ? "" : " [" + t.stop_code + "]") + "\n";
  for (const auto& c : t.containers) {
    if (!c.exit_code && c.reason.empty()) continue;
    s += "    container " + c.name + ":";
    if (c.exit_code) s += " exit code " + std::to_string(*c.exit_code);
    if (!c.reason.empty()) s += (c.exit_code ? ", " : " ") + c.reason;
    s += "\n";
  }
  if (!t.log_lines.empty()) {
    s += "    last " + std::to_string(t.log_lines.size()) + " log lines (" + t.log_stream + "):\n";
    for (const auto& l : t.log_lines) s += "      | " + l + "\n";
  } else if (!t.log_stream.empty()) {
    s += "    no log lines in " + t.log_stream + "\n";
  }
  for (const auto& h : Hints(t)) s += "    hint: " + h + "\n";
  return s;
}

std::string FormatTasks(const std::vector<TaskFacts>& tasks) {
  auto signature = [](const TaskFacts& t) {
    std::string sig = t.stopped_reason + "|" + (t.log_lines.empty() ? "" : t.log_lines.back());
    for (const auto& c : t.containers) sig += "|" + (c.exit_code ? std::to_string(*c.exit_code) : "-") + c.reason;
    return sig;
  };
  std::vector<std::pair<std::string, std::vector<const TaskFacts*>>> groups;
  for (const auto& t : tasks) {
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == signature(t); });
    if (it == groups.end()) groups.push_back({signature(t), {&t}});
    else it->second.push_back(&t);
  }
  std::string out;
  for (const auto& [sig, members] : groups) {
    out += FormatTask(*members.front());
    if (members.size() < 2) continue;
    out += "    the same for " + std::to_string(members.size() - 1) + " more task(s):";
    for (size_t i = 1; i < members.size(); ++i) out += " " + members[i]->task_id;
    out += "\n";
  }
  return out;
}

json TaskFactsJson(const TaskFacts& t) {
  json containers = json::array();
  for (const auto& c : t.containers) {
    json cj{{"name", c.name}, {"reason", c.reason}};
    cj["exitCode"] = c.exit_code ? json(*c.exit_code) : json();
    containers.push_back(cj);
  }
  return {{"taskId", t.task_id}, {"taskDefinition", t.task_definition}, {"lastStatus", t.last_status},
          {"stoppedReason", t.stopped_reason}, {"stopCode", t.stop_code}, {"containers", containers},
          {"logStream", t.log_stream}, {"logLines", t.log_lines}, {"hints", Hints(t)}};
}

}  // namespace slipway::deploy
