// SQLite-backed document store, plus the shared SQLite helpers.
#include "engine/store.h"

#include "engine/sqlite_util.h"

namespace slipway::engine {

Result<Database> OpenDatabase(const std::string& path, const std::string& schema) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open(path.c_str(), &raw);
  Database db(raw);
  if (rc != SQLITE_OK) return Fail("open " + path + ": " + (raw ? sqlite3_errmsg(raw) : "out of memory"));
  char* err = nullptr;
  const std::string setup = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;" + schema;
  if (sqlite3_exec(db.get(), setup.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown";
    sqlite3_free(err);
    return Fail("init " + path + ": " + msg);
  }
  return db;
}

Result<Statement> Prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &raw, nullptr) != SQLITE_OK) {
    return Fail(std::string("sqlite prepare: ") + sqlite3_errmsg(db));
  }
  return Statement(raw);
}

void Bind(sqlite3_stmt* s, int i, const std::string& text) {
  sqlite3_bind_text(s, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

void Bind(sqlite3_stmt* s, int i, int64_t value) { sqlite3_bind_int64(s, i, value); }

std::string ColumnText(sqlite3_stmt* s, int i) {
  const unsigned char* text = sqlite3_column_text(s, i);
  return text ? std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(sqlite3_column_bytes(s, i)))
              : std::string();
}

Result<std::unique_ptr<Store>> Store::Open(const std::string& path) {
  auto db = OpenDatabase(path, "CREATE TABLE IF NOT EXISTS documents (key TEXT PRIMARY KEY, body TEXT NOT NULL);");
  if (!db) return tl::unexpected(db.error());
  return std::unique_ptr<Store>(new Store(db->release()));
}

Store::~Store() { sqlite3_close(db_); }

Result<void> Store::Put(const std::string& key, const std::string& document) {
  auto stmt = Prepare(db_, "INSERT INTO documents(key, body) VALUES(?1, ?2) "
                           "ON CONFLICT(key) DO UPDATE SET body = excluded.body");
  if (!stmt) return tl::unexpected(stmt.error());
  Bind(stmt->get(), 1, key);
  Bind(stmt->get(), 2, document);
  if (sqlite3_step(stmt->get()) != SQLITE_DONE) {
    return Fail(std::string("sqlite put ") + key + ": " + sqlite3_errmsg(db_));
  }
  return {};
}

Result<std::string> Store::Get(const std::string& key) {
  auto stmt = Prepare(db_, "SELECT body FROM documents WHERE key = ?1");
  if (!stmt) return tl::unexpected(stmt.error());
  Bind(stmt->get(), 1, key);
  int rc = sqlite3_step(stmt->get());
  if (rc == SQLITE_ROW) return ColumnText(stmt->get(), 0);
  if (rc == SQLITE_DONE) return std::string();
  return Fail(std::string("sqlite get ") + key + ": " + sqlite3_errmsg(db_));
}

}  // namespace slipway::engine
