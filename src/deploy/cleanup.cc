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

bool PinnedByDigest(const std::string& image) {
  const size_t at = image.rfind('@');
  return at != std::string::npos && registry::IsSha256Digest(image.substr(at + 1));
}

// The environment's ECR images a revision names: by digest, or by a tag that points at one now.
std::vector<EcrImage> ImagesOf(const RevisionRecord& r, const CleanupInput& in) {
  std::vector<EcrImage> out;
  for (const auto& image : r.images) {
    const std::string repository = EcrRepositoryOf(image, in.registry);
    if (repository.empty()) continue;
    if (PinnedByDigest(image)) {
      out.push_back({repository, image.substr(image.rfind('@') + 1), {}});
    } else if (auto tag = in.tag_digests.find(EcrTagOf(image, in.registry)); tag != in.tag_digests.end()) {
      out.push_back({repository, tag->second, {}});
    }
  }
  return out;
}

}  // namespace

std::string EcrTagOf(const std::string& image, const std::string& registry) {
  auto ref = registry::ParseImageReference(image);
  if (!ref || registry.empty() || ref->registry != registry || !ref->digest.empty()) return "";
  return ref->repository + ":" + ref->tag;
}

std::vector<EcrImage> ImagesOnlyNamedBy(const CleanupInput& in, const std::set<std::string>& going,
                                        std::vector<EcrImage>* kept) {
  std::map<EcrImage, std::vector<std::string>> users;  // image -> remaining revisions naming it
  std::set<EcrImage> candidates;
  for (const auto& r : in.revisions) {
    for (auto& image : ImagesOf(r, in)) {
      if (going.count(r.arn)) {
        candidates.insert(image);
      } else {
        users[image].push_back(FamilyRevision(r.arn));
      }
    }
  }
  std::vector<EcrImage> out;
  for (EcrImage image : candidates) {
    auto used = users.find(image);
    if (used == users.end()) {
      out.push_back(image);
    } else if (kept != nullptr) {
      image.used_by = used->second;
      kept->push_back(image);
    }
  }
  return out;
}

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
  // Per target, as release and rollback choose them (over ACTIVE revisions only): the known-good,
  // newest released; and where `slipway rollback` returns, the newest released not running now.
  std::map<std::string, std::string> known_good, rollback_target;  // target -> arn
  for (const RevisionRecord* r : ours) {
    if (!r->KnownGood() || r->status != "ACTIVE") continue;
    known_good.emplace(r->Tag("slipway:target"), r->arn);
    if (!in.in_use.count(r->arn)) rollback_target.emplace(r->Tag("slipway:target"), r->arn);
  }

  CleanupPlan plan;
  std::set<std::string> going;
  for (const RevisionRecord* r : ours) {
    const std::string target = r->Tag("slipway:target");
    // Every reason that holds, so the output says all of them.
    std::vector<std::string> reasons;
    if (auto use = in.in_use.find(r->arn); use != in.in_use.end()) reasons.push_back("in use by " + use->second);
    if (InFlight(*r)) reasons.push_back("its release " + ReleaseOf(*r) + " is " + r->Tag("slipway:result"));
    if (known_good[target] == r->arn) reasons.push_back("known-good for " + target);
    if (rollback_target[target] == r->arn) reasons.push_back("where slipway rollback returns for " + target);
    if (newest(*r)) reasons.push_back("release " + ReleaseOf(*r) + " is one of the newest " + std::to_string(kept_releases));
    if (in.policy.now - r->registered_at < in.policy.older_than_seconds) {
      reasons.push_back("registered less than " + std::to_string(static_cast<long>(in.policy.older_than_seconds)) + " s ago");
    }
    if (in.registry.empty() && std::any_of(r->images.begin(), r->images.end(), PinnedByDigest)) {
      reasons.push_back("its images could not be checked, as the environment's ECR did not answer");
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
  if (!in.registry.empty()) plan.delete_images = ImagesOnlyNamedBy(in, going, &plan.keep_images);
  return plan;
}

}  // namespace slipway::deploy
