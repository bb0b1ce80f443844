// CloudWatch Logs as slipway calls it: log groups for awslogs, and reading what tasks wrote.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "aws/aws_client.h"
#include "base/result.h"

namespace slipway::aws {

/// One log event.
struct LogEvent {
  int64_t timestamp_ms = 0;     ///< when it was written, in ms since the epoch
  std::string message;          ///< the line as the task wrote it
  std::string log_stream_name;  ///< the stream it is in (FilterLogEvents only)
  std::string event_id;         ///< unique within its group (FilterLogEvents only)
};

/// Events of one stream, oldest first, and where the next read starts.
struct LogEventsPage {
  std::vector<LogEvent> events;
  /// nextForwardToken: send it to read on. The token sent comes back when nothing further is
  /// there yet; "" when the reply had none.
  std::string next_token;
};

/// Which events GetLogEvents reads from one stream.
struct GetLogEventsRequest {
  std::string group;
  std::string stream;
  std::string next_token;  ///< where to read on from; "" for the first read
  int limit = 0;           ///< at most this many events (1 to 10000); 0: as many as 1 MB holds
  /// A first read starts at the oldest events (true), or ends at the newest (false).
  bool start_from_head = false;
};

/// Which events FilterLogEvents reads from a group.
struct FilterLogEventsRequest {
  std::string group;
  std::string stream_prefix;  ///< only streams whose names start so; "": every stream
  int64_t start_time_ms = 0;  ///< only events at or after this time, in ms since the epoch
};

/// Typed CloudWatch Logs calls over `AwsClient`. Errors are AwsClient's ("logs <Op>: <Code>: ...",
/// the code kept), or "logs <Op>: unexpected reply: ..." for a reply not shaped as the model says.
class Logs {
 public:
  explicit Logs(AwsClient& client) : client_(client) {}

  /// Creates log group `name`; code ResourceAlreadyExistsException when it exists already.
  [[nodiscard]] Result<void> CreateLogGroup(const std::string& name);
  /// One read of a stream; code ResourceNotFoundException when the group or stream is missing.
  [[nodiscard]] Result<LogEventsPage> GetLogEvents(const GetLogEventsRequest& request);
  /// Every event `request` matches, oldest first, across all of the reply's pages.
  [[nodiscard]] Result<std::vector<LogEvent>> FilterLogEvents(
      const FilterLogEventsRequest& request);

 private:
  AwsClient& client_;
};

}  // namespace slipway::aws
