// Repository rows; tags are one JSON column, as they are read and written whole.
#include "engine/registry/repositories.h"

#include <nlohmann/json.hpp>

namespace slipway::engine {

namespace {

using nlohmann::json;

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS ecr_repositories (name TEXT PRIMARY KEY, created REAL NOT NULL,"
    "  tag_mutability TEXT NOT NULL, tags TEXT NOT NULL DEFAULT '[]');";

std::string TagsJson(const std::vector<std::pair<std::string, std::string>>& tags) {
  json out = json::array();
  for (const auto& [k, v] : tags) out.push_back({{"Key", k}, {"Value", v}});
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::vector<std::pair<std::string, std::string>> ParseTags(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  const json tags = json::parse(text, nullptr, false);
  if (!tags.is_array()) return out;
  for (const auto& t : tags) {
    if (t.is_object()) out.emplace_back(t.value("Key", ""), t.value("Value", ""));
  }
  return out;
}

Error SqlError(sqlite3* db, const std::string& what) {
  return Error{"ecr repositories: " + what + ": " + sqlite3_errmsg(db), "ServerException"};
}

}  // namespace

Result<std::unique_ptr<RepositoryStore>> RepositoryStore::Open(const std::string& path) {
  auto db = OpenDatabase(path, kSchema);
  if (!db) return tl::unexpected(db.error());
  return std::unique_ptr<RepositoryStore>(new RepositoryStore(std::move(*db)));
}

Result<bool> RepositoryStore::Insert(const RepositoryRecord& r) {
  auto s = Prepare(db_.get(),
                   "INSERT INTO ecr_repositories(name, created, tag_mutability, tags) VALUES(?1, ?2, ?3, ?4) "
                   "ON CONFLICT(name) DO NOTHING");
  if (!s) return tl::unexpected(s.error());
  Bind(s->get(), 1, r.name);
  sqlite3_bind_double(s->get(), 2, r.created_at);
  Bind(s->get(), 3, r.tag_mutability);
  Bind(s->get(), 4, TagsJson(r.tags));
  if (sqlite3_step(s->get()) != SQLITE_DONE) return tl::unexpected(SqlError(db_.get(), "insert " + r.name));
  return sqlite3_changes(db_.get()) == 1;
}

Result<std::vector<RepositoryRecord>> RepositoryStore::Select(const char* sql, const std::string* name) {
  auto s = Prepare(db_.get(), sql);
  if (!s) return tl::unexpected(s.error());
  if (name != nullptr) Bind(s->get(), 1, *name);
  std::vector<RepositoryRecord> out;
  int rc;
  while ((rc = sqlite3_step(s->get())) == SQLITE_ROW) {
    out.push_back({ColumnText(s->get(), 0), sqlite3_column_double(s->get(), 1), ColumnText(s->get(), 2),
                   ParseTags(ColumnText(s->get(), 3))});
  }
  if (rc != SQLITE_DONE) return tl::unexpected(SqlError(db_.get(), "read"));
  return out;
}

Result<std::optional<RepositoryRecord>> RepositoryStore::Find(const std::string& name) {
  auto rows = Select("SELECT name, created, tag_mutability, tags FROM ecr_repositories WHERE name = ?1", &name);
  if (!rows) return tl::unexpected(rows.error());
  if (rows->empty()) return std::optional<RepositoryRecord>();
  return std::optional<RepositoryRecord>(std::move(rows->front()));
}

Result<std::vector<RepositoryRecord>> RepositoryStore::All() {
  return Select("SELECT name, created, tag_mutability, tags FROM ecr_repositories ORDER BY name", nullptr);
}

Result<int64_t> RepositoryStore::Count() {
  auto s = Prepare(db_.get(), "SELECT COUNT(*) FROM ecr_repositories");
  if (!s) return tl::unexpected(s.error());
  if (sqlite3_step(s->get()) != SQLITE_ROW) return tl::unexpected(SqlError(db_.get(), "count"));
  return sqlite3_column_int64(s->get(), 0);
}

Result<void> RepositoryStore::SetTags(const std::string& name,
                                      const std::vector<std::pair<std::string, std::string>>& tags) {
  auto s = Prepare(db_.get(), "UPDATE ecr_repositories SET tags = ?2 WHERE name = ?1");
  if (!s) return tl::unexpected(s.error());
  Bind(s->get(), 1, name);
  Bind(s->get(), 2, TagsJson(tags));
  if (sqlite3_step(s->get()) != SQLITE_DONE) return tl::unexpected(SqlError(db_.get(), "tag " + name));
  return {};
}

Result<bool> RepositoryStore::Erase(const std::string& name) {
  auto s = Prepare(db_.get(), "DELETE FROM ecr_repositories WHERE name = ?1");
  if (!s) return tl::unexpected(s.error());
  Bind(s->get(), 1, name);
  if (sqlite3_step(s->get()) != SQLITE_DONE) return tl::unexpected(SqlError(db_.get(), "delete " + name));
  return sqlite3_changes(db_.get()) == 1;
}

}  // namespace slipway::engine
