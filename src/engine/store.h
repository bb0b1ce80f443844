// Durable engine state in SQLite (WAL): one row per object, written before an answer goes out.
#pragma once

#include <set>
#include <string>

#include "base/result.h"
#include "engine/model.h"
#include "engine/sqlite_util.h"

namespace slipway::engine {

/// The engine's state on disk: a row per object (cluster, task definition revision, service, task,
/// target, …), so a write costs what changed, not the size of the state.
class Store {
 public:
  /// Opens (creating if needed) `path` in WAL mode. Refuses a file written by a newer slipway.
  [[nodiscard]] static Result<std::unique_ptr<Store>> Open(const std::string& path);

  /// Writes the objects `refs` names as `state` has them now, deleting the ones it no longer
  /// holds, in one transaction. On success the change survives a crash of the process.
  [[nodiscard]] Result<void> Commit(const State& state, const std::set<ObjectRef>& refs);

  /// Puts the objects `refs` names back in `state` as they are stored (removing the ones that are
  /// not): what undoes an in-memory change whose commit failed.
  [[nodiscard]] Result<void> Revert(State& state, const std::set<ObjectRef>& refs);

  /// Reads every stored object. A file written by an engine before row storage (one JSON
  /// document) is converted to rows first, in one transaction; then `*migrated` is set.
  [[nodiscard]] Result<State> Load(bool* migrated);
  /// Changes whenever another connection (another engine process) commits to the database.
  [[nodiscard]] Result<long long> DataVersion();

 private:
  Store(std::string path, Database db) : path_(std::move(path)), db_(std::move(db)) {}
  [[nodiscard]] Result<void> Exec(const char* sql);

  std::string path_;
  Database db_;
  Statement upsert_, erase_;
};

}  // namespace slipway::engine
