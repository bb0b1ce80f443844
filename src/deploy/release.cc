// The release pipeline, speaking only AWS APIs (ECS JSON 1.1, ELBv2 Query).
#include "deploy/release.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "deploy/rollout.h"

namespace slipway::deploy {

using nlohmann::json;

namespace {

std::string TargetGroupName(const config::Environment& env, const std::string& service) {
  std::string name = env.load_balancer_name + "-" + service;
  return name.substr(0, 32);
}

Result<void> EnsureCluster(aws::AwsClient& c, const config::Environment& env) {
  auto r = c.Json(aws::kEcs, "DescribeClusters", {{"clusters", {env.cluster}}});
  if (!r) return tl::unexpected(r.error());
  for (const auto& cl : (*r)["clusters"]) {
    if (cl.value("status", "") == "ACTIVE") return {};
  }
  auto created = c.Json(aws::kEcs, "CreateCluster", {{"clusterName", env.cluster}});
  if (!created) return tl::unexpected(created.error());
  return {};
}

// Returns the load balancer's ARN and DNS name, creating it when missing.
Result<std::pair<std::string, std::string>> EnsureLoadBalancer(aws::AwsClient& c, const config::Environment& env) {
  auto r = c.Query(aws::kElbv2, "DescribeLoadBalancers", {{"Names.member.1", env.load_balancer_name}});
  if (!r && r.error().code != "LoadBalancerNotFound") return tl::unexpected(r.error());
  if (r && !r->Members("LoadBalancers").empty()) {
    const aws::XmlNode* lb = r->Members("LoadBalancers")[0];
    return std::make_pair(lb->Text("LoadBalancerArn"), lb->Text("DNSName"));
  }
  aws::QueryParams p{{"Name", env.load_balancer_name}, {"Type", "application"}};
  for (size_t i = 0; i < env.subnets.size(); ++i) p["Subnets.member." + std::to_string(i + 1)] = env.subnets[i];
  for (size_t i = 0; i < env.security_groups.size(); ++i) p["SecurityGroups.member." + std::to_string(i + 1)] = env.security_groups[i];
  auto created = c.Query(aws::kElbv2, "CreateLoadBalancer", p);
  if (!created) return tl::unexpected(created.error());
  const aws::XmlNode* lb = created->Members("LoadBalancers").at(0);
  return std::make_pair(lb->Text("LoadBalancerArn"), lb->Text("DNSName"));
}

Result<std::string> EnsureTargetGroup(aws::AwsClient& c, const config::Environment& env, const config::ServiceSpec& svc) {
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
                            {"TargetType", "ip"}, {"VpcId", "vpc-local"}, {"HealthCheckPath", hc.path},
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
  auto rules = c.Query(aws::kElbv2, "DescribeRules", {{"ListenerArn", listener_arn}});
  if (!rules) return tl::unexpected(rules.error());
  for (const auto& [name, se] : env.services) {
    if (se.path_pattern.empty()) continue;
    bool present = false;
    for (const auto* rule : rules->Members("Rules")) {
      for (const auto* a : rule->Members("Actions")) present = present || a->Text("TargetGroupArn") == tg_by_service.at(name);
    }
    if (present) continue;
    auto created = c.Query(aws::kElbv2, "CreateRule",
                           {{"ListenerArn", listener_arn}, {"Priority", std::to_string(se.priority)},
                            {"Conditions.member.1.Field", "path-pattern"},
                            {"Conditions.member.1.PathPatternConfig.Values.member.1", se.path_pattern},
                            {"Actions.member.1.Type", "forward"},
                            {"Actions.member.1.TargetGroupArn", tg_by_service.at(name)}});
    if (!created) return tl::unexpected(created.error());
  }
  return {};
}

Result<std::string> RegisterTaskDefinition(aws::AwsClient& c, const config::ServiceSpec& svc,
                                           const config::ServiceEnv& se, const ReleaseOptions& options) {
  std::ifstream in(svc.task_definition_path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto text = config::ExpandTemplate(ss.str(), svc.task_definition_path, options.vars);
  if (!text) return tl::unexpected(text.error());
  json td = json::parse(*text, nullptr, false);
  if (td.is_discarded() || !td.is_object()) {
    return Fail(svc.task_definition_path + ": not a JSON object after expanding variables");
  }
  if (!td.contains("family")) td["family"] = se.service_name;
  td["tags"] = json::array({{{"key", "slipway:service"}, {"value", svc.name}}});
  auto r = c.Json(aws::kEcs, "RegisterTaskDefinition", td);
  if (!r) return tl::unexpected(r.error());
  return (*r)["taskDefinition"]["taskDefinitionArn"].get<std::string>();
}

json DeploymentConfiguration(const config::ServiceEnv& se) {
  return {{"maximumPercent", se.maximum_percent}, {"minimumHealthyPercent", se.minimum_healthy_percent},
          {"deploymentCircuitBreaker", {{"enable", se.circuit_breaker}, {"rollback", se.circuit_breaker}}}};
}

// Creates or updates the service; returns the id of the deployment that carries `td_arn`.
Result<std::string> RollOut(aws::AwsClient& c, const config::Environment& env, const config::ServiceSpec& svc,
                            const config::ServiceEnv& se, const std::string& td_arn, const std::string& tg_arn) {
  auto d = c.Json(aws::kEcs, "DescribeServices", {{"cluster", env.cluster}, {"services", {se.service_name}}});
  if (!d) return tl::unexpected(d.error());
  bool exists = !(*d)["services"].empty() && (*d)["services"][0].value("status", "") == "ACTIVE";
  json req{{"cluster", env.cluster}, {"taskDefinition", td_arn}, {"desiredCount", se.desired_count},
           {"deploymentConfiguration", DeploymentConfiguration(se)},
           {"healthCheckGracePeriodSeconds", se.health_check_grace_period_seconds}};
  if (!env.subnets.empty()) {
    req["networkConfiguration"] = {{"awsvpcConfiguration", {{"subnets", env.subnets}, {"securityGroups", env.security_groups}}}};
  }
  Result<json> r = Fail("");
  if (exists) {
    req["service"] = se.service_name;
    req["forceNewDeployment"] = true;
    r = c.Json(aws::kEcs, "UpdateService", req);
  } else {
    req["serviceName"] = se.service_name;
    req["launchType"] = "FARGATE";
    req["loadBalancers"] = json::array({{{"targetGroupArn", tg_arn}, {"containerName", svc.container},
                                         {"containerPort", svc.container_port}}});
    r = c.Json(aws::kEcs, "CreateService", req);
  }
  if (!r) return tl::unexpected(Wrap(se.service_name, r.error()));
  return (*r)["service"]["deployments"][0]["id"].get<std::string>();
}

// Runs the environment's HTTP checks through the load balancer, with retries.
std::string Verify(aws::HttpTransport& http, Clock& clock, const config::Environment& env, const std::string& host,
                   const ReleaseOptions& options) {
  for (const auto& check : env.verify) {
    std::string url = "http://" + host + ":" + std::to_string(env.listener_port) + check.path;
    std::string last;
    bool passed = false;
    for (int attempt = 1; attempt <= env.verify_attempts && !passed; ++attempt) {
      auto r = http.Send({"GET", url, {}, "", 5000});
      if (!r) last = r.error().message;
      else if (r->status != check.status) last = "got HTTP " + std::to_string(r->status) + ", want " + std::to_string(check.status);
      else if (!check.contains.empty() && r->body.find(check.contains) == std::string::npos) last = "body lacks \"" + check.contains + "\"";
      else passed = true;
      if (!passed) clock.SleepFor(Millis(500));
    }
    if (!passed) return "verify GET " + check.path + ": " + last;
    options.progress("verify GET " + check.path + ": " + std::to_string(check.status) + " ok");
  }
  return "";
}

}  // namespace

Result<ReleaseReport> Release(aws::AwsClient& c, aws::HttpTransport& http, Clock& clock, const config::Config& cfg,
                              const config::Environment& env, const ReleaseOptions& options) {
  const SteadyTime started = clock.Now();
  ReleaseReport report;
  if (auto r = EnsureCluster(c, env); !r) return tl::unexpected(r.error());
  auto lb = EnsureLoadBalancer(c, env);
  if (!lb) return tl::unexpected(lb.error());
  std::map<std::string, std::string> tg_by_service;
  for (const auto& [name, se] : env.services) {
    auto tg = EnsureTargetGroup(c, env, cfg.services.at(name));
    if (!tg) return tl::unexpected(tg.error());
    tg_by_service[name] = *tg;
  }
  if (auto r = EnsureRouting(c, env, lb->first, tg_by_service); !r) return tl::unexpected(r.error());
  options.progress("infrastructure ready: cluster " + env.cluster + ", load balancer " + env.load_balancer_name +
                   " on port " + std::to_string(env.listener_port));

  for (const auto& [name, se] : env.services) {
    auto td = RegisterTaskDefinition(c, cfg.services.at(name), se, options);
    if (!td) return tl::unexpected(td.error());
    options.progress("registered " + *td);
    auto dep = RollOut(c, env, cfg.services.at(name), se, *td, tg_by_service[name]);
    if (!dep) return tl::unexpected(dep.error());
    options.progress("rolling out " + se.service_name + " (deployment " + *dep + ")");
    report.services.push_back({se.service_name, *td, *dep, 0});
  }
  const Millis timeout{static_cast<long>(env.timeout_seconds) * 1000};
  for (auto& s : report.services) {
    auto v = WatchRollout(c, clock, env.cluster, s.service_name, s.deployment_id, timeout,
                          [&](const std::string& event) { options.progress(event); });
    if (!v) return tl::unexpected(v.error());
    if (v->status != RolloutStatus::kCompleted) {
      report.failure = s.service_name + ": " + v->reason;
      break;
    }
  }
  if (report.failure.empty()) report.failure = Verify(http, clock, env, env.listener_host, options);
  if (auto st = Status(c, env)) {
    for (auto& s : report.services) {
      for (const auto& x : *st) {
        if (x.service_name == s.service_name) s.running_count = x.running;
      }
    }
  }
  report.seconds = std::chrono::duration<double>(clock.Now() - started).count();
  return report;
}

Result<std::vector<ServiceStatus>> Status(aws::AwsClient& c, const config::Environment& env) {
  json names = json::array();
  for (const auto& [name, se] : env.services) names.push_back(se.service_name);
  auto r = c.Json(aws::kEcs, "DescribeServices", {{"cluster", env.cluster}, {"services", names}});
  if (!r) return tl::unexpected(r.error());
  std::vector<ServiceStatus> out;
  for (const auto& s : (*r)["services"]) {
    ServiceStatus st{s["serviceName"], s["status"], s["taskDefinition"], "", s["desiredCount"], s["runningCount"],
                     s["pendingCount"], static_cast<int>(s["deployments"].size())};
    if (!s["deployments"].empty()) st.rollout_state = s["deployments"][0].value("rolloutState", "");
    out.push_back(st);
  }
  for (const auto& f : (*r)["failures"]) {
    out.push_back({f.value("arn", ""), f.value("reason", "MISSING"), "", "", 0, 0, 0, 0});
  }
  return out;
}

}  // namespace slipway::deploy
