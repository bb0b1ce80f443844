// ECR repository metadata (name, creation time, tag mutability, resource tags) in SQLite. The
// images themselves live in the registry.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "engine/sqlite_util.h"

namespace slipway::engine {

/// One repository as stored.
struct RepositoryRecord {
  std::string name;
  double created_at = 0;  ///< epoch seconds
  std::string tag_mutability = "MUTABLE";
  std::vector<std::pair<std::string, std::string>> tags;  ///< resource tags, in the order set
};

/// Repositories by name. Not thread-safe: EcrService serializes its calls.
class RepositoryStore {
 public:
  /// Opens (creating if needed) the database at `path`.
  [[nodiscard]] static Result<std::unique_ptr<RepositoryStore>> Open(const std::string& path);

  /// Adds `r`; false when a repository of that name exists.
  [[nodiscard]] Result<bool> Insert(const RepositoryRecord& r);
  [[nodiscard]] Result<std::optional<RepositoryRecord>> Find(const std::string& name);
  /// Every repository, by name.
  [[nodiscard]] Result<std::vector<RepositoryRecord>> All();
  [[nodiscard]] Result<int64_t> Count();
  [[nodiscard]] Result<void> SetTags(const std::string& name,
                                     const std::vector<std::pair<std::string, std::string>>& tags);
  /// Removes repository `name`; false when there was none.
  [[nodiscard]] Result<bool> Erase(const std::string& name);

 private:
  explicit RepositoryStore(Database db) : db_(std::move(db)) {}
  Result<std::vector<RepositoryRecord>> Select(const char* sql, const std::string* name);

  Database db_;
};

}  // namespace slipway::engine
