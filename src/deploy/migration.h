// A service's migration: its command run as a one-off task (RunTask) of the new revision before
// any traffic moves, with its log streamed as it runs.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aws/aws_client.h"
#include "base/cancel.h"
#include "base/clock.h"
#include "config/config.h"

namespace slipway::deploy {

/// Where progress lines go.
using Progress = std::function<void(const std::string&)>;

/// How a migration ended.
struct MigrationResult {
  enum class Status {
    kSucceeded,    ///< exit code 0
    kFailed,       ///< did not start, exited non-zero, or timed out; `detail` says which
    kInterrupted,  ///< cancelled while it ran; its task was stopped (or `detail` says why not)
  };
  Status status = Status::kSucceeded;
  std::string detail;
};

/// What a migration has done so far, kept up to date while it runs so that it is there when
/// the migration ends in an error.
struct MigrationProgress {
  std::string task_id;            ///< "" until RunTask answered
  std::vector<std::string> tail;  ///< its last log lines
};

/// Runs `svc`'s migration as a one-off task of `td_arn` (whose definition is `td`), streaming its
/// output, until it stops, times out, or `cancel` is set (then its task is stopped). RunTask
/// carries `client_token`, so that it is safe to send again when its reply is lost, and
/// `network` as its networkConfiguration (null: none).
[[nodiscard]] Result<MigrationResult> RunMigration(aws::AwsClient& c, Clock& clock, const config::Environment& env,
                                                   const config::ServiceSpec& svc, const std::string& td_arn,
                                                   const nlohmann::json& td, const std::string& client_token,
                                                   const nlohmann::json& network, const Progress& progress,
                                                   const CancelToken* cancel, MigrationProgress& state);

}  // namespace slipway::deploy
