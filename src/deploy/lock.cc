// The release lock over ECS DescribeServices, ListTasks and service tags.
#include "deploy/lock.h"

#include <nlohmann/json.hpp>
#include <sstream>

#include "base/clock.h"
#include "base/strings.h"
#include "deploy/records.h"

namespace slipway::deploy {

using nlohmann::json;

namespace {

std::string IsoFromEpoch(double seconds) {
  return IsoTime(WallTime(std::chrono::duration_cast<WallTime::duration>(std::chrono::duration<double>(seconds))));
}

double EpochNow() {
  RealClock clock;
  return EpochSeconds(clock.WallNow());
}

// The environment's ACTIVE services as DescribeServices returns them; none when the cluster is missing.
Result<std::vector<json>> ActiveServices(aws::AwsClient& c, const config::Environment& env) {
  json names = json::array();
  for (const auto& [name, se] : env.services) names.push_back(se.service_name);
  auto r = c.Json(aws::kEcs, "DescribeServices", {{"cluster", env.cluster}, {"services", names}});
  if (!r && r.error().code != "ClusterNotFoundException") return tl::unexpected(r.error());
  std::vector<json> out;
  for (const auto& s : r ? (*r)["services"] : json::array()) {
    if (s.value("status", "") == "ACTIVE") out.push_back(s);
  }
  return out;
}

// "service X has deployment Y in flight (...)" when the service's PRIMARY deployment is rolling
// out, else "".
std::string DeploymentInFlight(const json& s) {
  for (const auto& d : s.value("deployments", json::array())) {
    if (d.value("status", "") != "PRIMARY" || d.value("rolloutState", "") != "IN_PROGRESS") continue;
    return "service " + s.value("serviceName", "") + " has deployment " + d.value("id", "") + " in flight (" +
           std::to_string(s["deployments"].size()) + " deployments), started " +
           IsoFromEpoch(d.value("createdAt", 0.0)) + " with " + FamilyRevision(d.value("taskDefinition", ""));
  }
  return "";
}

// The lock tag's value on `arn`, or "" when there is none.
Result<std::string> LockTag(aws::AwsClient& c, const std::string& arn) {
  auto r = c.Json(aws::kEcs, "ListTagsForResource", {{"resourceArn", arn}});
  if (!r) return tl::unexpected(r.error());
  for (const auto& t : r->value("tags", json::array())) {
    if (t.value("key", "") == kLockTag) return t.value("value", "");
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

Result<void> RemoveLockTag(aws::AwsClient& c, const std::string& arn) {
  auto r = c.Json(aws::kEcs, "UntagResource", {{"resourceArn", arn}, {"tagKeys", {kLockTag}}});
  if (!r) return tl::unexpected(r.error());
  return {};
}

}  // namespace

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
    services.emplace_back(s.value("serviceName", ""), s.value("serviceArn", ""));
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
  for (const auto& [name, arn] : services) {
    // Recorded before the call: a tag whose reply was lost may still have been set.
    lock->arns_.push_back(arn);
    auto t = c.Json(aws::kEcs, "TagResource", {{"resourceArn", arn}, {"tags", {{{"key", kLockTag}, {"value", value}}}}});
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
  return result;
}

Result<bool> ReleaseLock::Held() {
  if (EpochNow() >= expires_at_) return false;
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
    const std::string arn = s.value("serviceArn", "");
    auto tag = LockTag(c, arn);
    if (!tag) return tl::unexpected(tag.error());
    if (!tag->empty()) report.locks.push_back(ReadLock(s.value("serviceName", ""), arn, *tag));
  }
  if (report.locks.empty()) return report;
  if (report.in_flight.empty()) {
    auto migrating = c.Json(aws::kEcs, "ListTasks", {{"cluster", env.cluster}, {"startedBy", kMigrationStartedBy},
                                                     {"desiredStatus", "RUNNING"}});
    if (!migrating) return tl::unexpected(migrating.error());
    if (!(*migrating)["taskArns"].empty()) {
      const std::string task = (*migrating)["taskArns"][0].get<std::string>();
      report.in_flight = "migration task " + task.substr(task.rfind('/') + 1) + " is running in " + env.cluster;
    }
  }
  if (!report.in_flight.empty() && !force) {
    report.refused = true;
    return report;
  }
  for (const auto& lock : report.locks) {
    if (auto r = RemoveLockTag(c, lock.service_arn); !r) return tl::unexpected(Wrap(lock.service_name, r.error()));
  }
  return report;
}


}  // namespace slipway::deploy
