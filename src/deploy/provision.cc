// Provisioning over ECS, ELBv2 (Query) and CloudWatch Logs: describe first, create when missing.
#include "deploy/provision.h"

#include "aws/ecs.h"
#include "aws/elbv2.h"
#include "aws/logs.h"
#include "aws/task_definition.h"
#include "deploy/allowlist_sync.h"

namespace slipway::deploy {

using nlohmann::json;

Result<bool> ClusterExists(aws::AwsClient& c, const config::Environment& env) {
  auto r = aws::Ecs(c).DescribeClusters({env.cluster});
  if (!r) return tl::unexpected(r.error());
  for (const auto& cl : *r) {
    if (cl.status == "ACTIVE") return true;
  }
  return false;
}

Result<void> EnsureCluster(aws::AwsClient& c, const config::Environment& env) {
  auto exists = ClusterExists(c, env);
  if (!exists) return tl::unexpected(exists.error());
  if (*exists) return {};
  auto created = aws::Ecs(c).CreateCluster(env.cluster);
  if (!created) return tl::unexpected(created.error());
  return {};
}

namespace {

// Returns the environment's load balancer, creating it when missing.
Result<aws::LoadBalancer> EnsureLoadBalancer(aws::Elbv2& elb, const config::Environment& env, const Network& net) {
  auto found = elb.FindLoadBalancer(env.load_balancer_name);
  if (!found) return tl::unexpected(found.error());
  if (*found) return std::move(**found);
  return elb.CreateLoadBalancer({env.load_balancer_name, "application", env.scheme, env.subnets, net.security_groups});
}

aws::TargetGroupRequest TargetGroupFor(const config::Environment& env, const config::ServiceSpec& svc,
                                       const std::string& vpc_id) {
  const auto& hc = svc.health_check;
  aws::TargetGroupRequest r;
  r.name = TargetGroupName(env, svc.name);
  r.port = svc.container_port ? svc.container_port : 80;
  r.target_type = "ip";
  r.vpc_id = vpc_id;
  r.health_check_path = hc.path;
  r.health_check_interval_seconds = hc.interval_seconds;
  r.health_check_timeout_seconds = hc.timeout_seconds;
  r.healthy_threshold_count = hc.healthy_threshold;
  r.unhealthy_threshold_count = hc.unhealthy_threshold;
  r.matcher_http_code = hc.matcher;
  return r;
}

Result<std::string> EnsureTargetGroup(aws::Elbv2& elb, const config::Environment& env, const config::ServiceSpec& svc,
                                      const std::string& vpc_id) {
  std::string arn;
  auto found = elb.FindTargetGroup(TargetGroupName(env, svc.name));
  if (!found) return tl::unexpected(found.error());
  if (*found) {
    arn = (*found)->arn;
  } else {
    auto created = elb.CreateTargetGroup(TargetGroupFor(env, svc, vpc_id));
    if (!created) return tl::unexpected(created.error());
    arn = created->arn;
  }
  auto attrs = elb.ModifyTargetGroupAttributes(
      arn, {{kDeregistrationDelayKey, std::to_string(svc.deregistration_delay_seconds)}});
  if (!attrs) return tl::unexpected(attrs.error());
  return arn;
}

Result<std::vector<std::string>> EnsureRouting(aws::AwsClient& c, aws::Elbv2& elb, const config::Environment& env,
                                               const std::string& lb_arn,
                                               const std::map<std::string, std::string>& tg_by_service) {
  std::string default_tg;
  for (const auto& [name, se] : env.services) {
    if (se.path_pattern.empty()) default_tg = tg_by_service.at(name);
  }
  auto listeners = elb.DescribeListeners(lb_arn);
  if (!listeners) return tl::unexpected(listeners.error());
  std::string listener_arn;
  for (const aws::Listener& l : *listeners) {
    if (l.port == env.listener_port) listener_arn = l.arn;
  }
  if (listener_arn.empty()) {
    const aws::Action fallback = default_tg.empty()
                                     ? aws::Action{"fixed-response", "", {"404", "text/plain", ""}}
                                     : aws::ForwardTo(default_tg);
    auto created = elb.CreateListener({lb_arn, "HTTP", env.listener_port, {fallback}});
    if (!created) return tl::unexpected(created.error());
    listener_arn = created->arn;
  }
  // The path rules, and the allowlist's rules when the config has one (allowlist.h): the listener
  // is brought to what the config wants, touching only rules slipway owns.
  ListenerRules read{lb_arn, listener_arn, tg_by_service, {}};
  auto rules = elb.DescribeRules(listener_arn);
  if (!rules) return tl::unexpected(rules.error());
  read.rules = std::move(*rules);
  auto drift = RuleDriftOf(env, read);
  if (!drift) return tl::unexpected(drift.error());
  return ApplyRuleDrift(c, listener_arn, *drift);
}

// Creates the awslogs groups the task definition writes to, as ECS would otherwise refuse to
// start its tasks.
Result<void> EnsureLogGroups(aws::AwsClient& c, const json& td) {
  aws::Logs logs(c);
  for (const auto& def : td.value("containerDefinitions", json::array())) {
    auto awslogs = aws::Awslogs(def, "");
    if (!awslogs) continue;
    auto r = logs.CreateLogGroup(awslogs->group);
    if (!r && r.error().code != "ResourceAlreadyExistsException") return tl::unexpected(r.error());
  }
  return {};
}

}  // namespace

std::string TargetGroupName(const config::Environment& env, const std::string& service) {
  std::string name = env.load_balancer_name + "-" + service;
  return name.substr(0, 32);
}

Result<Infrastructure> Provision(aws::AwsClient& c, const config::Config& cfg, const config::Environment& env,
                                 const std::map<std::string, json>& definitions) {
  if (auto r = EnsureCluster(c, env); !r) return tl::unexpected(r.error());
  std::vector<int> task_ports;
  for (const auto& [name, se] : env.services) task_ports.push_back(cfg.services.at(name).container_port);
  auto net = EnsureNetwork(c, env, task_ports);
  if (!net) return tl::unexpected(net.error());
  aws::Elbv2 elb(c);
  auto lb = EnsureLoadBalancer(elb, env, *net);
  if (!lb) return tl::unexpected(lb.error());
  Infrastructure infra{lb->arn, lb->dns_name, {}, *net};
  for (const auto& [name, se] : env.services) {
    // Fargate's awsvpc tasks register by IP: TargetType ip, in the subnets' VPC.
    auto tg = EnsureTargetGroup(elb, env, cfg.services.at(name), net->vpc_id);
    if (!tg) return tl::unexpected(tg.error());
    infra.target_group_by_service[name] = *tg;
    if (auto r = EnsureLogGroups(c, definitions.at(name)); !r) return tl::unexpected(r.error());
  }
  auto routed = EnsureRouting(c, elb, env, infra.load_balancer_arn, infra.target_group_by_service);
  if (!routed) return tl::unexpected(routed.error());
  infra.rule_changes = std::move(*routed);
  return infra;
}


}  // namespace slipway::deploy
