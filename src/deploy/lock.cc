// The release lock over ECS DescribeServices, ListTasks and service tags.
#include "deploy/lock.h"

#include <cmath>
#include <random>
#include <sstream>
#include <thread>

#include "aws/ecs.h"
#include "base/clock.h"
#include "base/strings.h"
#include "deploy/records.h"

namespace slipway::deploy {

namespace {

// WallTime counts nanoseconds in 64 bits, about 292 years either side of 1970; converting a time
// beyond that (a reply may say 1e300) is undefined, so it is shown as the number it came as.
constexpr double kMaxEpochSeconds = 9e9;

// Epoch seconds from a reply or a lock tag as ISO 8601.
std::string IsoFromEpoch(double seconds) {
  if (!std::isfinite(seconds) || std::abs(seconds) > kMaxEpochSeconds) {
    std::ostringstream out;
    out << "a time out of range (" << seconds << " s from 1970)";
    return out.str();
  }
  return IsoTime(WallTime(std::chrono::duration_cast<WallTime::duration>(std::chrono::duration<double>(seconds))));
}

double EpochNow() {
  RealClock clock;
  return EpochSeconds(clock.WallNow());
}

// The environment's ACTIVE services as DescribeServices returns them; none when the cluster is missing.
Result<std::vector<aws::Service>> ActiveServices(aws::AwsClient& c, const config::Environment& env) {
  std::vector<std::string> names;
  for (const auto& [name, se] : env.services) names.push_back(se.service_name);
  auto r = aws::Ecs(c).DescribeServices(env.cluster, names);
  if (!r && r.error().code != "ClusterNotFoundException") return tl::unexpected(r.error());
  std::vector<aws::Service> out;
  if (!r) return out;
  for (auto& s : r->services) {
    if (s.status == "ACTIVE") out.push_back(std::move(s));
  }
  return out;
}

// "service X has deployment Y in flight (...)" when the service's PRIMARY deployment is rolling
// out, else "".
std::string DeploymentInFlight(const aws::Service& s) {
  for (const auto& d : s.deployments) {
    if (d.status != "PRIMARY" || d.rollout_state != "IN_PROGRESS") continue;
    return "service " + s.name + " has deployment " + d.id + " in flight (" +
           std::to_string(s.deployments.size()) + " deployments), started " +
           IsoFromEpoch(d.created_at) + " with " + FamilyRevision(d.task_definition);
  }
  return "";
}

// The lock tag's value on `arn`, or "" when there is none.
Result<std::string> LockTag(aws::AwsClient& c, const std::string& arn) {
  auto r = aws::Ecs(c).ListTagsForResource(arn);
  if (!r) return tl::unexpected(r.error());
  for (const auto& t : *r) {
    if (t.key == kLockTag) return t.value;
  }
  return std::string();
}

ServiceLock ReadLock(const std::string& service, const std::string& arn, const std::string& value) {
  ServiceLock lock{service, arn, value, ParseLockTag(value), true};
  lock.expired = !lock.holder || lock.holder->expires < EpochNow();
  return lock;
}

// Who holds a live lock on `service`, or "" once it has expired.
std::string DescribeHolder(const std::string& service, const std::string& value) {
  ServiceLock lock = ReadLock(service, "", value);
  if (lock.expired) return "";
  return "service " + service + " is being released by " + lock.holder->Describe();
}

Result<void> RemoveLockTag(aws::AwsClient& c, const std::string& arn, const std::string& key = kLockTag) {
  return aws::Ecs(c).UntagResource(arn, {key});
}

// The cluster's ARN, or "" when it does not exist (or is not ACTIVE).
Result<std::string> ActiveClusterArn(aws::AwsClient& c, const config::Environment& env) {
  auto r = aws::Ecs(c).DescribeClusters({env.cluster});
  if (!r) return tl::unexpected(r.error());
  for (const auto& cl : *r) {
    if (cl.status == "ACTIVE") return cl.arn;
  }
  return std::string();
}

// The environment's lock keys on the cluster and their values.
Result<std::vector<std::pair<std::string, std::string>>> ClusterLockTags(aws::AwsClient& c, const std::string& arn,
                                                                           const std::string& prefix) {
  auto r = aws::Ecs(c).ListTagsForResource(arn);
  if (!r) return tl::unexpected(r.error());
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& t : *r) {
    if (t.key.starts_with(prefix)) out.emplace_back(t.key, t.value);
  }
  return out;
}

/// Rounds of the cluster protocol before a release gives up on two (or more) taking the lock
/// at the same moment over and over.
constexpr int kClusterLockRounds = 8;

}  // namespace

std::string ClusterLockPrefix(const config::Environment& env) {
  std::string first;
  for (const auto& [name, se] : env.services) {
    if (first.empty() || se.service_name < first) first = se.service_name;
  }
  // Tag keys have at most 128 characters: room for the prefix, 64 of the name, and a release id.
  return std::string(kLockTag) + ":" + first.substr(0, 64) + "/";
}

std::string LockHolder::TagValue() const {
  // A tag value AWS accepts: only the actor can make it long or bring other characters.
  return deploy::TagValue(release_id + " " + started + " " + std::to_string(static_cast<long>(expires)) + " " + actor);
}

std::string LockHolder::Describe() const {
  return actor + " (release " + release_id + ", started " + started + "; the lock expires " + IsoFromEpoch(expires) +
         ")";
}

std::optional<LockHolder> ParseLockTag(const std::string& value) {
  std::istringstream in(value);
  LockHolder h;
  if (!(in >> h.release_id >> h.started >> h.expires)) return std::nullopt;
  std::getline(in >> std::ws, h.actor);
  return h;
}

Result<std::unique_ptr<ReleaseLock>> ReleaseLock::Acquire(aws::AwsClient& c, const config::Environment& env,
                                                          const std::string& release_id, const std::string& actor,
                                                          long ttl_seconds, std::string& held_by) {
  auto active = ActiveServices(c, env);
  if (!active) return tl::unexpected(active.error());
  std::vector<std::pair<std::string, std::string>> services;  // name, ARN
  for (const auto& s : *active) {
    if (held_by = DeploymentInFlight(s); !held_by.empty()) return std::unique_ptr<ReleaseLock>();
    services.emplace_back(s.name, s.arn);
  }
  for (const auto& [name, arn] : services) {
    auto tag = LockTag(c, arn);
    if (!tag) return tl::unexpected(tag.error());
    if (!tag->empty() && !(held_by = DescribeHolder(name, *tag)).empty()) return std::unique_ptr<ReleaseLock>();
  }
  const LockHolder mine{release_id, IsoNow(), static_cast<double>(static_cast<long>(EpochNow()) + ttl_seconds), actor};
  const std::string value = mine.TagValue();
  std::unique_ptr<ReleaseLock> lock(new ReleaseLock(c, {}));
  lock->expires_ = IsoFromEpoch(mine.expires);
  lock->expires_at_ = mine.expires;
  lock->value_ = value;
  // The cluster first: it is there before any service is, and service tags are set only by the
  // release that holds it.
  auto cluster = ActiveClusterArn(c, env);
  if (!cluster) return tl::unexpected(cluster.error());
  if (!cluster->empty()) {
    const std::string prefix = ClusterLockPrefix(env);
    auto taken = lock->TakeClusterLock(env.cluster, *cluster, prefix, prefix + release_id, held_by);
    if (!taken) return tl::unexpected(taken.error());
    if (!*taken) return std::unique_ptr<ReleaseLock>();
  }
  for (const auto& [name, arn] : services) {
    // Recorded before the call: a tag whose reply was lost may still have been set.
    lock->arns_.push_back(arn);
    auto t = aws::Ecs(c).TagResource(arn, {{kLockTag, value}});
    if (!t) return tl::unexpected(t.error());
  }
  // Read back: a release that tagged at the same moment and won keeps the lock.
  for (const auto& [name, arn] : services) {
    auto tag = LockTag(c, arn);
    if (!tag) return tl::unexpected(tag.error());
    if (*tag != value) {
      held_by = DescribeHolder(name, *tag);
      if (held_by.empty()) held_by = "service " + name + " was locked by another release at the same moment";
      std::erase(lock->arns_, arn);  // not ours to remove
      return std::unique_ptr<ReleaseLock>();
    }
  }
  return lock;
}

Result<bool> ReleaseLock::TakeClusterLock(const std::string& cluster, const std::string& arn, const std::string& prefix,
                                          const std::string& key, std::string& held_by) {
  std::mt19937 random(std::random_device{}());
  for (int round = 0; round < kClusterLockRounds; ++round) {
    auto tags = ClusterLockTags(client_, arn, prefix);
    if (!tags) return tl::unexpected(tags.error());
    for (const auto& [k, v] : *tags) {
      if (k == key) continue;
      if (ServiceLock other = ReadLock(cluster, arn, v); !other.expired) {
        held_by = "cluster " + cluster + " is being released by " + other.holder->Describe();
        return false;
      }
      (void)RemoveLockTag(client_, arn, k);  // a crashed release's: ignored, and tidied away
    }
    // Recorded before the call: a tag whose reply was lost may still have been set.
    cluster_arn_ = arn;
    cluster_key_ = key;
    auto t = aws::Ecs(client_).TagResource(arn, {{key, value_}});
    if (!t) return tl::unexpected(t.error());
    auto after = ClusterLockTags(client_, arn, prefix);
    if (!after) return tl::unexpected(after.error());
    bool alone = true;
    for (const auto& [k, v] : *after) alone = alone && (k == key || ReadLock(cluster, arn, v).expired);
    if (alone) return true;
    // Another release added its key at the same moment. Both step back and try again after a
    // random pause: whoever comes back first takes the lock, and the other then finds it held.
    if (auto r = RemoveLockTag(client_, arn, key); !r) return tl::unexpected(r.error());
    cluster_arn_.clear();
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(50, 1000)(random)));
  }
  held_by = "cluster " + cluster + ": other releases were taking the lock at the same moment, " +
            std::to_string(kClusterLockRounds) + " times over";
  return false;
}

Result<void> ReleaseLock::Remove() {
  std::vector<std::string> left;
  Result<void> result;
  for (const auto& arn : arns_) {
    auto tag = LockTag(client_, arn);
    Result<void> removed = tag ? Result<void>() : Result<void>(tl::unexpected(tag.error()));
    // Another release's lock (this one expired, and it took the service) is not ours to remove.
    if (tag && *tag == value_) removed = RemoveLockTag(client_, arn);
    if (!removed) {
      left.push_back(arn);
      if (result) result = tl::unexpected(removed.error());
    }
  }
  arns_ = std::move(left);
  // The cluster's key last: it is held until every service's tag is gone. The key is this
  // lock's own, so it is removed whatever its value.
  if (!cluster_arn_.empty()) {
    if (auto removed = RemoveLockTag(client_, cluster_arn_, cluster_key_); !removed) {
      if (result) result = tl::unexpected(removed.error());
    } else {
      cluster_arn_.clear();
    }
  }
  return result;
}

Result<bool> ReleaseLock::Held() {
  if (EpochNow() >= expires_at_) return false;
  if (!cluster_arn_.empty()) {
    auto r = aws::Ecs(client_).ListTagsForResource(cluster_arn_);
    if (!r) return tl::unexpected(r.error());
    bool found = false;
    for (const auto& t : *r) found = found || (t.key == cluster_key_ && t.value == value_);
    if (!found) return false;
  }
  for (const auto& arn : arns_) {
    auto tag = LockTag(client_, arn);
    if (!tag) return tl::unexpected(tag.error());
    if (*tag != value_) return false;
  }
  return true;
}

ReleaseLock::~ReleaseLock() {
  // Best effort: an expired lock is ignored by the next release anyway.
  (void)Remove();
}

Result<UnlockReport> Unlock(aws::AwsClient& c, const config::Environment& env, bool force) {
  auto active = ActiveServices(c, env);
  if (!active) return tl::unexpected(active.error());
  UnlockReport report;
  for (const auto& s : *active) {
    if (report.in_flight.empty()) report.in_flight = DeploymentInFlight(s);
    auto tag = LockTag(c, s.arn);
    if (!tag) return tl::unexpected(tag.error());
    if (!tag->empty()) report.locks.push_back(ReadLock(s.name, s.arn, *tag));
  }
  auto cluster = ActiveClusterArn(c, env);
  if (!cluster) return tl::unexpected(cluster.error());
  if (!cluster->empty()) {
    auto tags = ClusterLockTags(c, *cluster, ClusterLockPrefix(env));
    if (!tags) return tl::unexpected(tags.error());
    for (const auto& [key, value] : *tags) {
      ServiceLock lock = ReadLock(env.cluster, *cluster, value);
      lock.on_cluster = true;
      lock.tag_key = key;
      report.locks.push_back(std::move(lock));
    }
  }
  if (report.locks.empty()) return report;
  if (report.in_flight.empty()) {
    auto migrating = aws::Ecs(c).ListTasks(
        {.cluster = env.cluster, .started_by = kMigrationStartedBy, .desired_status = "RUNNING"});
    if (!migrating) return tl::unexpected(migrating.error());
    if (!migrating->empty()) {
      const std::string& task = migrating->front();
      report.in_flight = "migration task " + task.substr(task.rfind('/') + 1) + " is running in " + env.cluster;
    }
  }
  if (!report.in_flight.empty() && !force) {
    report.refused = true;
    return report;
  }
  for (const auto& lock : report.locks) {
    if (auto r = RemoveLockTag(c, lock.service_arn, lock.tag_key); !r) {
      return tl::unexpected(Wrap(lock.service_name, r.error()));
    }
  }
  return report;
}


}  // namespace slipway::deploy
