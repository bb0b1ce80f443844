// Deciding a rollout's outcome from DescribeServices, and the adaptive watcher around it.
#pragma once

#include <functional>
#include <set>
#include <string>

#include <optional>

#include "aws/aws_client.h"
#include "aws/ecs.h"
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

/// One service as DescribeServices shows it (with its tags when `with_tags`); nullopt when it (or
/// its cluster) does not exist.
[[nodiscard]] Result<std::optional<aws::Service>> DescribeService(aws::AwsClient& client, const std::string& cluster,
                                                                  const std::string& service, bool with_tags = false);

/// Judges one service description against the deployment slipway started. Completed only when
/// that deployment is the sole one, COMPLETED, and running == desired; failed when it is FAILED
/// or another deployment took over (e.g. a circuit-breaker rollback) — never "stable" alone.
RolloutVerdict JudgeRollout(const aws::Service& service, const std::string& deployment_id);

/// Judges a service deployment as DescribeServiceDeployments shows it: SUCCESSFUL is completed;
/// a stop or a rollback (requested, running or done) is a failure, with ECS's reason.
RolloutVerdict JudgeServiceDeployment(const aws::ServiceDeployment& service_deployment);

/// Polls DescribeServices until the rollout ends or `timeout` passes, calling `on_event` for
/// each new service event in time order. Polls every 250 ms, backing off to 2 s while quiet.
/// Given the service deployment the update began (`service_deployment_arn`, from the service's
/// currentServiceDeployment), the verdict comes from DescribeServiceDeployments, as ECS's own
/// account of the rollout; an endpoint without that API is judged from DescribeServices.
/// Once `cancel` is set it stops watching and returns kInProgress: the rollout goes on without
/// it. An endpoint that stops answering is waited for by the client (ReachPolicy); when it gives
/// up, so does the watch, with the client's error. `on_look`, when set, hears every description
/// of the service, after its events.
[[nodiscard]] Result<RolloutVerdict> WatchRollout(aws::AwsClient& client, Clock& clock,
                                                  const std::string& cluster, const std::string& service,
                                                  const std::string& deployment_id, Millis timeout,
                                                  const std::function<void(const std::string&)>& on_event,
                                                  const CancelToken* cancel = nullptr,
                                                  const std::string& service_deployment_arn = "",
                                                  const std::function<void(const aws::Service&)>& on_look = {});

}  // namespace slipway::deploy
