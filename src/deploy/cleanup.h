// `slipway cleanup`: task-definition revisions and ECR images beyond the newest releases, and
// never what runs, what is in flight, or the known-good revision and its images.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "aws/aws_client.h"
#include "config/config.h"
#include "deploy/records.h"

namespace slipway::deploy {

/// What to keep.
struct CleanupPolicy {
  int keep = 5;                   ///< the newest releases of the environment kept whatever else holds
  double older_than_seconds = 0;  ///< only what was registered at least this long ago goes
  double now = 0;                 ///< epoch seconds
};

/// Everything the plan reads, gathered from ECS and ECR.
struct CleanupInput {
  std::string environment;
  /// The environment's release targets ("cluster/service"): revisions tagged with one of them
  /// and with slipway:environment = `environment` are the environment's own; only those go.
  std::set<std::string> targets;
  /// Every ACTIVE revision of the families the environment releases, of any environment or
  /// none: images they name stay.
  std::vector<RevisionRecord> revisions;
  /// Revisions something uses now (a service or one of its deployments, a task), with what.
  std::map<std::string, std::string> in_use;
  /// The environment's ECR registry (host[:port]); images elsewhere are never deleted. Empty
  /// when ECR did not answer: then no image is deleted, and no revision that names an image by
  /// digest goes either (its image would be left behind for good).
  std::string registry;
  /// What the tags revisions name in `registry` point at now: "repository:tag" -> digest. An
  /// image deleted by digest loses its tags, so a tag a remaining revision names keeps its image.
  std::map<std::string, std::string> tag_digests;
  CleanupPolicy policy;
};

/// A revision and why it stays or goes.
struct RevisionVerdict {
  RevisionRecord record;
  std::string reason;
};

/// One image in the environment's ECR, by digest.
struct EcrImage {
  std::string repository, digest;
  std::vector<std::string> used_by;  ///< "family:revision" of the kept revisions that name it
  bool operator<(const EcrImage& o) const { return std::tie(repository, digest) < std::tie(o.repository, o.digest); }
};

struct CleanupPlan {
  std::vector<RevisionVerdict> deregister, keep;  ///< the environment's own revisions, newest first
  std::vector<EcrImage> delete_images;            ///< named only by revisions that go
  std::vector<EcrImage> keep_images;              ///< named by a revision that goes and one that stays
};

/// Decides what goes; reads nothing but `in`. A revision stays when something uses it, when its
/// release is in flight (in-progress or interrupted), when it is its target's known-good or the
/// revision `slipway rollback` would return to, when its release is one of the newest `keep`, or
/// when it is younger than `older_than_seconds`.
CleanupPlan PlanCleanup(const CleanupInput& in);

/// The environment's ECR images (by digest) that the revisions in `going` name and no other
/// revision of `in` names, by digest or through a tag; the ones some other revision still names
/// go to `kept` (with who names them).
std::vector<EcrImage> ImagesOnlyNamedBy(const CleanupInput& in, const std::set<std::string>& going,
                                        std::vector<EcrImage>* kept);

/// "repository:tag" for an image `in` names by tag in `registry`; "" otherwise.
std::string EcrTagOf(const std::string& image, const std::string& registry);

struct CleanupOptions {
  int keep = 5;
  double older_than_seconds = 0;
  bool dry_run = false;
  std::string actor;
  /// Families the templates of every environment on the same endpoint register: revisions of
  /// them protect the images they name, whichever environment released them.
  std::vector<std::string> families;
  /// The other environments on the same endpoint: what their services and tasks run stays.
  std::vector<config::Environment> neighbours;
  std::function<void(const std::string&)> progress = [](const std::string&) {};
};

struct CleanupReport {
  CleanupPlan plan;
  bool dry_run = false;
  std::string registry;            ///< the ECR registry images were deleted from; "" when none
  std::string locked_by;           ///< set (and nothing done) when a release holds the lock
  std::string note;                ///< why no images are deleted, when ECR did not answer
  /// What was done (the plan, less what failed); empty on a dry run.
  std::vector<std::string> deregistered, deleted_revisions;
  std::vector<EcrImage> deleted_images;
  std::vector<std::string> errors; ///< what could not be done (the rest was)
};

/// Gathers the input, plans, and unless `dry_run` applies the plan while holding the release
/// lock: deregisters the revisions, deletes the images no remaining revision names, then
/// deletes the deregistered revisions. An error means nothing was changed.
[[nodiscard]] Result<CleanupReport> Cleanup(aws::AwsClient& c, const config::Environment& env,
                                            const CleanupOptions& options);

}  // namespace slipway::deploy
