// Explaining failures: stopped tasks with their reasons, exit codes, log tails and hints.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "aws/aws_client.h"

namespace slipway::deploy {

struct ContainerFacts {
  std::string name;
  std::optional<int> exit_code;
  std::string reason;
  int container_port = 0;        ///< from the task definition
  int host_port = 0;             ///< from the task's network bindings (differs on the local engine)
  long long memory_mib = 0;      ///< the container's (or task's) memory limit
};

/// One task as `diagnose` and the failure report show it.
struct TaskFacts {
  std::string task_id, task_definition, last_status, health_status;
  std::string stopped_reason, stop_code;
  double started_at = 0, stopped_at = 0;
  std::vector<ContainerFacts> containers;
  std::vector<std::string> log_lines;  ///< last lines of the essential container's log, oldest first
  std::string log_stream;              ///< group:stream they came from
};

/// What went wrong, in words, where a known pattern matches: OOM, a missing environment
/// variable named in the log, a port mismatch, a binary for another CPU (exec format error),
/// a failing health check, or a crash at start.
std::vector<std::string> Hints(const TaskFacts& task);

/// Which tasks to look at.
struct TaskQuery {
  std::string cluster;
  std::string service;     ///< ListTasks serviceName, or empty
  std::string started_by;  ///< ListTasks startedBy (a deployment id), or empty
  std::string desired_status = "STOPPED";
  int max_tasks = 3;       ///< newest first
  int log_lines = 20;
};

/// Describes the matching tasks, newest first, with log tails read from CloudWatch Logs.
[[nodiscard]] Result<std::vector<TaskFacts>> CollectTasks(aws::AwsClient& c, const TaskQuery& q);

/// The last `n` lines of `group`/`stream`; empty when the stream does not exist (yet).
[[nodiscard]] Result<std::vector<std::string>> TailLog(aws::AwsClient& c, const std::string& group,
                                                       const std::string& stream, int n);

/// A multi-line, indented text block for one task.
std::string FormatTask(const TaskFacts& t);
/// Text blocks for many tasks; tasks that failed the same way (stopped reason, exit codes, last
/// log line) are shown once, followed by the ids of the others.
std::string FormatTasks(const std::vector<TaskFacts>& tasks);
nlohmann::json TaskFactsJson(const TaskFacts& t);

}  // namespace slipway::deploy
