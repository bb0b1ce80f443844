// What the dashboard is drawn from, read from the environment: ARN suffixes from ELBv2 and the
// release markers from the release records on the task-definition revisions.
#include <algorithm>

#include "aws/elbv2.h"
#include "deploy/dashboard.h"
#include "deploy/provision.h"
#include "deploy/records.h"
#include "deploy/release.h"
#include "deploy/rollout.h"

namespace slipway::deploy {

namespace {

// The resource part of an ELBv2 ARN, "app/name/id" or "targetgroup/name/id", which CloudWatch's
// LoadBalancer and TargetGroup dimensions hold.
std::string ArnSuffix(const std::string& arn, const std::string& kind) {
  const size_t at = arn.find(":" + kind + "/");
  return at == std::string::npos
             ? arn
             : arn.substr(at + 1 + (kind == "loadbalancer" ? kind.size() + 1 : 0));
}

// The service's releases, oldest first: one marker per revision slipway released to it.
Result<std::vector<ReleaseMarker>> Releases(aws::AwsClient& client, const std::string& family,
                                            const std::string& target) {
  auto revisions = ListRevisions(client, family, static_cast<int>(kMaxReleaseMarkers) * 2);
  if (!revisions) return tl::unexpected(revisions.error());
  std::vector<ReleaseMarker> out;
  for (const auto& r : *revisions) {  // newest first
    if (r.Tag("slipway:target") != target || out.size() == kMaxReleaseMarkers) continue;
    std::string when = r.Tag("slipway:finished");
    if (when.empty()) when = r.Tag("slipway:started");
    if (when.empty()) continue;
    const std::string result = r.Tag("slipway:result");
    out.push_back({when, FamilyRevision(r.arn) + (result.empty() ? "" : " " + result)});
  }
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace

Result<DashboardSource> ReadDashboardSource(aws::AwsClient& client, const config::Config& cfg,
                                            const config::Environment& env,
                                            const std::map<std::string, std::string>& vars) {
  aws::Elbv2 elb(client);
  auto lb = elb.FindLoadBalancer(env.load_balancer_name);
  if (!lb) return tl::unexpected(lb.error());
  if (!*lb) {
    return Fail("environment " + env.name + " was never released: its load balancer " +
                env.load_balancer_name + " does not exist; `slipway deploy " + env.name +
                "` creates it");
  }
  DashboardSource src{
      client.endpoint().region, env.cluster, ArnSuffix((*lb)->arn, "loadbalancer"), {}};
  for (const auto& [name, se] : env.services) {
    DashboardService s{se.service_name, "", {}};
    auto tg = elb.FindTargetGroup(TargetGroupName(env, name));
    if (!tg) return tl::unexpected(tg.error());
    if (*tg) s.target_group = ArnSuffix((*tg)->arn, "targetgroup");
    // The family the service runs now, else the one its template would register.
    auto current = DescribeService(client, env.cluster, se.service_name);
    if (!current) return tl::unexpected(current.error());
    std::string family = *current ? FamilyOf((*current)->task_definition) : "";
    if (family.empty()) {
      auto tf = TemplateFamily(cfg.services.at(name), se, vars);
      if (!tf) return tl::unexpected(tf.error());
      family = *tf;
    }
    auto releases = Releases(client, family, ReleaseTarget(env.cluster, se.service_name));
    if (!releases) return tl::unexpected(releases.error());
    s.releases = std::move(*releases);
    src.services.push_back(std::move(s));
  }
  return src;
}

}  // namespace slipway::deploy
