// Release records as task-definition tags (ECS TagResource / DescribeTaskDefinition include=TAGS).
#include "deploy/records.h"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include "aws/ecs.h"
#include "base/clock.h"
#include "base/crypto.h"

namespace slipway::deploy {

std::string FamilyRevision(const std::string& arn) {
  size_t slash = arn.rfind('/');
  return slash == std::string::npos ? arn : arn.substr(slash + 1);
}

std::string FamilyOf(const std::string& arn_or_family_revision) {
  std::string fr = FamilyRevision(arn_or_family_revision);
  return fr.substr(0, fr.rfind(':') == std::string::npos ? fr.size() : fr.rfind(':'));
}

Result<RevisionRecord> DescribeRevision(aws::AwsClient& c, const std::string& arn) {
  auto td = aws::Ecs(c).DescribeTaskDefinition(arn, /*with_tags=*/true);
  if (!td) return tl::unexpected(td.error());
  RevisionRecord rec;
  rec.arn = td->arn.empty() ? arn : td->arn;
  rec.family = td->family;
  rec.revision = td->revision;
  rec.registered_at = td->registered_at;
  if (!td->status.empty()) rec.status = td->status;
  rec.images = td->images;
  for (const auto& t : td->tags) rec.tags[t.key] = t.value;
  return rec;
}

namespace {

// Every ACTIVE revision ARN of `family`, newest first. The ARNs are cheap to list in full; ordering
// them here (not by the server's `sort`, which not every implementation honours) keeps "newest
// first" true everywhere.
Result<std::vector<std::string>> RevisionArns(aws::AwsClient& c, const std::string& family) {
  std::vector<std::pair<int, std::string>> arns;
  auto listed = aws::Ecs(c).ListTaskDefinitions({.family_prefix = family, .status = "ACTIVE", .sort = "DESC"});
  if (!listed) return tl::unexpected(listed.error());
  for (const auto& a : *listed) {
    if (FamilyOf(a) != family) continue;  // a server may match familyPrefix as a prefix
    arns.emplace_back(std::atoi(a.substr(a.rfind(':') + 1).c_str()), a);
  }
  std::sort(arns.begin(), arns.end(), std::greater<>());
  std::vector<std::string> out;
  for (auto& [revision, arn] : arns) out.push_back(std::move(arn));
  return out;
}

}  // namespace

Result<std::optional<std::string>> FindRegistered(aws::AwsClient& c, const std::string& family,
                                                 const std::string& target, const std::string& release_id) {
  // A release registers one revision per service, so its own are among the newest few.
  constexpr int kNewest = 10;
  auto revisions = ListRevisions(c, family, kNewest);
  if (!revisions) return tl::unexpected(revisions.error());
  for (const auto& rec : *revisions) {
    if (rec.Tag("slipway:release") == release_id && rec.Tag("slipway:target") == TagValue(target)) return rec.arn;
  }
  return std::nullopt;
}

std::string ClientToken(const std::string& release_id, const std::string& what) {
  return Sha256Hex(release_id + "\n" + what).substr(0, 32);
}

Result<std::vector<RevisionRecord>> ListRevisions(aws::AwsClient& c, const std::string& family, int limit) {
  auto arns = RevisionArns(c, family);
  if (!arns) return tl::unexpected(arns.error());
  std::vector<RevisionRecord> out;
  for (const auto& arn : *arns) {
    if (static_cast<int>(out.size()) >= limit) break;
    auto rec = DescribeRevision(c, arn);
    if (!rec) return tl::unexpected(rec.error());
    out.push_back(std::move(*rec));
  }
  return out;
}

Result<std::optional<RevisionRecord>> FindKnownGood(aws::AwsClient& c, const std::string& family,
                                                    const std::string& target, const std::string& exclude_arn) {
  // Described one at a time, newest first, stopping at the first match: usually one or two calls.
  constexpr int kSearchDepth = 50;
  auto arns = RevisionArns(c, family);
  if (!arns) return tl::unexpected(arns.error());
  int searched = 0;
  for (const auto& arn : *arns) {
    if (++searched > kSearchDepth) break;
    if (arn == exclude_arn) continue;
    auto rec = DescribeRevision(c, arn);
    if (!rec) return tl::unexpected(rec.error());
    if (rec->KnownGood() && rec->Tag("slipway:target") == target) return std::optional<RevisionRecord>(std::move(*rec));
  }
  return std::optional<RevisionRecord>();
}

std::string TagValue(std::string_view text) {
  std::string out;
  for (char c : text) {
    const bool kept = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      std::string_view("_.:/=+-@").find(c) != std::string_view::npos;
    if (kept) {
      out += c;
    } else if (!out.empty() && out.back() != ' ') {
      out += ' ';
    }
    if (out.size() == 256) break;  // all ASCII, so 256 characters
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

Result<void> TagRevision(aws::AwsClient& c, const std::string& arn, const std::map<std::string, std::string>& tags) {
  std::vector<aws::Tag> list;
  for (const auto& [k, v] : tags) list.push_back({k, TagValue(v)});
  return aws::Ecs(c).TagResource(arn, list);
}

std::string Actor() {
  if (const char* a = std::getenv("SLIPWAY_ACTOR"); a && *a) return a;
  const char* user = std::getenv("USER");
  if (user == nullptr || *user == '\0') {
    if (const passwd* pw = ::getpwuid(::getuid())) user = pw->pw_name;
  }
  char host[256] = "";
  ::gethostname(host, sizeof host - 1);
  return std::string(user && *user ? user : "unknown") + "@" + host;
}

std::string IsoNow() {
  RealClock clock;
  return IsoTime(clock.WallNow());
}

}  // namespace slipway::deploy
