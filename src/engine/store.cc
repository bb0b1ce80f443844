// SQLite-backed document store; statements are owned by RAII handles.
#include "engine/store.h"

namespace slipway::engine {

namespace {

struct StatementDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Statement = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

Result<Statement> Prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &raw, nullptr) != SQLITE_OK) {
    return Fail(std::string("sqlite prepare: ") + sqlite3_errmsg(db));
  }
  return Statement(raw);
}

}  // namespace

Result<std::unique_ptr<Store>> Store::Open(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Fail("open " + path + ": " + msg);
  }
  std::unique_ptr<Store> store(new Store(db));
  char* err = nullptr;
  const char* setup =
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;"
      "CREATE TABLE IF NOT EXISTS documents (key TEXT PRIMARY KEY, body TEXT NOT NULL);";
  if (sqlite3_exec(db, setup, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown";
    sqlite3_free(err);
    return Fail("init " + path + ": " + msg);
  }
  return store;
}

Store::~Store() { sqlite3_close(db_); }

Result<void> Store::Put(const std::string& key, const std::string& document) {
  auto stmt = Prepare(db_, "INSERT INTO documents(key, body) VALUES(?1, ?2) "
                           "ON CONFLICT(key) DO UPDATE SET body = excluded.body");
  if (!stmt) return tl::unexpected(stmt.error());
  sqlite3_bind_text(stmt->get(), 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(stmt->get(), 2, document.data(), static_cast<int>(document.size()),
                    SQLITE_TRANSIENT);
  if (sqlite3_step(stmt->get()) != SQLITE_DONE) {
    return Fail(std::string("sqlite put ") + key + ": " + sqlite3_errmsg(db_));
  }
  return {};
}

Result<std::string> Store::Get(const std::string& key) {
  auto stmt = Prepare(db_, "SELECT body FROM documents WHERE key = ?1");
  if (!stmt) return tl::unexpected(stmt.error());
  sqlite3_bind_text(stmt->get(), 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
  int rc = sqlite3_step(stmt->get());
  if (rc == SQLITE_ROW) {
    return std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt->get(), 0)));
  }
  if (rc == SQLITE_DONE) return std::string();
  return Fail(std::string("sqlite get ") + key + ": " + sqlite3_errmsg(db_));
}

}  // namespace slipway::engine
