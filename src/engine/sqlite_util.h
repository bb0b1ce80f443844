// Small RAII helpers over the SQLite C API, shared by the engine's stores.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>

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

std::string ColumnText(sqlite3_stmt* s, int i);

}  // namespace slipway::engine
