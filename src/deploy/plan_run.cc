// The plan's and render's driver: reads the environment (Describe* and List* calls only) and
// renders what a release would send.
#include <nlohmann/json.hpp>

#include "aws/ecs.h"
#include "aws/elbv2.h"
#include "deploy/allowlist_sync.h"
#include "deploy/ecr.h"
#include "deploy/images.h"
#include "deploy/network.h"
#include "deploy/plan.h"
#include "deploy/provision.h"
#include "deploy/rollout.h"
#include "deploy/service_request.h"
#include "deploy/stages.h"

namespace slipway::deploy {

using nlohmann::json;

namespace {

// What the release renders templates with before its load balancer exists.
constexpr const char* kNoLoadBalancerYet = "load-balancer-not-yet-created.invalid";

Result<bool> ClusterExists(aws::AwsClient& c, const config::Environment& env) {
  auto r = aws::Ecs(c).DescribeClusters({env.cluster});
  if (!r) return tl::unexpected(r.error());
  for (const auto& cl : *r) {
    if (cl.status == "ACTIVE") return true;
  }
  return false;
}

// The listener's ARN on the environment's port ("" when none) and which services' rules exist.
Result<void> ReadRouting(aws::Elbv2& elb, const config::Environment& env, const std::string& lb_arn,
                         InfrastructureState& out) {
  auto listeners = elb.DescribeListeners(lb_arn);
  if (!listeners) return tl::unexpected(listeners.error());
  std::string listener_arn;
  for (const aws::Listener& l : *listeners) {
    if (l.port == env.listener_port) listener_arn = l.arn;
  }
  out.listener = !listener_arn.empty();
  if (!out.listener) return {};
  auto rules = elb.DescribeRules(listener_arn);
  if (!rules) return tl::unexpected(rules.error());
  auto drift = RuleDriftOf(env, {lb_arn, listener_arn, out.target_groups, *rules});
  if (!drift) return tl::unexpected(drift.error());
  out.rule_drift = std::move(*drift);
  for (const auto& [name, se] : env.services) {
    if (se.path_pattern.empty() || !out.target_groups.count(name)) continue;
    for (const aws::Rule& rule : *rules) {
      for (const aws::Action& a : rule.actions) {
        if (a.ForwardsTo(out.target_groups[name])) out.rules[name] = true;
      }
    }
  }
  return {};
}

Result<InfrastructureState> ReadInfrastructure(aws::AwsClient& c, const config::Environment& env) {
  InfrastructureState out;
  auto cluster = ClusterExists(c, env);
  if (!cluster) return tl::unexpected(cluster.error());
  out.cluster = *cluster;
  auto groups = ReadSecurityGroups(c, env);
  if (!groups) return tl::unexpected(groups.error());
  out.security_groups = groups->ids;
  out.security_group_to_create = groups->to_create;
  aws::Elbv2 elb(c);
  auto lb = elb.FindLoadBalancer(env.load_balancer_name);
  if (!lb) return tl::unexpected(lb.error());
  std::string lb_arn;
  if (*lb) {
    out.load_balancer = true;
    lb_arn = (*lb)->arn;
    out.load_balancer_dns = (*lb)->dns_name;
  }
  for (const auto& [name, se] : env.services) {
    auto tg = elb.FindTargetGroup(TargetGroupName(env, name));
    if (!tg) return tl::unexpected(tg.error());
    if (!*tg) continue;
    out.target_groups[name] = (*tg)->arn;
    auto attributes = elb.DescribeTargetGroupAttributes((*tg)->arn);
    if (!attributes) return tl::unexpected(attributes.error());
    for (const auto& a : *attributes) {
      if (a.key == kDeregistrationDelayKey) out.deregistration_delays[name] = std::atoi(a.value.c_str());
    }
  }
  if (out.load_balancer) {
    if (auto r = ReadRouting(elb, env, lb_arn, out); !r) return tl::unexpected(r.error());
  }
  return out;
}

// The definitions a release would register: templates expanded, images pinned when the
// environment pins them, and images slipway builds shown as kBuiltAtRelease.
Result<std::map<std::string, json>> RenderForRelease(aws::AwsClient& c, aws::HttpTransport& http,
                                                     const config::Config& cfg, const config::Environment& env,
                                                     const std::map<std::string, std::string>& vars,
                                                     const InfrastructureState& infra) {
  auto definitions = RenderDefinitions(cfg, env, vars, infra.load_balancer ? infra.load_balancer_dns : kNoLoadBalancerYet);
  if (!definitions) return tl::unexpected(definitions.error());
  // Built images are unknown until built: PinImages skips a container without a string image.
  for (auto& [name, td] : *definitions) {
    for (auto& container : td["containerDefinitions"]) {
      if (cfg.services.at(name).builds.count(container.value("name", ""))) container["image"] = json();
    }
  }
  if (env.pin_images) {
    auto login = LoginToEcr(c);
    registry::RegistryClient images(http, EcrCredentials(login ? std::optional(*login) : std::nullopt));
    if (auto pinned = PinImages(images, *definitions, [](const std::string&) {}); !pinned) {
      return tl::unexpected(pinned.error());
    }
  }
  for (auto& [name, td] : *definitions) {
    for (auto& container : td["containerDefinitions"]) {
      if (container.contains("image") && container["image"].is_null()) container["image"] = kBuiltAtRelease;
    }
  }
  return definitions;
}

}  // namespace

Result<PlanInput> ReadForPlan(aws::AwsClient& c, aws::HttpTransport& http, const config::Config& cfg,
                              const config::Environment& env, const std::map<std::string, std::string>& vars) {
  PlanInput in;
  auto infra = ReadInfrastructure(c, env);
  if (!infra) return tl::unexpected(infra.error());
  in.infrastructure = *infra;
  auto definitions = RenderForRelease(c, http, cfg, env, vars, in.infrastructure);
  if (!definitions) return tl::unexpected(definitions.error());
  in.definitions = std::move(*definitions);
  for (const auto& [name, se] : env.services) {
    ServiceState& state = in.services[name];
    if (!in.infrastructure.cluster) continue;
    // With tags: a desiredCount override is shown as one, not as drift.
    auto service = DescribeService(c, env.cluster, se.service_name, /*with_tags=*/true);
    if (!service) return tl::unexpected(service.error());
    if (!*service || (*service)->status != "ACTIVE") continue;
    // The plan compares the service's settings with the requests a release renders, as documents.
    state.service = *(*service)->document;
    auto td = aws::Ecs(c).DescribeTaskDefinition((*service)->task_definition);
    if (!td) return tl::unexpected(td.error());
    state.running_definition = td->document->empty() ? json() : *td->document;
  }
  return in;
}

Result<Rendered> Render(aws::AwsClient& c, aws::HttpTransport& http, const config::Config& cfg,
                        const config::Environment& env, const std::map<std::string, std::string>& vars) {
  auto infra = ReadInfrastructure(c, env);
  if (!infra) return tl::unexpected(infra.error());
  auto definitions = RenderForRelease(c, http, cfg, env, vars, *infra);
  if (!definitions) return tl::unexpected(definitions.error());
  Rendered out;
  for (const auto& [name, se] : env.services) {
    const json& td = definitions->at(name);
    auto tg = infra->target_groups.find(name);
    out.services[name] = CreateServiceInput(env, cfg.services.at(name), se, td.value("family", se.service_name),
                                            tg == infra->target_groups.end() ? kCreatedAtRelease : tg->second,
                                            SecurityGroups(*infra));
  }
  out.task_definitions = std::move(*definitions);
  return out;
}

}  // namespace slipway::deploy
