// CloudWatch Logs over SQLite. Events are kept in arrival order; tokens carry event ids.
#include "engine/logs.h"

#include <algorithm>
#include <optional>
#include <set>

#include "base/strings.h"

namespace slipway::engine {

using nlohmann::json;

namespace {

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS log_groups (name TEXT PRIMARY KEY, created INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS log_streams (grp TEXT NOT NULL, name TEXT NOT NULL, created INTEGER NOT NULL,"
    "  first_ts INTEGER, last_ts INTEGER, last_ingest INTEGER, bytes INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (grp, name));"
    "CREATE TABLE IF NOT EXISTS log_events (id INTEGER PRIMARY KEY AUTOINCREMENT, grp TEXT NOT NULL,"
    "  stream TEXT NOT NULL, ts INTEGER NOT NULL, ingest INTEGER NOT NULL, message TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS log_events_by_stream ON log_events (grp, stream, id);"
    "CREATE INDEX IF NOT EXISTS log_events_by_age ON log_events (grp, ts);";

constexpr int kMaxLimit = 10000;

// CloudWatch Logs' allowed retention periods, in days.
constexpr int kRetentionDays[] = {1,   3,   5,   7,   14,  30,   60,   90,   120,  150,  180,
                                  365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653};

ApiError NotFound(const std::string& what) {
  return {"ResourceNotFoundException", "The specified " + what + " does not exist.", 400};
}

ApiError Invalid(const std::string& message) { return {"InvalidParameterException", message, 400}; }

ApiError Internal(const std::string& message) { return {"ServiceUnavailableException", message, 500}; }

// botocore marks these members required; AWS answers a missing one with a validation error.
tl::expected<std::string, ApiError> Required(const json& r, const char* member) {
  std::string v = r.value(member, "");
  if (v.empty()) {
    return tl::unexpected(ApiError{"InvalidParameterException",
                                   std::string("1 validation error detected: Value null at '") + member +
                                       "' failed to satisfy constraint: Member must not be null",
                                   400});
  }
  return v;
}

std::string Arn(const std::string& region, const std::string& group) {
  return "arn:aws:logs:" + region + ":000000000000:log-group:" + group;
}

// Tokens look like "f/00000000000000000042": a direction and an event id.
std::optional<std::pair<char, int64_t>> ParseToken(const std::string& token) {
  if (token.size() < 3 || token[1] != '/' || (token[0] != 'f' && token[0] != 'b' && token[0] != 'n')) return std::nullopt;
  char* end = nullptr;
  long long id = std::strtoll(token.c_str() + 2, &end, 10);
  if (*end != '\0' || id < 0) return std::nullopt;
  return std::make_pair(token[0], static_cast<int64_t>(id));
}

// 20 digits, zero-padded, as CloudWatch Logs tokens and sequence tokens look.
std::string Padded(int64_t n) {
  std::string digits = std::to_string(n);
  return std::string(digits.size() < 20 ? 20 - digits.size() : 0, '0') + digits;
}

std::string Token(char direction, int64_t id) { return std::string(1, direction) + "/" + Padded(id); }

struct Event {
  int64_t id, ts, ingest;
  std::string stream, message;
};

}  // namespace

tl::expected<bool, std::string> MatchesFilterPattern(const std::string& pattern, const std::string& message) {
  std::string p = Trim(pattern);
  if (p.empty()) return true;
  if (p.front() == '{' || p.front() == '[') {
    return tl::unexpected(std::string("JSON and space-delimited filter patterns are not supported by the slipway "
                                      "engine; use terms, \"phrases\", ?any or -exclude"));
  }
  std::vector<std::string> all, any, none;
  for (size_t i = 0; i < p.size();) {
    if (p[i] == ' ') {
      ++i;
      continue;
    }
    char kind = (p[i] == '?' || p[i] == '-') ? p[i++] : '+';
    std::string term;
    if (i < p.size() && p[i] == '"') {
      size_t close = p.find('"', i + 1);
      if (close == std::string::npos) return tl::unexpected(std::string("unterminated quote in filter pattern"));
      term = p.substr(i + 1, close - i - 1);
      i = close + 1;
    } else {
      size_t end = p.find(' ', i);
      term = p.substr(i, end == std::string::npos ? std::string::npos : end - i);
      i = end == std::string::npos ? p.size() : end;
    }
    (kind == '?' ? any : kind == '-' ? none : all).push_back(term);
  }
  auto has = [&](const std::string& t) { return message.find(t) != std::string::npos; };
  if (!std::all_of(all.begin(), all.end(), has)) return false;
  if (std::any_of(none.begin(), none.end(), has)) return false;
  return any.empty() || std::any_of(any.begin(), any.end(), has);
}

Result<std::unique_ptr<LogService>> LogService::Open(const std::string& path, const std::string& region) {
  auto db = OpenDatabase(path, kSchema);
  if (!db) return tl::unexpected(db.error());
  // Log databases from before retention policies lack the column.
  auto columns = Prepare(db->get(), "SELECT 1 FROM pragma_table_info('log_groups') WHERE name = 'retention_days'");
  if (!columns) return tl::unexpected(columns.error());
  if (sqlite3_step(columns->get()) != SQLITE_ROW) {
    char* err = nullptr;
    if (sqlite3_exec(db->get(), "ALTER TABLE log_groups ADD COLUMN retention_days INTEGER", nullptr, nullptr, &err) !=
        SQLITE_OK) {
      std::string msg = err ? err : "unknown";
      sqlite3_free(err);
      return Fail("upgrade " + path + ": " + msg);
    }
  }
  return std::unique_ptr<LogService>(new LogService(std::move(*db), region));
}

ApiResult LogService::Handle(const std::string& op, const json& r, int64_t now_ms) {
  std::lock_guard lock(mu_);
  try {
    if (op == "CreateLogGroup") return CreateLogGroup(r, now_ms);
    if (op == "CreateLogStream") return CreateLogStream(r, now_ms);
    if (op == "DescribeLogGroups") return DescribeLogGroups(r);
    if (op == "DescribeLogStreams") return DescribeLogStreams(r);
    if (op == "PutLogEvents") return PutLogEvents(r, now_ms);
    if (op == "GetLogEvents") return GetLogEvents(r);
    if (op == "FilterLogEvents") return FilterLogEvents(r);
    if (op == "PutRetentionPolicy") return PutRetentionPolicy(r);
    if (op == "DeleteRetentionPolicy") return DeleteRetentionPolicy(r);
  } catch (const json::exception&) {  // last resort, as in ControlPlane::HandleEcs: no library text
    return tl::unexpected(ApiError{"SerializationException", "A member of the request has an unexpected type.", 400});
  }
  return tl::unexpected(ApiError{"UnknownOperationException",
                                 "The engine does not implement CloudWatch Logs operation " + op + ".", 400});
}

ApiResult LogService::PutRetentionPolicy(const json& r) {
  auto group = Required(r, "logGroupName");
  if (!group) return tl::unexpected(group.error());
  if (!r.contains("retentionInDays") || !r["retentionInDays"].is_number_integer()) {
    return tl::unexpected(Invalid("1 validation error detected: Value null at 'retentionInDays' failed to satisfy "
                                  "constraint: Member must not be null"));
  }
  const int64_t days = r["retentionInDays"].get<int64_t>();
  if (std::find(std::begin(kRetentionDays), std::end(kRetentionDays), days) == std::end(kRetentionDays)) {
    return tl::unexpected(Invalid("1 validation error detected: Value '" + std::to_string(days) +
                                  "' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum "
                                  "value set: [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, "
                                  "1827, 2192, 2557, 2922, 3288, 3653]"));
  }
  if (!GroupExistsLocked(*group)) return tl::unexpected(NotFound("log group"));
  auto s = Prepare(db_.get(), "UPDATE log_groups SET retention_days = ?2 WHERE name = ?1");
  if (!s) return tl::unexpected(Internal(s.error().message));
  Bind(s->get(), 1, *group);
  Bind(s->get(), 2, days);
  if (sqlite3_step(s->get()) != SQLITE_DONE) return tl::unexpected(Internal(sqlite3_errmsg(db_.get())));
  return json::object();
}

ApiResult LogService::DeleteRetentionPolicy(const json& r) {
  auto group = Required(r, "logGroupName");
  if (!group) return tl::unexpected(group.error());
  if (!GroupExistsLocked(*group)) return tl::unexpected(NotFound("log group"));
  auto s = Prepare(db_.get(), "UPDATE log_groups SET retention_days = NULL WHERE name = ?1");
  if (!s) return tl::unexpected(Internal(s.error().message));
  Bind(s->get(), 1, *group);
  if (sqlite3_step(s->get()) != SQLITE_DONE) return tl::unexpected(Internal(sqlite3_errmsg(db_.get())));
  return json::object();
}

Result<int64_t> LogService::Sweep(int64_t now_ms, const LogLimits& limits) {
  std::lock_guard lock(mu_);
  constexpr int64_t kDayMs = 86'400'000;
  // Events past their group's retention (or the default one), by event time as CloudWatch does.
  auto groups = Prepare(db_.get(), "SELECT name, COALESCE(retention_days, ?1) FROM log_groups");
  auto expired = Prepare(db_.get(), "DELETE FROM log_events WHERE grp = ?1 AND ts < ?2");
  if (!groups) return tl::unexpected(groups.error());
  if (!expired) return tl::unexpected(expired.error());
  Bind(groups->get(), 1, int64_t{limits.default_retention_days});
  int64_t removed = 0;
  while (sqlite3_step(groups->get()) == SQLITE_ROW) {
    sqlite3_reset(expired->get());
    Bind(expired->get(), 1, ColumnText(groups->get(), 0));
    Bind(expired->get(), 2, now_ms - kDayMs * sqlite3_column_int64(groups->get(), 1));
    if (sqlite3_step(expired->get()) != SQLITE_DONE) return Fail(std::string("log sweep: ") + sqlite3_errmsg(db_.get()));
    removed += sqlite3_changes(db_.get());
  }
  // Past the cap on stored events, the oldest go first, whatever their group.
  auto excess = Prepare(db_.get(),
                        "DELETE FROM log_events WHERE id <= (SELECT MAX(id) FROM log_events) - ?1");
  if (!excess) return tl::unexpected(excess.error());
  Bind(excess->get(), 1, limits.max_events);
  if (sqlite3_step(excess->get()) != SQLITE_DONE) return Fail(std::string("log sweep: ") + sqlite3_errmsg(db_.get()));
  removed += sqlite3_changes(db_.get());
  return removed;
}

tl::expected<std::pair<std::string, std::string>, ApiError> LogService::ExistingStream(const json& r) {
  auto group = Required(r, "logGroupName");
  if (!group) return tl::unexpected(group.error());
  auto stream = Required(r, "logStreamName");
  if (!stream) return tl::unexpected(stream.error());
  if (!GroupExistsLocked(*group)) return tl::unexpected(NotFound("log group"));
  if (!StreamExists(*group, *stream)) return tl::unexpected(NotFound("log stream"));
  return std::make_pair(*group, *stream);
}

bool LogService::GroupExists(const std::string& group) {
  std::lock_guard lock(mu_);
  return GroupExistsLocked(group);
}

bool LogService::GroupExistsLocked(const std::string& group) {
  auto s = Prepare(db_.get(), "SELECT 1 FROM log_groups WHERE name = ?1");
  if (!s) return false;
  Bind(s->get(), 1, group);
  return sqlite3_step(s->get()) == SQLITE_ROW;
}

bool LogService::StreamExists(const std::string& group, const std::string& stream) {
  auto s = Prepare(db_.get(), "SELECT 1 FROM log_streams WHERE grp = ?1 AND name = ?2");
  if (!s) return false;
  Bind(s->get(), 1, group);
  Bind(s->get(), 2, stream);
  return sqlite3_step(s->get()) == SQLITE_ROW;
}

ApiResult LogService::CreateLogGroup(const json& r, int64_t now_ms) {
  auto group = Required(r, "logGroupName");
  if (!group) return tl::unexpected(group.error());
  if (GroupExistsLocked(*group)) {
    return tl::unexpected(ApiError{"ResourceAlreadyExistsException", "The specified log group already exists", 400});
  }
  auto s = Prepare(db_.get(), "INSERT INTO log_groups(name, created) VALUES(?1, ?2)");
  if (!s) return tl::unexpected(Internal(s.error().message));
  Bind(s->get(), 1, *group);
  Bind(s->get(), 2, now_ms);
  if (sqlite3_step(s->get()) != SQLITE_DONE) return tl::unexpected(Internal(sqlite3_errmsg(db_.get())));
  return json::object();
}

ApiResult LogService::CreateLogStream(const json& r, int64_t now_ms) {
  auto group = Required(r, "logGroupName");
  if (!group) return tl::unexpected(group.error());
  auto stream = Required(r, "logStreamName");
  if (!stream) return tl::unexpected(stream.error());
  if (!GroupExistsLocked(*group)) return tl::unexpected(NotFound("log group"));
  if (StreamExists(*group, *stream)) {
    return tl::unexpected(ApiError{"ResourceAlreadyExistsException", "The specified log stream already exists", 400});
  }
  auto s = Prepare(db_.get(), "INSERT INTO log_streams(grp, name, created) VALUES(?1, ?2, ?3)");
  if (!s) return tl::unexpected(Internal(s.error().message));
  Bind(s->get(), 1, *group);
  Bind(s->get(), 2, *stream);
  Bind(s->get(), 3, now_ms);
  if (sqlite3_step(s->get()) != SQLITE_DONE) return tl::unexpected(Internal(sqlite3_errmsg(db_.get())));
  return json::object();
}

ApiResult LogService::DescribeLogGroups(const json& r) {
  std::string prefix = r.value("logGroupNamePrefix", "");
  int limit = std::clamp(IntField(r, "limit", 50), 1, 50);
  std::string after = r.value("nextToken", "");
  auto s = Prepare(db_.get(),
                   "SELECT g.name, g.created, COALESCE((SELECT SUM(bytes) FROM log_streams WHERE grp = g.name), 0), "
                   "g.retention_days FROM log_groups g WHERE substr(g.name, 1, length(?1)) = ?1 AND g.name > ?2 ORDER BY g.name LIMIT ?3");
  if (!s) return tl::unexpected(Internal(s.error().message));
  Bind(s->get(), 1, prefix);
  Bind(s->get(), 2, after);
  Bind(s->get(), 3, int64_t{limit + 1});
  json groups = json::array();
  while (sqlite3_step(s->get()) == SQLITE_ROW) {
    std::string name = ColumnText(s->get(), 0);
    groups.push_back({{"logGroupName", name}, {"creationTime", sqlite3_column_int64(s->get(), 1)},
                      {"metricFilterCount", 0}, {"arn", Arn(region_, name) + ":*"}, {"logGroupArn", Arn(region_, name)},
                      {"storedBytes", sqlite3_column_int64(s->get(), 2)}, {"logGroupClass", "STANDARD"}});
    if (sqlite3_column_type(s->get(), 3) != SQLITE_NULL) {
      groups.back()["retentionInDays"] = sqlite3_column_int64(s->get(), 3);
    }
  }
  json out{{"logGroups", groups}};
  if (static_cast<int>(groups.size()) > limit) {
    out["logGroups"].erase(out["logGroups"].end() - 1);
    out["nextToken"] = out["logGroups"].back()["logGroupName"];
  }
  return out;
}

ApiResult LogService::DescribeLogStreams(const json& r) {
  auto group = Required(r, "logGroupName");
  if (!group) return tl::unexpected(group.error());
  if (!GroupExistsLocked(*group)) return tl::unexpected(NotFound("log group"));
  const bool by_time = r.value("orderBy", "LogStreamName") == "LastEventTime";
  const bool descending = r.value("descending", false);
  std::string prefix = r.value("logStreamNamePrefix", "");
  if (by_time && !prefix.empty()) {
    return tl::unexpected(Invalid("Cannot order by LastEventTime with a logStreamNamePrefix."));
  }
  int limit = std::clamp(IntField(r, "limit", 50), 1, 50);
  std::string sql = "SELECT name, created, first_ts, last_ts, last_ingest, bytes FROM log_streams "
                    "WHERE grp = ?1 AND substr(name, 1, length(?2)) = ?2 ORDER BY ";
  sql += by_time ? "COALESCE(last_ts, 0)" : "name";
  sql += descending ? " DESC" : " ASC";
  auto s = Prepare(db_.get(), sql.c_str());
  if (!s) return tl::unexpected(Internal(s.error().message));
  Bind(s->get(), 1, *group);
  Bind(s->get(), 2, prefix);
  // nextToken is the count of streams already returned.
  int64_t skip = std::atoll(r.value("nextToken", "0").c_str());
  json streams = json::array();
  int64_t index = 0;
  bool more = false;
  while (sqlite3_step(s->get()) == SQLITE_ROW) {
    if (index++ < skip) continue;
    if (static_cast<int>(streams.size()) == limit) {
      more = true;
      break;
    }
    std::string name = ColumnText(s->get(), 0);
    json st{{"logStreamName", name}, {"creationTime", sqlite3_column_int64(s->get(), 1)},
            {"arn", Arn(region_, *group) + ":log-stream:" + name}, {"storedBytes", sqlite3_column_int64(s->get(), 5)}};
    if (sqlite3_column_type(s->get(), 2) != SQLITE_NULL) {
      st["firstEventTimestamp"] = sqlite3_column_int64(s->get(), 2);
      st["lastEventTimestamp"] = sqlite3_column_int64(s->get(), 3);
      st["lastIngestionTime"] = sqlite3_column_int64(s->get(), 4);
    }
    streams.push_back(st);
  }
  json out{{"logStreams", streams}};
  if (more) out["nextToken"] = std::to_string(skip + limit);
  return out;
}

ApiResult LogService::Append(const std::string& group, const std::string& stream, const std::vector<LogLine>& lines,
                             int64_t now_ms) {
  if (lines.empty()) return json::object();
  sqlite3_exec(db_.get(), "BEGIN", nullptr, nullptr, nullptr);
  auto ins = Prepare(db_.get(), "INSERT INTO log_events(grp, stream, ts, ingest, message) VALUES(?1, ?2, ?3, ?4, ?5)");
  auto upd = Prepare(db_.get(),
                     "UPDATE log_streams SET first_ts = COALESCE(first_ts, ?3), last_ts = MAX(COALESCE(last_ts, 0), ?4),"
                     " last_ingest = ?5, bytes = bytes + ?6 WHERE grp = ?1 AND name = ?2");
  if (!ins || !upd) {
    sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    return tl::unexpected(Internal("log store unavailable"));
  }
  int64_t bytes = 0, first = lines.front().timestamp_ms, last = lines.front().timestamp_ms;
  for (const auto& line : lines) {
    sqlite3_reset(ins->get());
    Bind(ins->get(), 1, group);
    Bind(ins->get(), 2, stream);
    Bind(ins->get(), 3, line.timestamp_ms);
    Bind(ins->get(), 4, now_ms);
    Bind(ins->get(), 5, line.message);
    sqlite3_step(ins->get());
    bytes += static_cast<int64_t>(line.message.size());
    first = std::min(first, line.timestamp_ms);
    last = std::max(last, line.timestamp_ms);
  }
  Bind(upd->get(), 1, group);
  Bind(upd->get(), 2, stream);
  Bind(upd->get(), 3, first);
  Bind(upd->get(), 4, last);
  Bind(upd->get(), 5, now_ms);
  Bind(upd->get(), 6, bytes);
  sqlite3_step(upd->get());
  if (sqlite3_exec(db_.get(), "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return tl::unexpected(Internal(sqlite3_errmsg(db_.get())));
  }
  return json::object();
}

ApiResult LogService::PutLogEvents(const json& r, int64_t now_ms) {
  auto names = ExistingStream(r);
  if (!names) return tl::unexpected(names.error());
  const auto& [group, stream] = *names;
  std::vector<LogLine> lines;
  int64_t previous = 0;
  for (const auto& e : r.value("logEvents", json::array())) {
    LogLine line{IntField(e, "timestamp", int64_t{0}), e.value("message", "")};
    if (line.timestamp_ms < previous) {
      return tl::unexpected(Invalid("Log events in a single PutLogEvents request must be in chronological order."));
    }
    previous = line.timestamp_ms;
    lines.push_back(std::move(line));
  }
  if (lines.empty() || lines.size() > 10000) {
    return tl::unexpected(Invalid("logEvents must hold between 1 and 10000 events."));
  }
  auto r2 = Append(group, stream, lines, now_ms);
  if (!r2) return r2;
  return json{{"nextSequenceToken", Padded(now_ms)}};
}

ApiResult LogService::GetLogEvents(const json& r) {
  auto names = ExistingStream(r);
  if (!names) return tl::unexpected(names.error());
  const auto& [group, stream] = *names;
  const int limit = std::clamp(IntField(r, "limit", kMaxLimit), 1, kMaxLimit);
  const int64_t start = IntField(r, "startTime", int64_t{0});
  const int64_t end = IntField(r, "endTime", int64_t{INT64_MAX});
  std::optional<std::pair<char, int64_t>> token;
  if (r.contains("nextToken")) {
    token = ParseToken(r["nextToken"].get<std::string>());
    if (!token || token->first == 'n') return tl::unexpected(Invalid("The specified nextToken is invalid."));
  }
  // Forward reads take the oldest events after the anchor; backward reads (and a first read
  // without startFromHead) take the newest before it. Both come back oldest first.
  const bool forward = token ? token->first == 'f' : r.value("startFromHead", false);
  const int64_t anchor = token ? token->second : (forward ? 0 : INT64_MAX);
  const char* sql = forward ? "SELECT id, ts, ingest, message FROM log_events WHERE grp = ?1 AND stream = ?2 AND id > ?3"
                              " AND ts >= ?4 AND ts < ?5 ORDER BY id ASC LIMIT ?6"
                            : "SELECT id, ts, ingest, message FROM log_events WHERE grp = ?1 AND stream = ?2 AND id < ?3"
                              " AND ts >= ?4 AND ts < ?5 ORDER BY id DESC LIMIT ?6";
  auto s = Prepare(db_.get(), sql);
  if (!s) return tl::unexpected(Internal(s.error().message));
  Bind(s->get(), 1, group);
  Bind(s->get(), 2, stream);
  Bind(s->get(), 3, anchor);
  Bind(s->get(), 4, start);
  Bind(s->get(), 5, end);
  Bind(s->get(), 6, int64_t{limit});
  std::vector<Event> events;
  while (sqlite3_step(s->get()) == SQLITE_ROW) {
    events.push_back({sqlite3_column_int64(s->get(), 0), sqlite3_column_int64(s->get(), 1),
                      sqlite3_column_int64(s->get(), 2), "", ColumnText(s->get(), 3)});
  }
  if (!forward) std::reverse(events.begin(), events.end());
  json out{{"events", json::array()}};
  for (const auto& e : events) {
    out["events"].push_back({{"timestamp", e.ts}, {"message", e.message}, {"ingestionTime", e.ingest}});
  }
  if (events.empty()) {
    // Nothing further: the same token comes back, which is how clients know they are at the end.
    int64_t at = anchor == INT64_MAX ? 0 : anchor;
    out["nextForwardToken"] = token && token->first == 'f' ? r["nextToken"].get<std::string>() : Token('f', at);
    out["nextBackwardToken"] = token && token->first == 'b' ? r["nextToken"].get<std::string>() : Token('b', at);
  } else {
    out["nextForwardToken"] = Token('f', events.back().id);
    out["nextBackwardToken"] = Token('b', events.front().id);
  }
  return out;
}

ApiResult LogService::FilterLogEvents(const json& r) {
  auto group = Required(r, "logGroupName");
  if (!group) return tl::unexpected(group.error());
  if (!GroupExistsLocked(*group)) return tl::unexpected(NotFound("log group"));
  const std::vector<std::string> names = r.value("logStreamNames", std::vector<std::string>{});
  const std::string prefix = r.value("logStreamNamePrefix", "");
  if (!names.empty() && !prefix.empty()) {
    return tl::unexpected(Invalid("logStreamNames and logStreamNamePrefix are mutually exclusive."));
  }
  const std::string pattern = r.value("filterPattern", "");
  if (auto probe = MatchesFilterPattern(pattern, ""); !probe) return tl::unexpected(Invalid(probe.error()));
  const int limit = std::clamp(IntField(r, "limit", kMaxLimit), 1, kMaxLimit);
  int64_t after = 0;
  if (r.contains("nextToken")) {
    auto token = ParseToken(r["nextToken"].get<std::string>());
    if (!token || token->first != 'n') return tl::unexpected(Invalid("The specified nextToken is invalid."));
    after = token->second;
  }
  auto s = Prepare(db_.get(),
                   "SELECT id, ts, ingest, stream, message FROM log_events WHERE grp = ?1 AND id > ?2 AND ts >= ?3 "
                   "AND ts <= ?4 AND substr(stream, 1, length(?5)) = ?5 ORDER BY id ASC");
  if (!s) return tl::unexpected(Internal(s.error().message));
  Bind(s->get(), 1, *group);
  Bind(s->get(), 2, after);
  Bind(s->get(), 3, IntField(r, "startTime", int64_t{0}));
  Bind(s->get(), 4, IntField(r, "endTime", int64_t{INT64_MAX}));
  Bind(s->get(), 5, prefix);
  json out{{"events", json::array()}, {"searchedLogStreams", json::array()}};
  std::set<std::string> searched;
  int64_t last_id = after;
  while (sqlite3_step(s->get()) == SQLITE_ROW) {
    Event e{sqlite3_column_int64(s->get(), 0), sqlite3_column_int64(s->get(), 1), sqlite3_column_int64(s->get(), 2),
            ColumnText(s->get(), 3), ColumnText(s->get(), 4)};
    if (!names.empty() && std::find(names.begin(), names.end(), e.stream) == names.end()) continue;
    searched.insert(e.stream);
    if (!*MatchesFilterPattern(pattern, e.message)) continue;
    if (static_cast<int>(out["events"].size()) == limit) {
      out["nextToken"] = Token('n', last_id);
      break;
    }
    last_id = e.id;
    out["events"].push_back({{"logStreamName", e.stream}, {"timestamp", e.ts}, {"message", e.message},
                             {"ingestionTime", e.ingest}, {"eventId", std::to_string(e.id)}});
  }
  for (const auto& name : searched) out["searchedLogStreams"].push_back({{"logStreamName", name}, {"searchedCompletely", true}});
  return out;
}

Result<void> LogService::Ingest(const std::string& group, const std::string& stream, const std::vector<LogLine>& lines,
                                bool create_group, int64_t now_ms) {
  std::lock_guard lock(mu_);
  if (!GroupExistsLocked(group)) {
    if (!create_group) return Fail("The specified log group does not exist.");
    if (auto r = CreateLogGroup({{"logGroupName", group}}, now_ms); !r) return Fail(r.error().message);
  }
  if (!StreamExists(group, stream)) {
    if (auto r = CreateLogStream({{"logGroupName", group}, {"logStreamName", stream}}, now_ms); !r) {
      return Fail(r.error().message);
    }
  }
  // Task output is bytes; CloudWatch Logs events are UTF-8 text (and every reply is JSON).
  std::vector<LogLine> text;
  text.reserve(lines.size());
  for (const auto& l : lines) text.push_back({l.timestamp_ms, ToValidUtf8(l.message)});
  if (auto r = Append(group, stream, text, now_ms); !r) return Fail(r.error().message);
  return {};
}

}  // namespace slipway::engine
