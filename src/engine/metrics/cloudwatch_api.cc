// CloudWatch's dashboard and metric operations over the engine's dashboard and metric stores.
#include "engine/metrics/cloudwatch_api.h"

#include <algorithm>
#include <chrono>
#include <cctype>
#include <cmath>
#include <optional>
#include <set>

#include "base/clock.h"
#include "base/strings.h"
#include "engine/model.h"

namespace slipway::engine {

namespace {

using nlohmann::json;

/// ListDashboards and ListMetrics page sizes, as CloudWatch pages them.
constexpr size_t kDashboardPage = 1000;
constexpr size_t kMetricPage = 500;
/// GetMetricData's default cap on datapoints across all queries.
constexpr int64_t kDefaultMaxDatapoints = 100'800;

ApiError InvalidValue(const std::string& message) { return {"InvalidParameterValue", message, 400}; }
ApiError Internal(const std::string& message) { return {"InternalServiceError", message, 500}; }

std::string DashboardArn(const std::string& name) {
  return std::string("arn:aws:cloudwatch::") + kAccount + ":dashboard/" + name;
}

/// An epoch-seconds timestamp member; nullopt past year 5000 or before 1970, which no datapoint
/// can have (and which would not convert to an integer safely).
std::optional<double> Seconds(const json& r, const char* name) {
  const double t = r.at(name).get<double>();
  if (!(t >= 0 && t <= 95'617'584'000.0)) return std::nullopt;
  return t;
}

MetricKey KeyOf(const json& metric) {
  MetricKey key{metric.value("Namespace", ""), metric.value("MetricName", ""), {}};
  for (const auto& d : metric.value("Dimensions", json::array())) {
    key.dimensions.emplace_back(d.value("Name", ""), d.value("Value", ""));
  }
  key.dimensions = SortedDimensions(std::move(key.dimensions));
  return key;
}

json MetricJson(const MetricKey& key) {
  json dimensions = json::array();
  for (const auto& [name, value] : key.dimensions) dimensions.push_back({{"Name", name}, {"Value", value}});
  return {{"Namespace", key.name_space}, {"MetricName", key.name}, {"Dimensions", dimensions}};
}

/// A page token that is an offset the engine issued: decimal digits only.
std::optional<size_t> ParseOffset(const std::string& token) {
  if (token.empty() || token.size() > 9 || token.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  return static_cast<size_t>(std::stoul(token));
}

/// What is wrong with one MetricDataQuery beyond its shape, or nullopt.
std::optional<ApiError> CheckQuery(const json& q, size_t index) {
  const std::string where = "MetricDataQueries.member." + std::to_string(index + 1);
  if (q.contains("Expression") && q.contains("MetricStat")) {
    return ApiError{"InvalidParameterCombination",
                    "The parameters " + where + ".Expression and " + where +
                        ".MetricStat are mutually exclusive.",
                    400};
  }
  if (q.contains("Expression")) {
    return InvalidValue("The engine does not evaluate metric math: " + where +
                        ".Expression is not supported; query a MetricStat.");
  }
  if (!q.contains("MetricStat")) {
    return InvalidValue("The parameter " + where + " must have a MetricStat or an Expression.");
  }
  return std::nullopt;
}

}  // namespace

const CloudWatchService::Op CloudWatchService::kOps[] = {
    {"PutDashboard", &CloudWatchService::PutDashboard},
    {"GetDashboard", &CloudWatchService::GetDashboard},
    {"ListDashboards", &CloudWatchService::ListDashboards},
    {"DeleteDashboards", &CloudWatchService::DeleteDashboards},
    {"ListMetrics", &CloudWatchService::ListMetrics},
    {"GetMetricData", &CloudWatchService::GetMetricData},
};

ApiResult CloudWatchService::Handle(const std::string& op, const json& request, int64_t now_ms) {
  for (const auto& o : kOps) {
    if (op != o.name) continue;
    try {
      return (this->*o.handle)(request, now_ms);
    } catch (const json::exception&) {
      // Last resort, as in LogService::Handle: the validator has checked every member's type, so
      // this is a handler reading one it should not. Answer as CloudWatch would, with no library
      // text.
      return tl::unexpected(Internal("A member of the request has an unexpected type."));
    }
  }
  return tl::unexpected(ApiError{"InvalidAction", "The engine does not implement CloudWatch operation " + op + ".", 400});
}

ApiResult CloudWatchService::PutDashboard(const json& r, int64_t now_ms) {
  const std::string name = r.at("DashboardName");
  const std::string body = r.at("DashboardBody");
  if (auto problems = CheckDashboardBody(body); !problems.empty()) {
    json messages = json::array();
    for (const auto& p : problems) messages.push_back({{"DataPath", p.data_path}, {"Message", p.message}});
    // CloudWatch lists the problems in the message too, which is all a Query client shows.
    json listed = json::array();
    for (const auto& p : problems) listed.push_back({{"dataPath", p.data_path}, {"message", p.message}});
    ApiError e{"InvalidParameterInput",
               "The dashboard body is invalid, there are " + std::to_string(problems.size()) +
                   " validation errors: " + listed.dump(2),
               400};
    e.members = {{"dashboardValidationMessages", messages}};
    return tl::unexpected(e);
  }
  auto existing = dashboards_.Get(name);
  if (!existing) return tl::unexpected(Internal(existing.error().message));
  if (!*existing) {
    auto count = dashboards_.Count();
    if (!count) return tl::unexpected(Internal(count.error().message));
    if (*count >= limits_.dashboards) {
      return tl::unexpected(ApiError{"LimitExceeded",
                                     "The engine keeps at most " + std::to_string(limits_.dashboards) +
                                         " dashboards; delete some first.",
                                     400});
    }
  }
  auto total = dashboards_.TotalSize();
  if (!total) return tl::unexpected(Internal(total.error().message));
  const auto replaced = static_cast<int64_t>(*existing ? (*existing)->body.size() : 0);
  if (*total - replaced + static_cast<int64_t>(body.size()) > limits_.bytes) {
    return tl::unexpected(ApiError{"LimitExceeded",
                                   "The engine keeps at most " + std::to_string(limits_.bytes) +
                                       " bytes of dashboard bodies in all; delete some first.",
                                   400});
  }
  if (auto put = dashboards_.Put(name, body, now_ms); !put) return tl::unexpected(Internal(put.error().message));
  return json{{"DashboardValidationMessages", json::array()}};
}

ApiResult CloudWatchService::GetDashboard(const json& r, int64_t) {
  const std::string name = r.at("DashboardName");
  auto found = dashboards_.Get(name);
  if (!found) return tl::unexpected(Internal(found.error().message));
  if (!*found) return tl::unexpected(ApiError{"ResourceNotFound", "Dashboard " + name + " does not exist", 404});
  return json{{"DashboardArn", DashboardArn(name)}, {"DashboardBody", (*found)->body}, {"DashboardName", name}};
}

ApiResult CloudWatchService::ListDashboards(const json& r, int64_t) {
  const std::string token = r.value("NextToken", "");
  // The token is the last name of the previous page; names hold no characters a token may not.
  if (!token.empty() && !std::all_of(token.begin(), token.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
      })) {
    return tl::unexpected(InvalidValue("The parameter NextToken is not a token the engine issued."));
  }
  auto page = dashboards_.List(r.value("DashboardNamePrefix", ""), token, kDashboardPage + 1);
  if (!page) return tl::unexpected(Internal(page.error().message));
  json entries = json::array();
  for (size_t i = 0; i < std::min(page->size(), kDashboardPage); ++i) {
    const DashboardEntry& d = (*page)[i];
    entries.push_back({{"DashboardName", d.name}, {"DashboardArn", DashboardArn(d.name)},
                       {"LastModified", static_cast<double>(d.modified_ms) / 1000.0},
                       {"Size", d.size}});
  }
  json out{{"DashboardEntries", entries}};
  if (page->size() > kDashboardPage) out["NextToken"] = (*page)[kDashboardPage - 1].name;
  return out;
}

ApiResult CloudWatchService::DeleteDashboards(const json& r, int64_t) {
  const auto names = r.at("DashboardNames").get<std::vector<std::string>>();
  auto missing = dashboards_.Delete(names);
  if (!missing) return tl::unexpected(Internal(missing.error().message));
  if (!missing->empty()) {
    const bool one = missing->size() == 1;
    return tl::unexpected(ApiError{"ResourceNotFound",
                                   std::string(one ? "Dashboard " : "Dashboards ") + Join(*missing, ", ") +
                                       (one ? " does not exist" : " do not exist"),
                                   404});
  }
  return json::object();
}

ApiResult CloudWatchService::ListMetrics(const json& r, int64_t) {
  std::vector<DimensionFilter> filters;
  for (const auto& f : r.value("Dimensions", json::array())) filters.push_back({f.value("Name", ""), f.value("Value", "")});
  const auto all = metrics_.List(r.value("Namespace", ""), r.value("MetricName", ""), filters);
  size_t offset = 0;
  if (r.contains("NextToken")) {
    auto parsed = ParseOffset(r["NextToken"]);
    if (!parsed || *parsed > all.size()) {
      return tl::unexpected(InvalidValue("The parameter NextToken is not a token the engine issued."));
    }
    offset = *parsed;
  }
  json metrics = json::array();
  for (size_t i = offset; i < all.size() && i < offset + kMetricPage; ++i) metrics.push_back(MetricJson(all[i]));
  json out{{"Metrics", metrics}};
  if (offset + kMetricPage < all.size()) out["NextToken"] = std::to_string(offset + kMetricPage);
  return out;
}

ApiResult CloudWatchService::GetMetricData(const json& r, int64_t) {
  if (r.contains("NextToken")) {
    return tl::unexpected(ApiError{"InvalidNextToken", "The engine issued no such NextToken.", 400});
  }
  const auto start_time = Seconds(r, "StartTime"), end_time = Seconds(r, "EndTime");
  if (!start_time || !end_time) {
    return tl::unexpected(InvalidValue("The parameters StartTime and EndTime must lie between 1970 and 5000."));
  }
  if (*start_time >= *end_time) {
    return tl::unexpected(InvalidValue("The parameter StartTime must be less than the parameter EndTime."));
  }
  // Datapoints lie on whole seconds: widen the range to them, so that one within a second stays
  // a range (EndTime is exclusive, so rounding it up loses no point before it).
  const auto start = static_cast<int64_t>(std::floor(*start_time));
  const auto end = static_cast<int64_t>(std::ceil(*end_time));
  const auto& queries = r.at("MetricDataQueries");
  std::set<std::string> ids;
  for (size_t i = 0; i < queries.size(); ++i) {
    if (auto bad = CheckQuery(queries[i], i)) return tl::unexpected(*bad);
    if (!ids.insert(queries[i].value("Id", "")).second) {
      return tl::unexpected(InvalidValue("The value " + queries[i].value("Id", "") +
                                         " for parameter MetricDataQueries.member." + std::to_string(i + 1) +
                                         ".Id is not unique."));
    }
  }
  const bool descending = r.value("ScanBy", "TimestampDescending") == "TimestampDescending";
  int64_t budget = r.contains("MaxDatapoints") ? r["MaxDatapoints"].get<int64_t>() : kDefaultMaxDatapoints;
  json results = json::array();
  for (const auto& q : queries) {
    if (!q.value("ReturnData", true)) continue;
    const json& stat = q.at("MetricStat");
    const MetricKey key = KeyOf(stat.at("Metric"));
    // The shape checks ran first, so the statistic parses (validate.cc checks it).
    const Statistic statistic = ParseStatistic(stat.at("Stat").get<std::string>()).value_or(Statistic{});
    auto points = metrics_.Query(key, start, end, stat.at("Period").get<int64_t>(), statistic);
    if (descending) std::reverse(points.begin(), points.end());
    std::string status = "Complete";
    if (static_cast<int64_t>(points.size()) > budget) {
      points.resize(static_cast<size_t>(std::max<int64_t>(budget, 0)));
      status = "PartialData";
    }
    budget -= static_cast<int64_t>(points.size());
    json timestamps = json::array(), values = json::array();
    for (const auto& p : points) {
      timestamps.push_back(p.timestamp);
      values.push_back(p.value);
    }
    json result{{"Id", q.at("Id")}, {"Label", q.value("Label", key.name)}, {"Timestamps", timestamps},
                {"Values", values}, {"StatusCode", status}, {"Messages", json::array()}};
    if (status == "PartialData") {
      result["Messages"].push_back({{"Code", "MaxDatapointsExceeded"},
                                    {"Value", "The query returned more datapoints than MaxDatapoints allows."}});
    }
    results.push_back(std::move(result));
  }
  return json{{"MetricDataResults", results}, {"Messages", json::array()}};
}

namespace {

/// Members whose numbers are timestamps (epoch seconds in JSON, ISO 8601 in Query XML).
bool IsTimestamp(const std::string& name) { return name == "LastModified" || name == "Timestamps"; }

void AppendXml(const json& value, bool timestamp, std::string& out) {
  if (value.is_object()) {
    for (const auto& [name, member] : value.items()) {
      out += "<" + name + ">";
      AppendXml(member, IsTimestamp(name), out);
      out += "</" + name + ">";
    }
  } else if (value.is_array()) {
    for (const auto& item : value) {
      out += "<member>";
      AppendXml(item, timestamp, out);
      out += "</member>";
    }
  } else if (value.is_string()) {
    out += XmlEscape(value.get_ref<const std::string&>());
  } else if (timestamp && value.is_number()) {
    const auto ms = static_cast<int64_t>(std::llround(value.get<double>() * 1000));
    out += IsoTime(WallTime(std::chrono::milliseconds(ms)));
  } else {
    out += value.dump();
  }
}

}  // namespace

std::string CloudWatchXml(const json& result) {
  std::string out;
  AppendXml(result, false, out);
  return out;
}

}  // namespace slipway::engine
