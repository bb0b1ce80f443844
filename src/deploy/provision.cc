// Provisioning over ECS, ELBv2 (Query) and CloudWatch Logs: describe first, create when missing.
#include "deploy/provision.h"

#include "aws/logs.h"
#include "aws/task_definition.h"

namespace slipway::deploy {

using nlohmann::json;

Result<bool> ClusterExists(aws::AwsClient& c, const config::Environment& env) {
  auto r = c.Json(aws::kEcs, "DescribeClusters", {{"clusters", {env.cluster}}});
  if (!r) return tl::unexpected(r.error());
  for (const auto& cl : r->value("clusters", json::array())) {
    if (cl.is_object() && cl.value("status", "") == "ACTIVE") return true;
  }
  return false;
}

Result<void> EnsureCluster(aws::AwsClient& c, const config::Environment& env) {
  auto exists = ClusterExists(c, env);
  if (!exists) return tl::unexpected(exists.error());
  if (*exists) return {};
  auto created = c.Json(aws::kEcs, "CreateCluster", {{"clusterName", env.cluster}});
  if (!created) return tl::unexpected(created.error());
  return {};
}

namespace {

// Returns the load balancer's ARN and DNS name, creating it when missing.
Result<std::pair<std::string, std::string>> EnsureLoadBalancer(aws::AwsClient& c, const config::Environment& env,
                                                               const Network& net) {
  auto r = c.Query(aws::kElbv2, "DescribeLoadBalancers", {{"Names.member.1", env.load_balancer_name}});
  if (!r && r.error().code != "LoadBalancerNotFound") return tl::unexpected(r.error());
  if (r && !r->Members("LoadBalancers").empty()) {
    const aws::XmlNode* lb = r->Members("LoadBalancers")[0];
    return std::make_pair(lb->Text("LoadBalancerArn"), lb->Text("DNSName"));
  }
  aws::QueryParams p{{"Name", env.load_balancer_name}, {"Type", "application"}, {"Scheme", env.scheme}};
  for (size_t i = 0; i < env.subnets.size(); ++i) p["Subnets.member." + std::to_string(i + 1)] = env.subnets[i];
  for (size_t i = 0; i < net.security_groups.size(); ++i) p["SecurityGroups.member." + std::to_string(i + 1)] = net.security_groups[i];
  auto created = c.Query(aws::kElbv2, "CreateLoadBalancer", p);
  if (!created) return tl::unexpected(created.error());
  const aws::XmlNode* lb = created->Members("LoadBalancers").at(0);
  return std::make_pair(lb->Text("LoadBalancerArn"), lb->Text("DNSName"));
}

Result<std::string> EnsureTargetGroup(aws::AwsClient& c, const config::Environment& env, const config::ServiceSpec& svc,
                                      const std::string& vpc_id) {
  const std::string name = TargetGroupName(env, svc.name);
  std::string arn;
  auto r = c.Query(aws::kElbv2, "DescribeTargetGroups", {{"Names.member.1", name}});
  if (!r && r.error().code != "TargetGroupNotFound") return tl::unexpected(r.error());
  if (r && !r->Members("TargetGroups").empty()) {
    arn = r->Members("TargetGroups")[0]->Text("TargetGroupArn");
  } else {
    const auto& hc = svc.health_check;
    auto created = c.Query(aws::kElbv2, "CreateTargetGroup",
                           {{"Name", name}, {"Protocol", "HTTP"}, {"Port", std::to_string(svc.container_port ? svc.container_port : 80)},
                            {"TargetType", "ip"}, {"VpcId", vpc_id}, {"HealthCheckPath", hc.path},
                            {"HealthCheckIntervalSeconds", std::to_string(hc.interval_seconds)},
                            {"HealthCheckTimeoutSeconds", std::to_string(hc.timeout_seconds)},
                            {"HealthyThresholdCount", std::to_string(hc.healthy_threshold)},
                            {"UnhealthyThresholdCount", std::to_string(hc.unhealthy_threshold)},
                            {"Matcher.HttpCode", hc.matcher}});
    if (!created) return tl::unexpected(created.error());
    arn = created->Members("TargetGroups").at(0)->Text("TargetGroupArn");
  }
  auto attrs = c.Query(aws::kElbv2, "ModifyTargetGroupAttributes",
                       {{"TargetGroupArn", arn},
                        {"Attributes.member.1.Key", "deregistration_delay.timeout_seconds"},
                        {"Attributes.member.1.Value", std::to_string(svc.deregistration_delay_seconds)}});
  if (!attrs) return tl::unexpected(attrs.error());
  return arn;
}

// True when a rule of `listener_arn` forwards to `tg_arn`.
Result<bool> HasRuleFor(aws::AwsClient& c, const std::string& listener_arn, const std::string& tg_arn) {
  auto rules = c.Query(aws::kElbv2, "DescribeRules", {{"ListenerArn", listener_arn}});
  if (!rules) return tl::unexpected(rules.error());
  for (const auto* rule : rules->Members("Rules")) {
    for (const auto* a : rule->Members("Actions")) {
      if (a->Text("TargetGroupArn") == tg_arn) return true;
    }
  }
  return false;
}

// CreateRule, which is not idempotent (a repeat is refused: PriorityInUse). A lost reply is
// resolved by looking for the rule before sending it again.
Result<void> CreateRule(aws::AwsClient& c, const aws::QueryParams& params, const std::string& listener_arn,
                        const std::string& tg_arn) {
  constexpr int kTries = 3;
  for (int tries = 1;; ++tries) {
    auto created = c.Query(aws::kElbv2, "CreateRule", params);
    if (created || created.error().code != aws::kOutcomeUnknown || tries == kTries) {
      return created ? Result<void>() : tl::unexpected(created.error());
    }
    auto present = HasRuleFor(c, listener_arn, tg_arn);
    if (!present) return tl::unexpected(created.error());  // still unknown
    if (*present) return {};
  }
}

Result<void> EnsureRouting(aws::AwsClient& c, const config::Environment& env, const std::string& lb_arn,
                           const std::map<std::string, std::string>& tg_by_service) {
  std::string default_tg;
  for (const auto& [name, se] : env.services) {
    if (se.path_pattern.empty()) default_tg = tg_by_service.at(name);
  }
  auto listeners = c.Query(aws::kElbv2, "DescribeListeners", {{"LoadBalancerArn", lb_arn}});
  if (!listeners) return tl::unexpected(listeners.error());
  std::string listener_arn;
  for (const auto* l : listeners->Members("Listeners")) {
    if (l->Text("Port") == std::to_string(env.listener_port)) listener_arn = l->Text("ListenerArn");
  }
  if (listener_arn.empty()) {
    aws::QueryParams p{{"LoadBalancerArn", lb_arn}, {"Protocol", "HTTP"}, {"Port", std::to_string(env.listener_port)}};
    if (!default_tg.empty()) {
      p["DefaultActions.member.1.Type"] = "forward";
      p["DefaultActions.member.1.TargetGroupArn"] = default_tg;
    } else {
      p["DefaultActions.member.1.Type"] = "fixed-response";
      p["DefaultActions.member.1.FixedResponseConfig.StatusCode"] = "404";
      p["DefaultActions.member.1.FixedResponseConfig.ContentType"] = "text/plain";
    }
    auto created = c.Query(aws::kElbv2, "CreateListener", p);
    if (!created) return tl::unexpected(created.error());
    listener_arn = created->Members("Listeners").at(0)->Text("ListenerArn");
  }
  for (const auto& [name, se] : env.services) {
    if (se.path_pattern.empty()) continue;
    const std::string& tg = tg_by_service.at(name);
    auto present = HasRuleFor(c, listener_arn, tg);
    if (!present) return tl::unexpected(present.error());
    if (*present) continue;
    auto created = CreateRule(c,
                              {{"ListenerArn", listener_arn}, {"Priority", std::to_string(se.priority)},
                               {"Conditions.member.1.Field", "path-pattern"},
                               {"Conditions.member.1.PathPatternConfig.Values.member.1", se.path_pattern},
                               {"Actions.member.1.Type", "forward"}, {"Actions.member.1.TargetGroupArn", tg}},
                              listener_arn, tg);
    if (!created) return tl::unexpected(created.error());
  }
  return {};
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
  auto lb = EnsureLoadBalancer(c, env, *net);
  if (!lb) return tl::unexpected(lb.error());
  Infrastructure infra{lb->first, lb->second, {}, *net};
  for (const auto& [name, se] : env.services) {
    // Fargate's awsvpc tasks register by IP: TargetType ip, in the subnets' VPC.
    auto tg = EnsureTargetGroup(c, env, cfg.services.at(name), net->vpc_id);
    if (!tg) return tl::unexpected(tg.error());
    infra.target_group_by_service[name] = *tg;
    if (auto r = EnsureLogGroups(c, definitions.at(name)); !r) return tl::unexpected(r.error());
  }
  if (auto r = EnsureRouting(c, env, infra.load_balancer_arn, infra.target_group_by_service); !r) {
    return tl::unexpected(r.error());
  }
  return infra;
}


}  // namespace slipway::deploy
