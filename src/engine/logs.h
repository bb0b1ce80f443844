// The engine's CloudWatch Logs subset (JSON 1.1, target prefix Logs_20140328), stored in SQLite.
// Task output reaches it through Ingest(); clients read it with GetLogEvents/FilterLogEvents.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "engine/api_types.h"
#include "engine/sqlite_util.h"

namespace slipway::engine {

/// One line of output to store: event time in epoch milliseconds and its text.
struct LogLine {
  int64_t timestamp_ms = 0;
  std::string message;
};

/// What the log store keeps at most.
struct LogLimits {
  /// Retention for a group without a policy (PutRetentionPolicy sets one per group).
  int default_retention_days = 30;
  /// Stored events across all groups; past it the oldest go first.
  int64_t max_events = 2'000'000;
};

/// Log groups, streams and events. Thread-safe; never calls back into the control plane.
class LogService {
 public:
  /// Opens (creating if needed) the log database at `path`; ARNs carry `region`.
  [[nodiscard]] static Result<std::unique_ptr<LogService>> Open(const std::string& path,
                                                                const std::string& region = "us-east-1");

  /// Serves one CloudWatch Logs operation at wall-clock time `now_ms`.
  ApiResult Handle(const std::string& op, const nlohmann::json& request, int64_t now_ms);

  /// Appends task output to group/stream, creating the stream (and the group when `create_group`).
  /// Fails when the group does not exist and may not be created.
  [[nodiscard]] Result<void> Ingest(const std::string& group, const std::string& stream,
                                    const std::vector<LogLine>& lines, bool create_group, int64_t now_ms);
  bool GroupExists(const std::string& group);
  /// Deletes events past their group's retention (or `limits`' default) and past the store's cap;
  /// returns how many went.
  [[nodiscard]] Result<int64_t> Sweep(int64_t now_ms, const LogLimits& limits = {});

 private:
  LogService(Database db, std::string region) : db_(std::move(db)), region_(std::move(region)) {}

  ApiResult CreateLogGroup(const nlohmann::json& r, int64_t now_ms);
  ApiResult CreateLogStream(const nlohmann::json& r, int64_t now_ms);
  ApiResult DescribeLogGroups(const nlohmann::json& r);
  ApiResult DescribeLogStreams(const nlohmann::json& r);
  ApiResult PutLogEvents(const nlohmann::json& r, int64_t now_ms);
  ApiResult GetLogEvents(const nlohmann::json& r);
  ApiResult FilterLogEvents(const nlohmann::json& r);
  ApiResult PutRetentionPolicy(const nlohmann::json& r);
  ApiResult DeleteRetentionPolicy(const nlohmann::json& r);

  bool GroupExistsLocked(const std::string& group);
  /// The request's logGroupName and logStreamName, both required and existing.
  tl::expected<std::pair<std::string, std::string>, ApiError> ExistingStream(const nlohmann::json& r);
  bool StreamExists(const std::string& group, const std::string& stream);
  ApiResult Append(const std::string& group, const std::string& stream, const std::vector<LogLine>& lines,
                   int64_t now_ms);

  std::mutex mu_;
  Database db_;
  std::string region_;
};

/// Whether `message` matches a CloudWatch Logs text filter pattern: space-separated terms that
/// must all appear, "quoted phrases", `?term` (any of these), `-term` (must not appear).
/// JSON and space-delimited patterns are rejected with an error message.
tl::expected<bool, std::string> MatchesFilterPattern(const std::string& pattern, const std::string& message);

}  // namespace slipway::engine
