// One service's rollout as it stands, for a live view: what the CLI draws on a terminal while
// a release or rollback waits.
#pragma once

#include <string>
#include <vector>

#include "aws/ecs.h"
#include "aws/elbv2.h"

namespace slipway::deploy {

struct Run;

/// How one service's rollout stands at the last look.
struct ServiceProgress {
  std::string service;   ///< the ECS service name
  std::string revision;  ///< "family:N" being rolled out (or returned to)
  /// "rolling out", "rolling back", "completed", "failed" or "interrupted".
  std::string phase;
  int running = 0;  ///< tasks of the revision's deployment that run
  int desired = 0;  ///< tasks that deployment wants
  /// Targets of the service's target group that are healthy, of those not draining; both -1
  /// when the service is not routed or its health is not known yet.
  int healthy = -1, targets = -1;
  std::string event;  ///< the service's latest event, "" before any
  bool done = false;  ///< the rollout ended (phase says how); nothing about it changes any more
};

/// Updates `p` from a DescribeServices look at the service: the counts of `deployment_id`'s
/// deployment (unchanged when the service no longer has it) and the latest event.
void Observe(const aws::Service& service, const std::string& deployment_id, ServiceProgress& p);

/// Counts `health` into `p`: healthy targets, of all but those draining or unused.
void CountTargets(const std::vector<aws::TargetHealth>& health, ServiceProgress& p);

/// Tells options.watch (when set) that `service`'s rollout of `revision` is in `phase`; `done`
/// once it has ended. The counts, health and event shown before stay as they were.
void ShowPhase(Run& run, const std::string& service, const std::string& revision,
               const std::string& phase, bool done = false);
/// Tells options.watch (when set) what a look at the service shows of deployment `deployment_id`,
/// with its targets' health when it is routed (unknown health leaves what was shown).
void ShowLook(Run& run, const std::string& deployment_id, const aws::Service& service);

}  // namespace slipway::deploy
