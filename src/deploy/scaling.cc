// Scaling a service outside a release, and waiting until it has scaled.
#include "deploy/scaling.h"

#include <nlohmann/json.hpp>

#include "aws/ecs.h"
#include "aws/elbv2.h"
#include "deploy/rollout.h"

namespace slipway::deploy {

Result<ServiceCounts> ReadServiceCounts(aws::AwsClient& c, const config::Environment& env, const std::string& name) {
  const config::ServiceEnv& se = env.services.at(name);
  ServiceCounts out;
  out.name = name;
  out.service_name = se.service_name;
  auto d = DescribeService(c, env.cluster, se.service_name, /*with_tags=*/true);
  if (!d) return tl::unexpected(d.error());
  if (!*d || (*d)->status != "ACTIVE") return out;
  const aws::Service& s = **d;
  out.exists = true;
  out.arn = s.arn;
  out.task_definition = s.task_definition;
  out.desired = s.desired_count;
  out.running = s.running_count;
  out.pending = s.pending_count;
  out.deployments = s.deployments.size();
  out.override_ = FindCountOverride(s.tags);
  if (s.document) {
    for (const auto& lb : s.document->value("loadBalancers", nlohmann::json::array())) {
      if (lb.is_object() && lb.value("targetGroupArn", nlohmann::json()).is_string()) {
        out.target_group_arn = lb["targetGroupArn"].get<std::string>();
        break;
      }
    }
  }
  return out;
}

Result<void> SetDesiredCount(aws::AwsClient& c, const config::Environment& env, const ServiceCounts& now, int count,
                             const std::string& by) {
  const config::ServiceEnv& se = env.services.at(now.name);
  aws::Ecs ecs(c);
  // The record goes first: should the update fail, the next release still runs what was asked.
  if (count != DefaultDesiredCount(se)) {
    const CountOverride o{count, by, now.desired};
    if (auto t = ecs.TagResource(now.arn, {{kDesiredCountTag, o.TagValue()}}); !t) return t;
  } else if (now.override_) {
    if (auto u = ecs.UntagResource(now.arn, {kDesiredCountTag}); !u) return u;
  }
  auto u = ecs.UpdateService({.cluster = env.cluster, .service = now.service_name, .desired_count = count});
  if (!u) return tl::unexpected(u.error());
  return {};
}

Result<std::string> WaitForCount(aws::AwsClient& c, Clock& clock, const std::string& cluster,
                                 const std::string& service, int count, Millis timeout, const CancelToken* cancel,
                                 const std::function<void(const std::string&)>& progress) {
  const auto deadline = clock.Now() + timeout;
  std::string last;
  for (;;) {
    auto d = DescribeService(c, cluster, service);
    if (!d) return tl::unexpected(d.error());
    if (!*d) return std::string("the service is gone");
    const int running = (*d)->running_count, pending = (*d)->pending_count;
    const size_t deployments = (*d)->deployments.size();
    const std::string now = service + ": " + std::to_string(running) + "/" + std::to_string(count) + " running, " +
                            std::to_string(pending) + " pending";
    if (now != last) progress(now);
    last = now;
    if (running == count && pending == 0 && deployments <= 1) return std::string();
    if (clock.Now() >= deadline) {
      return "it did not reach " + std::to_string(count) + " running within " +
             std::to_string(timeout.count() / 1000) + " s: " + now;
    }
    if (!SleepUnlessCancelled(clock, Millis(1000), cancel)) return std::string(kWaitInterrupted);
  }
}

Result<std::string> WaitForHealthyTargets(aws::AwsClient& c, Clock& clock, const std::string& target_group_arn,
                                          const std::string& service, int count, Millis timeout,
                                          const CancelToken* cancel,
                                          const std::function<void(const std::string&)>& progress) {
  const auto deadline = clock.Now() + timeout;
  std::string last;
  aws::Elbv2 elb(c);
  for (;;) {
    auto targets = elb.DescribeTargetHealth(target_group_arn);
    if (!targets) return tl::unexpected(targets.error());
    int healthy = 0;
    std::string other;
    for (const auto& t : *targets) {
      if (t.state == "healthy") ++healthy;
      else if (t.state != "draining") other += (other.empty() ? "" : ", ") + t.id + " " + t.state;
    }
    const std::string now = service + ": " + std::to_string(healthy) + "/" + std::to_string(count) +
                            " targets healthy" + (other.empty() ? "" : " (" + other + ")");
    if (now != last) progress(now);
    last = now;
    if (healthy >= count) return std::string();
    if (clock.Now() >= deadline) {
      return "its targets did not become healthy within " + std::to_string(timeout.count() / 1000) + " s: " + now;
    }
    if (!SleepUnlessCancelled(clock, Millis(1000), cancel)) return std::string(kWaitInterrupted);
  }
}

}  // namespace slipway::deploy
