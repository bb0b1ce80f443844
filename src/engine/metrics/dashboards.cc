// Dashboards in SQLite, and the structural checks CloudWatch makes of a dashboard body.
#include "engine/metrics/dashboards.h"

#include <algorithm>
#include <set>

#include "base/strings.h"
#include "engine/validate.h"

namespace slipway::engine {

namespace {

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS dashboards (name TEXT PRIMARY KEY, body TEXT NOT NULL,"
    "  modified INTEGER NOT NULL, size INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;";

constexpr size_t kMaxWidgets = 500;
constexpr const char* kWidgetTypes[] = {"metric", "text", "log", "alarm", "explorer", "custom"};

Result<void> Step(sqlite3* db, sqlite3_stmt* s) {
  if (sqlite3_step(s) != SQLITE_DONE) return Fail(std::string("cloudwatch.db: ") + sqlite3_errmsg(db));
  return {};
}

/// Checks member `name` of a widget, if present: an integer within [min, max].
void CheckPlacement(const nlohmann::json& widget, const char* name, int64_t min, int64_t max,
                    const std::string& path, std::vector<DashboardProblem>& out) {
  auto it = widget.find(name);
  if (it == widget.end()) return;
  const std::string where = path + "/" + name;
  if (!it->is_number_integer()) {
    out.push_back({where, "Should be integer"});
  } else if (it->is_number_unsigned() ? it->get<uint64_t>() > static_cast<uint64_t>(max)
                                      : it->get<int64_t>() > max) {
    // Past INT64_MAX an unsigned number would wrap negative as int64_t: compare it unsigned.
    out.push_back({where, "Should be <= " + std::to_string(max)});
  } else if (it->get<int64_t>() < min) {
    out.push_back({where, "Should be >= " + std::to_string(min)});
  }
}

/// Gives a database from before the size column one, measuring each body once, in one
/// transaction: a failure leaves the database as it was.
Result<void> AddSizeColumn(sqlite3* db) {
  auto columns = Prepare(db, "SELECT 1 FROM pragma_table_info('dashboards') WHERE name = 'size'");
  if (!columns) return tl::unexpected(columns.error());
  if (sqlite3_step(columns->get()) == SQLITE_ROW) return {};
  Transaction tx(db);
  if (!tx.began()) return Fail(sqlite3_errmsg(db));
  for (const char* sql : {"ALTER TABLE dashboards ADD COLUMN size INTEGER NOT NULL DEFAULT 0",
                          "UPDATE dashboards SET size = length(CAST(body AS BLOB))"}) {
    if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return Fail(sqlite3_errmsg(db));
  }
  return tx.Commit();
}

}  // namespace

Result<std::unique_ptr<DashboardStore>> DashboardStore::Open(const std::string& path) {
  auto db = OpenDatabase(path, kSchema);
  if (!db) return tl::unexpected(db.error());
  if (auto upgraded = AddSizeColumn(db->get()); !upgraded) {
    return Fail("upgrade " + path + ": " + upgraded.error().message);
  }
  return std::unique_ptr<DashboardStore>(new DashboardStore(std::move(*db)));
}

Result<void> DashboardStore::Put(const std::string& name, const std::string& body, int64_t now_ms) {
  std::lock_guard lock(mu_);
  auto s = Prepare(db_.get(),
                   "INSERT INTO dashboards(name, body, modified, size) VALUES(?1, ?2, ?3, ?4) "
                   "ON CONFLICT(name) DO UPDATE SET body = excluded.body, modified = excluded.modified, "
                   "size = excluded.size");
  if (!s) return tl::unexpected(s.error());
  Bind(s->get(), 1, name);
  Bind(s->get(), 2, body);
  Bind(s->get(), 3, now_ms);
  Bind(s->get(), 4, static_cast<int64_t>(body.size()));
  return Step(db_.get(), s->get());
}

Result<std::optional<Dashboard>> DashboardStore::Get(const std::string& name) {
  std::lock_guard lock(mu_);
  auto s = Prepare(db_.get(), "SELECT body, modified FROM dashboards WHERE name = ?1");
  if (!s) return tl::unexpected(s.error());
  Bind(s->get(), 1, name);
  const int rc = sqlite3_step(s->get());
  if (rc == SQLITE_DONE) return std::optional<Dashboard>();
  if (rc != SQLITE_ROW) return Fail(std::string("cloudwatch.db: ") + sqlite3_errmsg(db_.get()));
  return Dashboard{name, ColumnText(s->get(), 0), sqlite3_column_int64(s->get(), 1)};
}

Result<std::vector<DashboardEntry>> DashboardStore::List(const std::string& prefix, const std::string& after,
                                                    size_t limit) {
  std::lock_guard lock(mu_);
  // substr() rather than LIKE: names may hold '_', which LIKE reads as a wildcard.
  auto s = Prepare(db_.get(),
                   "SELECT name, size, modified FROM dashboards WHERE name > ?1 "
                   "AND substr(name, 1, ?2) = ?3 ORDER BY name LIMIT ?4");
  if (!s) return tl::unexpected(s.error());
  Bind(s->get(), 1, after);
  Bind(s->get(), 2, static_cast<int64_t>(prefix.size()));
  Bind(s->get(), 3, prefix);
  Bind(s->get(), 4, static_cast<int64_t>(limit));
  std::vector<DashboardEntry> out;
  int rc;
  while ((rc = sqlite3_step(s->get())) == SQLITE_ROW) {
    out.push_back({ColumnText(s->get(), 0), sqlite3_column_int64(s->get(), 1), sqlite3_column_int64(s->get(), 2)});
  }
  if (rc != SQLITE_DONE) return Fail(std::string("cloudwatch.db: ") + sqlite3_errmsg(db_.get()));
  return out;
}

Result<std::vector<std::string>> DashboardStore::Delete(const std::vector<std::string>& names) {
  std::lock_guard lock(mu_);
  Transaction tx(db_.get());
  if (!tx.began()) return Fail(std::string("cloudwatch.db: ") + sqlite3_errmsg(db_.get()));
  auto erase = Prepare(db_.get(), "DELETE FROM dashboards WHERE name = ?1");
  if (!erase) return tl::unexpected(erase.error());
  std::vector<std::string> missing;
  // A name given twice is deleted once.
  for (const auto& name : std::set<std::string>(names.begin(), names.end())) {
    sqlite3_reset(erase->get());
    Bind(erase->get(), 1, name);
    if (auto r = Step(db_.get(), erase->get()); !r) return tl::unexpected(r.error());
    if (sqlite3_changes(db_.get()) == 0) missing.push_back(name);
  }
  if (!missing.empty()) return missing;  // the transaction rolls back: nothing is deleted
  if (auto r = tx.Commit(); !r) return tl::unexpected(r.error());
  return missing;
}

Result<int64_t> DashboardStore::Count() {
  std::lock_guard lock(mu_);
  auto s = Prepare(db_.get(), "SELECT count(*) FROM dashboards");
  if (!s) return tl::unexpected(s.error());
  if (sqlite3_step(s->get()) != SQLITE_ROW) return Fail(std::string("cloudwatch.db: ") + sqlite3_errmsg(db_.get()));
  return sqlite3_column_int64(s->get(), 0);
}

Result<int64_t> DashboardStore::TotalSize() {
  std::lock_guard lock(mu_);
  auto s = Prepare(db_.get(), "SELECT coalesce(sum(size), 0) FROM dashboards");
  if (!s) return tl::unexpected(s.error());
  if (sqlite3_step(s->get()) != SQLITE_ROW) return Fail(std::string("cloudwatch.db: ") + sqlite3_errmsg(db_.get()));
  return sqlite3_column_int64(s->get(), 0);
}

std::vector<DashboardProblem> CheckDashboardBody(const std::string& body) {
  std::vector<DashboardProblem> out;
  if (NestsDeeperThan(body, kMaxJsonDepth)) {
    return {{"", "Should not nest arrays and objects deeper than " + std::to_string(kMaxJsonDepth) + " levels"}};
  }
  const auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return {{"", "Should be a valid JSON document"}};
  if (!j.is_object()) return {{"", "Should be object"}};
  auto widgets = j.find("widgets");
  if (widgets == j.end()) return {{"", "Should have required property 'widgets'"}};
  if (!widgets->is_array()) return {{"/widgets", "Should be array"}};
  if (widgets->size() > kMaxWidgets) {
    return {{"/widgets", "Should NOT have more than " + std::to_string(kMaxWidgets) + " items"}};
  }
  for (size_t i = 0; i < widgets->size() && out.size() < 10; ++i) {
    const auto& w = (*widgets)[i];
    const std::string path = "/widgets/" + std::to_string(i);
    if (!w.is_object()) {
      out.push_back({path, "Should be object"});
      continue;
    }
    auto type = w.find("type");
    if (type == w.end()) {
      out.push_back({path, "Should have required property 'type'"});
    } else if (!type->is_string() ||
               std::find(std::begin(kWidgetTypes), std::end(kWidgetTypes), type->get<std::string>()) ==
                   std::end(kWidgetTypes)) {
      out.push_back({path + "/type", "Should be equal to one of the allowed values"});
    }
    if (auto p = w.find("properties"); p != w.end() && !p->is_object()) {
      out.push_back({path + "/properties", "Should be object"});
    }
    CheckPlacement(w, "x", 0, 23, path, out);
    CheckPlacement(w, "y", 0, 1000000, path, out);
    CheckPlacement(w, "width", 1, 24, path, out);
    CheckPlacement(w, "height", 1, 1000, path, out);
  }
  return out;
}

}  // namespace slipway::engine
