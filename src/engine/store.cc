// SQLite-backed object store, plus the shared SQLite helpers.
#include "engine/store.h"

#include <cstdio>
#include <optional>

#include <nlohmann/json.hpp>

namespace slipway::engine {

namespace {

constexpr int kSchemaVersion = 2;  // 1: one "state" document; 2: a row per object

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS objects (kind TEXT NOT NULL, key TEXT NOT NULL, body TEXT NOT NULL,"
    "  PRIMARY KEY (kind, key)) WITHOUT ROWID;";

std::string ResetHint(const std::string& path) {
  const std::string dir = path.substr(0, path.rfind('/'));
  return "to start over with an empty engine: slipway engine stop --data-dir " + dir + " && rm -rf " + dir;
}

}  // namespace

Result<Database> OpenDatabase(const std::string& path, const std::string& schema) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open(path.c_str(), &raw);
  Database db(raw);
  if (rc != SQLITE_OK) return Fail("open " + path + ": " + (raw ? sqlite3_errmsg(raw) : "out of memory"));
  char* err = nullptr;
  const std::string setup = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000; PRAGMA journal_size_limit=67108864;" + schema;
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

void BindBlob(sqlite3_stmt* s, int i, std::string_view bytes) {
  sqlite3_bind_blob(s, i, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
}

std::string ColumnBlob(sqlite3_stmt* s, int i) {
  const void* bytes = sqlite3_column_blob(s, i);
  return bytes ? std::string(static_cast<const char*>(bytes), static_cast<size_t>(sqlite3_column_bytes(s, i)))
               : std::string();
}

Transaction::Transaction(sqlite3* db) : db_(db) {
  began_ = open_ = sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK;
}

Transaction::~Transaction() {
  if (open_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

Result<void> Transaction::Commit() {
  if (!open_) return Fail(std::string("sqlite: no transaction: ") + sqlite3_errmsg(db_));
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    std::string why = sqlite3_errmsg(db_);
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    open_ = false;
    return Fail("sqlite commit: " + why);
  }
  open_ = false;
  return {};
}

std::string ColumnText(sqlite3_stmt* s, int i) {
  const unsigned char* text = sqlite3_column_text(s, i);
  return text ? std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(sqlite3_column_bytes(s, i)))
              : std::string();
}

Result<std::unique_ptr<Store>> Store::Open(const std::string& path) {
  auto db = OpenDatabase(path, kSchema);
  if (!db) return tl::unexpected(db.error());
  std::unique_ptr<Store> store(new Store(path, std::move(*db)));
  auto version = Prepare(store->db_.get(), "SELECT value FROM meta WHERE key = 'schema'");
  if (!version) return tl::unexpected(version.error());
  if (sqlite3_step(version->get()) == SQLITE_ROW) {
    const int found = std::atoi(ColumnText(version->get(), 0).c_str());
    if (found > kSchemaVersion) {
      return Fail(path + " was written by a newer slipway (schema " + std::to_string(found) + "; this one reads " +
                  std::to_string(kSchemaVersion) + "). Run that slipway, or " + ResetHint(path));
    }
  }
  auto upsert = Prepare(store->db_.get(),
                        "INSERT INTO objects(kind, key, body) VALUES(?1, ?2, ?3) "
                        "ON CONFLICT(kind, key) DO UPDATE SET body = excluded.body");
  auto erase = Prepare(store->db_.get(), "DELETE FROM objects WHERE kind = ?1 AND key = ?2");
  if (!upsert) return tl::unexpected(upsert.error());
  if (!erase) return tl::unexpected(erase.error());
  store->upsert_ = std::move(*upsert);
  store->erase_ = std::move(*erase);
  return store;
}

Result<void> Store::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_.get(), sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db_.get());
    sqlite3_free(err);
    return Fail("sqlite " + path_ + ": " + msg);
  }
  return {};
}

Result<void> Store::Commit(const State& state, const std::set<ObjectRef>& refs) {
  if (refs.empty()) return {};
  if (auto r = Exec("BEGIN IMMEDIATE"); !r) return r;
  for (const auto& ref : refs) {
    std::optional<std::string> body;
    try {
      body = StoredObject(state, ref);
    } catch (const nlohmann::json::exception& e) {
      // E.g. a string that is not UTF-8. The transaction must not stay open, or every later
      // commit would fail to begin.
      (void)Exec("ROLLBACK");
      return Fail("store " + std::string(KindName(ref.first)) + " " + ref.second + ": " + e.what());
    }
    sqlite3_stmt* s = body ? upsert_.get() : erase_.get();
    sqlite3_reset(s);
    Bind(s, 1, std::string(KindName(ref.first)));
    Bind(s, 2, ref.second);
    if (body) Bind(s, 3, *body);
    if (sqlite3_step(s) != SQLITE_DONE) {
      std::string msg = sqlite3_errmsg(db_.get());
      (void)Exec("ROLLBACK");
      return Fail("sqlite " + path_ + ": write " + KindName(ref.first) + " " + ref.second + ": " + msg);
    }
  }
  if (auto r = Exec("COMMIT"); !r) {
    (void)Exec("ROLLBACK");
    return r;
  }
  return {};
}

Result<void> Store::Revert(State& state, const std::set<ObjectRef>& refs) {
  auto row = Prepare(db_.get(), "SELECT body FROM objects WHERE kind = ?1 AND key = ?2");
  if (!row) return tl::unexpected(row.error());
  for (const auto& ref : refs) {
    sqlite3_reset(row->get());
    Bind(row->get(), 1, std::string(KindName(ref.first)));
    Bind(row->get(), 2, ref.second);
    const int rc = sqlite3_step(row->get());
    if (rc == SQLITE_ROW && RestoreObject(state, ref.first, ref.second, ColumnText(row->get(), 0))) continue;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Fail("sqlite " + path_ + ": " + sqlite3_errmsg(db_.get()));
    EraseObject(state, ref);
  }
  return {};
}

Result<long long> Store::DataVersion() {
  auto q = Prepare(db_.get(), "PRAGMA data_version");
  if (!q) return tl::unexpected(q.error());
  if (sqlite3_step(q->get()) != SQLITE_ROW) return Fail("sqlite " + path_ + ": " + sqlite3_errmsg(db_.get()));
  return sqlite3_column_int64(q->get(), 0);
}

Result<State> Store::Load(bool* migrated) {
  *migrated = false;
  State state;
  // Engines before row storage kept everything in documents('state').
  auto legacy_table = Prepare(db_.get(), "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'documents'");
  if (!legacy_table) return tl::unexpected(legacy_table.error());
  if (sqlite3_step(legacy_table->get()) == SQLITE_ROW) {
    auto doc = Prepare(db_.get(), "SELECT body FROM documents WHERE key = 'state'");
    if (!doc) return tl::unexpected(doc.error());
    if (sqlite3_step(doc->get()) == SQLITE_ROW) {
      auto j = nlohmann::json::parse(ColumnText(doc->get(), 0), nullptr, false);
      if (j.is_discarded()) return Fail(path_ + ": the stored state is not JSON; " + ResetHint(path_));
      try {
        state = StateFromJson(j);
      } catch (const nlohmann::json::exception& e) {
        return Fail(path_ + ": the stored state cannot be read (" + e.what() + "); " + ResetHint(path_));
      }
    }
    doc.value().reset();
    legacy_table.value().reset();
    const auto all = AllObjects(state);
    if (auto r = Commit(state, std::set<ObjectRef>(all.begin(), all.end())); !r) return tl::unexpected(r.error());
    if (auto r = Exec("DROP TABLE documents"); !r) return tl::unexpected(r.error());
    *migrated = true;
  }
  if (auto r = Exec(("INSERT INTO meta(key, value) VALUES('schema', '" + std::to_string(kSchemaVersion) +
                     "') ON CONFLICT(key) DO UPDATE SET value = excluded.value").c_str());
      !r) {
    return tl::unexpected(r.error());
  }
  if (*migrated) return state;
  auto rows = Prepare(db_.get(), "SELECT key, body FROM objects WHERE kind = ?1");
  if (!rows) return tl::unexpected(rows.error());
  for (ObjectKind kind : AllObjectKinds()) {
    sqlite3_reset(rows->get());
    Bind(rows->get(), 1, std::string(KindName(kind)));
    int rc;
    while ((rc = sqlite3_step(rows->get())) == SQLITE_ROW) {
      const std::string key = ColumnText(rows->get(), 0);
      // One unreadable row must not keep the engine from starting: it is left out, and said.
      if (!RestoreObject(state, kind, key, ColumnText(rows->get(), 1))) {
        std::fprintf(stderr, "slipway engine: %s: stored %s %s cannot be read; it is left out\n", path_.c_str(),
                     KindName(kind), key.c_str());
      }
    }
    if (rc != SQLITE_DONE) return Fail("sqlite " + path_ + ": " + sqlite3_errmsg(db_.get()));
  }
  return state;
}

}  // namespace slipway::engine
