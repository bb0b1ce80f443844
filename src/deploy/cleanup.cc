// The cleanup plan: which of an environment's revisions and ECR images go, and why the rest stay.
#include "deploy/cleanup.h"

#include <algorithm>

#include "deploy/ecr.h"
#include "registry/reference.h"

namespace slipway::deploy {

namespace {

bool InFlight(const RevisionRecord& r) {
  const std::string result = r.Tag("slipway:result");
  return result == kResultInProgress || result == kResultInterrupted;
}

std::string ReleaseOf(const RevisionRecord& r) {
  const std::string id = r.Tag("slipway:release");
  return id.empty() ? r.arn : id;
}

// The environment's ECR images a revision names by digest.
std::vector<EcrImage> ImagesOf(const RevisionRecord& r, const std::string& registry) {
  std::vector<EcrImage> out;
  for (const auto& image : r.images) {
    const size_t at = image.rfind('@');
    if (at == std::string::npos || !registry::IsSha256Digest(image.substr(at + 1))) continue;
    const std::string repository = EcrRepositoryOf(image, registry);
    if (!repository.empty()) out.push_back({repository, image.substr(at + 1), {}});
  }
  return out;
}

}  // namespace

CleanupPlan PlanCleanup(const CleanupInput& in) {
  std::vector<const RevisionRecord*> ours;
  for (const auto& r : in.revisions) {
    if (r.Tag("slipway:environment") == in.environment && in.targets.count(r.Tag("slipway:target"))) ours.push_back(&r);
  }
  std::sort(ours.begin(), ours.end(), [](const RevisionRecord* a, const RevisionRecord* b) {
    return std::tie(a->registered_at, a->revision, a->arn) > std::tie(b->registered_at, b->revision, b->arn);
  });
  // Releases newest first: a release is as new as its newest revision.
  std::vector<std::string> releases;
  for (const RevisionRecord* r : ours) {
    if (std::find(releases.begin(), releases.end(), ReleaseOf(*r)) == releases.end()) releases.push_back(ReleaseOf(*r));
  }
  const size_t kept_releases = static_cast<size_t>(std::max(0, in.policy.keep));
  auto newest = [&](const RevisionRecord& r) {
    auto it = std::find(releases.begin(), releases.end(), ReleaseOf(r));
    return static_cast<size_t>(it - releases.begin()) < kept_releases;
  };
  // Each target's known-good: its newest revision whose release completed and verified.
  std::map<std::string, std::string> known_good;  // target -> arn
  for (const RevisionRecord* r : ours) {
    if (r->KnownGood()) known_good.emplace(r->Tag("slipway:target"), r->arn);
  }

  CleanupPlan plan;
  std::set<std::string> going;
  for (const RevisionRecord* r : ours) {
    // Every reason that holds, so the output says all of them.
    std::vector<std::string> reasons;
    if (auto use = in.in_use.find(r->arn); use != in.in_use.end()) reasons.push_back("in use by " + use->second);
    if (InFlight(*r)) reasons.push_back("its release " + ReleaseOf(*r) + " is " + r->Tag("slipway:result"));
    if (known_good[r->Tag("slipway:target")] == r->arn) reasons.push_back("known-good for " + r->Tag("slipway:target"));
    if (newest(*r)) reasons.push_back("release " + ReleaseOf(*r) + " is one of the newest " + std::to_string(kept_releases));
    if (in.policy.now - r->registered_at < in.policy.older_than_seconds) {
      reasons.push_back("registered less than " + std::to_string(static_cast<long>(in.policy.older_than_seconds)) + " s ago");
    }
    std::string reason;
    for (const auto& why : reasons) reason += (reason.empty() ? "" : "; ") + why;
    if (reason.empty()) {
      const std::string result = r->Tag("slipway:result");
      plan.deregister.push_back({*r, "release " + ReleaseOf(*r) + (result.empty() ? "" : " (" + result + ")") +
                                         " is older than the newest " + std::to_string(kept_releases)});
      going.insert(r->arn);
    } else {
      plan.keep.push_back({*r, reason});
    }
  }
  if (in.registry.empty()) return plan;

  // An image goes when every revision that names it goes; any other revision of the families
  // (another environment's, or one registered outside slipway) keeps it.
  std::map<EcrImage, std::vector<std::string>> users;  // image -> kept revisions naming it
  std::set<EcrImage> candidates;
  for (const auto& r : in.revisions) {
    for (auto& image : ImagesOf(r, in.registry)) {
      if (going.count(r.arn)) {
        candidates.insert(image);
      } else {
        users[image].push_back(FamilyRevision(r.arn));
      }
    }
  }
  for (EcrImage image : candidates) {
    auto used = users.find(image);
    if (used == users.end()) {
      plan.delete_images.push_back(image);
    } else {
      image.used_by = used->second;
      plan.keep_images.push_back(image);
    }
  }
  return plan;
}

}  // namespace slipway::deploy
