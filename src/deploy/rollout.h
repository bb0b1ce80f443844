// Deciding a rollout's outcome from DescribeServices, and the adaptive watcher around it.
#pragma once

#include <functional>
#include <set>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "aws/aws_client.h"
#include "base/cancel.h"
#include "base/clock.h"
#include "base/result.h"

namespace slipway::deploy {

enum class RolloutStatus { kInProgress, kCompleted, kFailed };

struct RolloutVerdict {
  RolloutStatus status = RolloutStatus::kInProgress;
  std::string reason;
};

/// The reason WatchRollout gives when it stopped watching because it was cancelled.
inline constexpr const char* kWatchInterrupted = "interrupted";

/// One service as DescribeServices shows it; a null json when it (or its cluster) does not exist.
[[nodiscard]] Result<nlohmann::json> DescribeService(aws::AwsClient& client, const std::string& cluster,
                                                     const std::string& service);

/// Judges one service description against the deployment slipway started. Completed only when
/// that deployment is the sole one, COMPLETED, and running == desired; failed when it is FAILED
/// or another deployment took over (e.g. a circuit-breaker rollback) — never "stable" alone.
RolloutVerdict JudgeRollout(const nlohmann::json& service, const std::string& deployment_id);

/// Polls DescribeServices until the rollout ends or `timeout` passes, calling `on_event` for
/// each new service event in time order. Polls every 250 ms, backing off to 2 s while quiet.
/// Once `cancel` is set it stops watching and returns kInProgress: the rollout goes on without
/// it. An endpoint that stops answering is waited for by the client (ReachPolicy); when it gives
/// up, so does the watch, with the client's error.
[[nodiscard]] Result<RolloutVerdict> WatchRollout(aws::AwsClient& client, Clock& clock,
                                                  const std::string& cluster, const std::string& service,
                                                  const std::string& deployment_id, Millis timeout,
                                                  const std::function<void(const std::string&)>& on_event,
                                                  const CancelToken* cancel = nullptr);

}  // namespace slipway::deploy
