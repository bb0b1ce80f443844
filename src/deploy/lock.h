// The release lock. ECS has no lock primitive, so slipway combines two checks:
//  - a deployment of any service of the environment is IN_PROGRESS (slipway's or anyone's);
//  - a `slipway:lock` tag on a service, set for the whole release (migrations included) and removed
//    at its end: "<release-id> <started ISO> <expires epoch-seconds> <actor>".
//  - a `slipway:lock:<service>/<release-id>` tag on the environment's cluster (`<service>` is the
//    environment's first ECS service name), same value, so that a first release, before any of
//    its services exists, is locked too. Each release adds its own key, then lists the cluster's
//    tags: it proceeds only when no other live key of the environment is there. Of two that add
//    theirs at the same moment the later reader always sees the other's; both may, so both step
//    back and retry after a random pause, and whoever comes back first takes the lock.
// Service tags are set only once the cluster lock is taken, and read back. An expired tag (a
// crashed release) is ignored, and `slipway unlock` removes one that has not expired yet.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aws/aws_client.h"
#include "config/config.h"

namespace slipway::deploy {

inline constexpr const char* kLockTag = "slipway:lock";
/// `startedBy` of the one-off migration tasks a release runs.
inline constexpr const char* kMigrationStartedBy = "slipway-migrate";

/// Who holds a lock, as its tag records it.
struct LockHolder {
  std::string release_id;
  std::string started;  ///< ISO-8601
  double expires = 0;   ///< epoch seconds
  std::string actor;    ///< last in the tag, as it may contain spaces ($SLIPWAY_ACTOR)

  /// The tag value, cut to AWS's 256 characters (only a long actor can make it longer).
  std::string TagValue() const;
  /// "alice@host (release r…, started …; the lock expires …)"
  std::string Describe() const;
};

/// Parses a `slipway:lock` tag value; nullopt when it is not one.
std::optional<LockHolder> ParseLockTag(const std::string& value);

/// A lock tag found on one service, or on the environment's cluster.
struct ServiceLock {
  std::string service_name;  ///< the cluster's name when `on_cluster`
  std::string service_arn;   ///< the cluster's ARN when `on_cluster`
  std::string value;                 ///< the tag as found
  std::optional<LockHolder> holder;  ///< parsed; nullopt for a value that is not a lock
  bool expired = false;              ///< expired or unreadable: releases ignore it
  bool on_cluster = false;           ///< the cluster's lock of the environment (see above)
  std::string tag_key = kLockTag;
};

/// The prefix of the environment's lock keys on its cluster: "slipway:lock:<service>/".
std::string ClusterLockPrefix(const config::Environment& env);

/// Held for the lifetime of a release; the destructor removes the lock tags it set.
class ReleaseLock {
 public:
  ~ReleaseLock();
  ReleaseLock(const ReleaseLock&) = delete;
  ReleaseLock& operator=(const ReleaseLock&) = delete;

  /// Takes the lock on `env`'s cluster, when it exists (a release creates it first), and on every
  /// existing service of `env`. Returns null with `held_by` set when another release holds it
  /// (naming the deployment or release and when it started).
  [[nodiscard]] static Result<std::unique_ptr<ReleaseLock>> Acquire(aws::AwsClient& c, const config::Environment& env,
                                                                    const std::string& release_id,
                                                                    const std::string& actor, long ttl_seconds,
                                                                    std::string& held_by);

  /// Removes the lock tags now, so the caller can say whether that worked. Tags that could not
  /// be removed are left to the destructor's last attempt. A tag that is no longer this lock's
  /// (it expired and another release took it) is left alone.
  [[nodiscard]] Result<void> Remove();

  /// Whether every lock tag is still this lock's and unexpired; false once another release took
  /// a service's lock after this one expired.
  [[nodiscard]] Result<bool> Held();

  /// When the lock expires by itself, as ISO-8601.
  const std::string& expires() const { return expires_; }

 private:
  ReleaseLock(aws::AwsClient& c, std::vector<std::string> arns) : client_(c), arns_(std::move(arns)) {}
  /// The cluster protocol above: true when taken, false with `held_by` set when another holds it.
  [[nodiscard]] Result<bool> TakeClusterLock(const std::string& cluster, const std::string& arn,
                                             const std::string& prefix, const std::string& key, std::string& held_by);
  aws::AwsClient& client_;
  std::vector<std::string> arns_;
  std::string cluster_arn_;  ///< set while this lock's key may be on the cluster
  std::string cluster_key_;
  std::string value_;    ///< the tag value this lock set
  double expires_at_ = 0;
  std::string expires_;
};

/// What `slipway unlock` found and did.
struct UnlockReport {
  std::vector<ServiceLock> locks;  ///< every lock tag found (removed unless `refused` is set)
  std::string in_flight;           ///< a deployment or migration that suggests the holder is alive
  bool refused = false;            ///< nothing was removed because of `in_flight` (no --force)
};

/// Removes the `slipway:lock` tags from `env`'s services, and the environment's lock keys from its
/// cluster. Unless `force`, refuses while a
/// deployment of one of them is IN_PROGRESS or a migration task runs in the cluster, as the
/// release holding the lock is then probably still running.
[[nodiscard]] Result<UnlockReport> Unlock(aws::AwsClient& c, const config::Environment& env, bool force);

}  // namespace slipway::deploy
