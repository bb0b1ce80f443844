// The release lock over ECS DescribeServices and service tags.
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

// The lock tag's value on `arn`, or "" when there is none.
Result<std::string> LockTag(aws::AwsClient& c, const std::string& arn) {
  auto r = c.Json(aws::kEcs, "ListTagsForResource", {{"resourceArn", arn}});
  if (!r) return tl::unexpected(r.error());
  for (const auto& t : r->value("tags", json::array())) {
    if (t.value("key", "") == kLockTag) return t.value("value", "");
  }
  return std::string();
}

// "<release-id> <started> <expires> <actor>" -> who holds it, or "" once it has expired. The actor
// comes last because it may contain spaces ($SLIPWAY_ACTOR).
std::string DescribeHolder(const std::string& service, const std::string& value) {
  std::istringstream in(value);
  std::string id, started, actor;
  double expires = 0;
  in >> id >> started >> expires;
  std::getline(in >> std::ws, actor);
  if (expires < EpochNow()) return "";
  return "service " + service + " is being released by " + actor + " (release " + id + ", started " + started +
         "; the lock expires " + IsoFromEpoch(expires) + ")";
}

}  // namespace

Result<std::unique_ptr<ReleaseLock>> ReleaseLock::Acquire(aws::AwsClient& c, const config::Environment& env,
                                                          const std::string& release_id, const std::string& actor,
                                                          long ttl_seconds, std::string& held_by) {
  json names = json::array();
  for (const auto& [name, se] : env.services) names.push_back(se.service_name);
  std::vector<std::pair<std::string, std::string>> services;  // name, ARN
  auto r = c.Json(aws::kEcs, "DescribeServices", {{"cluster", env.cluster}, {"services", names}});
  if (!r && r.error().code != "ClusterNotFoundException") return tl::unexpected(r.error());
  for (const auto& s : r ? (*r)["services"] : json::array()) {
    if (s.value("status", "") != "ACTIVE") continue;
    for (const auto& d : s.value("deployments", json::array())) {
      if (d.value("status", "") != "PRIMARY" || d.value("rolloutState", "") != "IN_PROGRESS") continue;
      held_by = "service " + s.value("serviceName", "") + " has deployment " + d.value("id", "") + " in flight (" +
                std::to_string(s["deployments"].size()) + " deployments), started " +
                IsoFromEpoch(d.value("createdAt", 0.0)) + " with " + FamilyRevision(d.value("taskDefinition", ""));
      return std::unique_ptr<ReleaseLock>();
    }
    services.emplace_back(s.value("serviceName", ""), s.value("serviceArn", ""));
  }
  for (const auto& [name, arn] : services) {
    auto tag = LockTag(c, arn);
    if (!tag) return tl::unexpected(tag.error());
    if (!tag->empty() && !(held_by = DescribeHolder(name, *tag)).empty()) return std::unique_ptr<ReleaseLock>();
  }
  // A tag value AWS accepts; only the actor can make it long or bring other characters.
  const std::string value = TagValue(release_id + " " + IsoNow() + " " +
                                     std::to_string(static_cast<long>(EpochNow()) + ttl_seconds) + " " + actor);
  std::unique_ptr<ReleaseLock> lock(new ReleaseLock(c, {}));
  for (const auto& [name, arn] : services) {
    auto t = c.Json(aws::kEcs, "TagResource", {{"resourceArn", arn}, {"tags", {{{"key", kLockTag}, {"value", value}}}}});
    if (!t) return tl::unexpected(t.error());
    lock->arns_.push_back(arn);
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

ReleaseLock::~ReleaseLock() {
  for (const auto& arn : arns_) {
    // Best effort: an expired lock is ignored by the next release anyway.
    auto r = client_.Json(aws::kEcs, "UntagResource", {{"resourceArn", arn}, {"tagKeys", {kLockTag}}});
    (void)r;
  }
}

}  // namespace slipway::deploy
