// Durable engine state in SQLite (WAL): a restarted engine picks up where it stopped.
#pragma once

#include <sqlite3.h>

#include <memory>
#include <string>

#include "base/result.h"

namespace slipway::engine {

/// Key-value document store over one SQLite database file.
class Store {
 public:
  /// Opens (creating if needed) `path` in WAL mode.
  [[nodiscard]] static Result<std::unique_ptr<Store>> Open(const std::string& path);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  /// Replaces the document stored under `key` (in one transaction).
  [[nodiscard]] Result<void> Put(const std::string& key, const std::string& document);
  /// The document under `key`, or empty if none.
  [[nodiscard]] Result<std::string> Get(const std::string& key);

 private:
  explicit Store(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

}  // namespace slipway::engine
