// Small RAII helpers over the SQLite C API, shared by the engine's stores.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"

namespace slipway::engine {

struct StatementDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Statement = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

struct DatabaseDeleter {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
using Database = std::unique_ptr<sqlite3, DatabaseDeleter>;

/// Opens `path` in WAL mode and runs `schema`; the error names the file.
[[nodiscard]] Result<Database> OpenDatabase(const std::string& path, const std::string& schema);

[[nodiscard]] Result<Statement> Prepare(sqlite3* db, const char* sql);

/// Binds parameter `i` (1-based).
void Bind(sqlite3_stmt* s, int i, const std::string& text);
void Bind(sqlite3_stmt* s, int i, int64_t value);
/// Binds parameter `i` (1-based) to bytes stored as a BLOB.
void BindBlob(sqlite3_stmt* s, int i, std::string_view bytes);

std::string ColumnText(sqlite3_stmt* s, int i);
/// Column `i` as bytes, whatever its storage class.
std::string ColumnBlob(sqlite3_stmt* s, int i);

/// A write transaction (BEGIN IMMEDIATE) that rolls back unless Commit() succeeded.
class Transaction {
 public:
  explicit Transaction(sqlite3* db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  /// Whether BEGIN succeeded; nothing is written otherwise.
  bool began() const { return began_; }
  /// Commits; on failure the transaction is rolled back and the error names SQLite's reason.
  [[nodiscard]] Result<void> Commit();

 private:
  sqlite3* db_;
  bool began_ = false;
  bool open_ = false;
};

}  // namespace slipway::engine
