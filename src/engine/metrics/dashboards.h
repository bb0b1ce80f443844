// CloudWatch dashboards kept in SQLite (cloudwatch.db), so they outlive an engine restart, and
// the checks a dashboard body must pass before it is kept.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "engine/sqlite_util.h"

namespace slipway::engine {

/// A stored dashboard.
struct Dashboard {
  std::string name;
  std::string body;
  int64_t modified_ms = 0;  ///< when it was last put, epoch milliseconds
};

/// What ListDashboards tells of a dashboard: everything but its body.
struct DashboardEntry {
  std::string name;
  int64_t size = 0;         ///< the body's length in bytes
  int64_t modified_ms = 0;  ///< when it was last put, epoch milliseconds
};

/// Dashboards by name, each with its body's size kept beside it so that listing never reads a
/// body. Thread-safe: one lock guards the database.
class DashboardStore {
 public:
  /// Opens (creating if needed) the database at `path`, adding the size column to one written
  /// before it had one.
  [[nodiscard]] static Result<std::unique_ptr<DashboardStore>> Open(const std::string& path);

  /// Creates or replaces the dashboard `name`.
  [[nodiscard]] Result<void> Put(const std::string& name, const std::string& body, int64_t now_ms);
  /// The dashboard `name`, or nullopt.
  [[nodiscard]] Result<std::optional<Dashboard>> Get(const std::string& name);
  /// Up to `limit` dashboards whose names start with `prefix` and sort after `after`, by name.
  [[nodiscard]] Result<std::vector<DashboardEntry>> List(const std::string& prefix, const std::string& after,
                                                    size_t limit);
  /// Deletes all of `names`, or none: when some do not exist, returns them and deletes nothing.
  [[nodiscard]] Result<std::vector<std::string>> Delete(const std::vector<std::string>& names);
  /// How many dashboards there are.
  [[nodiscard]] Result<int64_t> Count();
  /// The bytes all bodies hold together.
  [[nodiscard]] Result<int64_t> TotalSize();

 private:
  explicit DashboardStore(Database db) : db_(std::move(db)) {}

  std::mutex mu_;
  Database db_;
};

/// One problem with a dashboard body, as PutDashboard reports it.
struct DashboardProblem {
  std::string data_path;  ///< JSON pointer into the body: "/widgets/0/type"
  std::string message;    ///< "Should have required property 'type'"
};

/// What is wrong with `body` as a dashboard: it must be a JSON object whose `widgets` is an
/// array of at most 500 objects, each with a known `type` and, where given, a `properties` object
/// and integer `x`, `y` (0 or more), `width` and `height` (1 to 24 and 1 to 1000). Empty when
/// it is fine.
std::vector<DashboardProblem> CheckDashboardBody(const std::string& body);

}  // namespace slipway::engine
