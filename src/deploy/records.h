// Release records kept on AWS itself, as tags on each task-definition revision a release
// registers, so every machine (and every teammate) reads the same history and known-good.
//
// Tags: slipway:service, slipway:environment, slipway:target (cluster/service it was released to),
// slipway:release (id), slipway:by, slipway:started, slipway:finished,
// slipway:result (in-progress | released | failed | aborted | interrupted | rolled-back),
// slipway:detail,
// slipway:restored (last time `slipway rollback` returned to this revision).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aws/aws_client.h"

namespace slipway::deploy {

inline constexpr const char* kResultReleased = "released";
inline constexpr const char* kResultFailed = "failed";
inline constexpr const char* kResultAborted = "aborted";
inline constexpr const char* kResultRolledBack = "rolled-back";
inline constexpr const char* kResultInProgress = "in-progress";
/// Stopped on request after a rollout started; the revision may be running or rolling out.
inline constexpr const char* kResultInterrupted = "interrupted";

/// One task-definition revision and what slipway recorded about it.
struct RevisionRecord {
  std::string arn, family;
  int revision = 0;
  std::vector<std::string> images;
  std::map<std::string, std::string> tags;
  double registered_at = 0;
  std::string status = "ACTIVE";  ///< ACTIVE | INACTIVE | DELETE_IN_PROGRESS

  std::string Tag(const std::string& key) const {
    auto it = tags.find(key);
    return it == tags.end() ? "" : it->second;
  }
  /// Known-good: a release of this revision completed and verified, and was not rolled back since.
  bool KnownGood() const { return Tag("slipway:result") == kResultReleased; }
};

/// "family:revision" from a task-definition ARN (or the input when it is not an ARN).
std::string FamilyRevision(const std::string& arn);
/// The family part of an ARN or "family:revision".
std::string FamilyOf(const std::string& arn_or_family_revision);

/// Revisions of `family`, newest first, at most `limit`.
[[nodiscard]] Result<std::vector<RevisionRecord>> ListRevisions(aws::AwsClient& c, const std::string& family, int limit);
[[nodiscard]] Result<RevisionRecord> DescribeRevision(aws::AwsClient& c, const std::string& arn);

/// The newest known-good revision of `family` released to `target` ("cluster/service"), other
/// than `exclude_arn`; nullopt when none. Services may share a family; each has its own known-good.
[[nodiscard]] Result<std::optional<RevisionRecord>> FindKnownGood(aws::AwsClient& c, const std::string& family,
                                                                  const std::string& target,
                                                                  const std::string& exclude_arn);

/// The slipway:target tag value for a service.
inline std::string ReleaseTarget(const std::string& cluster, const std::string& service) {
  return cluster + "/" + service;
}

/// `text` as an ECS tag value, which may hold only letters, digits, spaces and _ . : / = + - @
/// and at most 256 characters: every other character (non-ASCII ones too) becomes a space, runs
/// of spaces become one, and the result is trimmed and cut. AWS refuses any other value.
std::string TagValue(std::string_view text);

/// The revision of `family` that release `release_id` registered for `target`, if any: how a
/// RegisterTaskDefinition whose reply was lost (it takes no client token) is found, so that it is
/// not registered twice.
[[nodiscard]] Result<std::optional<std::string>> FindRegistered(aws::AwsClient& c, const std::string& family,
                                                                const std::string& target,
                                                                const std::string& release_id);

/// A client token (32 hex digits) for the creating call `what` (e.g. "CreateService web") of
/// release `release_id`: the same for every attempt of that call, different for any other.
std::string ClientToken(const std::string& release_id, const std::string& what);

/// Adds or replaces tags on a task-definition revision (values pass through TagValue).
[[nodiscard]] Result<void> TagRevision(aws::AwsClient& c, const std::string& arn,
                                       const std::map<std::string, std::string>& tags);

/// Who runs this release: $SLIPWAY_ACTOR, else user@host.
std::string Actor();
/// Now as an ISO-8601 UTC timestamp.
std::string IsoNow();

}  // namespace slipway::deploy
