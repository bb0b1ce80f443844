// CloudWatch Logs requests built and replies read as botocore's logs 2014-03-28 model has them.
#include "aws/logs.h"

#include <nlohmann/json.hpp>

#include "aws/json_reply.h"

namespace slipway::aws {

using nlohmann::json;

namespace {

LogEvent ReadEvent(ReplyReader& read, const json& e) {
  return {read.Int(e, "timestamp"), read.String(e, "message"), read.String(e, "logStreamName"),
          read.String(e, "eventId")};
}

}  // namespace

Result<void> Logs::CreateLogGroup(const std::string& name) {
  auto r = client_.Json(kLogs, "CreateLogGroup", {{"logGroupName", name}});
  if (!r) return tl::unexpected(r.error());
  return {};
}

Result<LogEventsPage> Logs::GetLogEvents(const GetLogEventsRequest& request) {
  json body{{"logGroupName", request.group},
            {"logStreamName", request.stream},
            {"startFromHead", request.start_from_head}};
  if (!request.next_token.empty()) body["nextToken"] = request.next_token;
  if (request.limit > 0) body["limit"] = request.limit;
  auto r = client_.Json(kLogs, "GetLogEvents", body);
  if (!r) return tl::unexpected(r.error());
  ReplyReader read("logs GetLogEvents");
  LogEventsPage page;
  page.events = read.Objects(*r, "events", ReadEvent);
  page.next_token = read.String(*r, "nextForwardToken");
  return read.Finish(std::move(page));
}

Result<std::vector<LogEvent>> Logs::FilterLogEvents(const FilterLogEventsRequest& request) {
  json body{{"logGroupName", request.group}, {"startTime", request.start_time_ms}};
  if (!request.stream_prefix.empty()) body["logStreamNamePrefix"] = request.stream_prefix;
  std::vector<LogEvent> events;
  // Pages may hold no events while the search goes on: only a missing token ends it.
  auto read = ReadJsonPages(
      "logs FilterLogEvents", body,
      [&](const json& page) { return client_.Json(kLogs, "FilterLogEvents", page); },
      [&](ReplyReader& reader, const json& reply) {
        for (LogEvent& e : reader.Objects(reply, "events", ReadEvent)) events.push_back(std::move(e));
      });
  if (!read) return tl::unexpected(read.error());
  return events;
}

}  // namespace slipway::aws
