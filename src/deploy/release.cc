// The release pipeline, speaking only AWS APIs (ECS JSON 1.1, ELBv2 Query).
#include "deploy/release.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "aws/task_definition.h"
#include "base/strings.h"
#include "deploy/lock.h"
#include "deploy/records.h"
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

Result<json> LoadTaskDefinition(const config::ServiceSpec& svc, const config::ServiceEnv& se,
                                const std::map<std::string, std::string>& vars) {
  std::ifstream in(svc.task_definition_path);
  if (!in) return Fail(svc.task_definition_path + ": cannot read file");
  std::stringstream ss;
  ss << in.rdbuf();
  auto text = config::ExpandTemplate(ss.str(), svc.task_definition_path, vars);
  if (!text) return tl::unexpected(text.error());
  json td = json::parse(*text, nullptr, false);
  if (td.is_discarded() || !td.is_object()) {
    return Fail(svc.task_definition_path + ": not a JSON object after expanding variables");
  }
  if (!td.contains("family")) td["family"] = se.service_name;
  return td;
}

// Creates the awslogs groups the task definition writes to, as ECS would otherwise refuse to
// start its tasks.
Result<void> EnsureLogGroups(aws::AwsClient& c, const json& td) {
  for (const auto& def : td.value("containerDefinitions", json::array())) {
    auto awslogs = aws::Awslogs(def, "");
    if (!awslogs) continue;
    auto r = c.Json(aws::kLogs, "CreateLogGroup", {{"logGroupName", awslogs->group}});
    if (!r && r.error().code != "ResourceAlreadyExistsException") return tl::unexpected(r.error());
  }
  return {};
}

Result<std::string> RegisterTaskDefinition(aws::AwsClient& c, const config::ServiceSpec& svc, json td,
                                           const std::map<std::string, std::string>& record) {
  td["tags"] = json::array({{{"key", "slipway:service"}, {"value", TagValue(svc.name)}}});
  for (const auto& [k, v] : record) td["tags"].push_back({{"key", k}, {"value", TagValue(v)}});
  auto r = c.Json(aws::kEcs, "RegisterTaskDefinition", td);
  if (!r) return tl::unexpected(r.error());
  return (*r)["taskDefinition"]["taskDefinitionArn"].get<std::string>();
}

// awsvpc networking for services and one-off tasks; null when the environment names no subnets.
json NetworkConfiguration(const config::Environment& env) {
  if (env.subnets.empty()) return json();
  return {{"awsvpcConfiguration", {{"subnets", env.subnets}, {"securityGroups", env.security_groups}}}};
}

json DeploymentConfiguration(const config::ServiceEnv& se) {
  return {{"maximumPercent", se.maximum_percent}, {"minimumHealthyPercent", se.minimum_healthy_percent},
          {"deploymentCircuitBreaker", {{"enable", se.circuit_breaker}, {"rollback", se.circuit_breaker}}}};
}

// Creates or updates the service; returns the id of the deployment that carries `td_arn`.
Result<std::string> RollOut(aws::AwsClient& c, const config::Environment& env, const config::ServiceSpec& svc,
                            const config::ServiceEnv& se, const std::string& td_arn, const std::string& tg_arn) {
  auto d = DescribeService(c, env.cluster, se.service_name);
  if (!d) return tl::unexpected(d.error());
  bool exists = !d->is_null() && d->value("status", "") == "ACTIVE";
  json req{{"cluster", env.cluster}, {"taskDefinition", td_arn}, {"desiredCount", se.desired_count},
           {"deploymentConfiguration", DeploymentConfiguration(se)},
           {"healthCheckGracePeriodSeconds", se.health_check_grace_period_seconds}};
  if (json network = NetworkConfiguration(env); !network.is_null()) req["networkConfiguration"] = network;
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
      else if (!check.contains.empty() && r->body.find(check.contains) == std::string::npos) {
        last = "body lacks \"" + check.contains + "\" (got \"" + Trim(r->body.substr(0, 80)) + "\")";
      }
      else passed = true;
      if (!passed) clock.SleepFor(Millis(500));
    }
    if (!passed) return "verify GET " + check.path + ": " + last;
    options.progress("verify GET " + check.path + ": " + std::to_string(check.status) + " ok");
  }
  return "";
}

// Runs the service's migration as a one-off task of the new revision, streaming its output.
// Returns "" when it exited 0, else the failure; `tail` keeps its last lines.
Result<std::string> RunMigration(aws::AwsClient& c, Clock& clock, const config::Environment& env,
                                 const config::ServiceSpec& svc, const std::string& td_arn, const json& td,
                                 const ReleaseOptions& options, std::vector<std::string>& tail) {
  json req{{"cluster", env.cluster}, {"taskDefinition", td_arn}, {"count", 1}, {"launchType", "FARGATE"},
           {"startedBy", "slipway-migrate"},
           {"overrides", {{"containerOverrides", json::array({{{"name", svc.migrate_container},
                                                               {"command", svc.migrate_command}}})}}}};
  if (json network = NetworkConfiguration(env); !network.is_null()) req["networkConfiguration"] = network;
  auto run = c.Json(aws::kEcs, "RunTask", req);
  if (!run) return tl::unexpected(run.error());
  if ((*run)["tasks"].empty()) {
    return "migration task did not start: " + (*run)["failures"].dump();
  }
  const std::string task_arn = (*run)["tasks"][0]["taskArn"];
  const std::string task_id = task_arn.substr(task_arn.rfind('/') + 1);
  options.progress("migrating " + svc.name + ": task " + task_id + " runs " + Join(svc.migrate_command, " "));
  std::optional<aws::AwslogsLocation> log;
  for (const auto& def : td["containerDefinitions"]) {
    if (def.value("name", "") == svc.migrate_container) log = aws::Awslogs(def, task_id);
  }
  std::string token;
  auto pump = [&]() -> Result<void> {
    if (!log) return {};
    json get{{"logGroupName", log->group}, {"logStreamName", log->stream}, {"startFromHead", true}};
    if (!token.empty()) get["nextToken"] = token;
    auto r = c.Json(aws::kLogs, "GetLogEvents", get);
    if (!r) return r.error().code == "ResourceNotFoundException" ? Result<void>() : tl::unexpected(r.error());
    token = (*r)["nextForwardToken"];
    for (const auto& e : (*r)["events"]) {
      std::string line = e.value("message", "");
      options.progress("  migrate | " + line);
      tail.push_back(line);
      if (tail.size() > 20) tail.erase(tail.begin());
    }
    return {};
  };
  const SteadyTime deadline = clock.Now() + std::chrono::seconds(svc.migrate_timeout_seconds);
  for (;;) {
    auto d = c.Json(aws::kEcs, "DescribeTasks", {{"cluster", env.cluster}, {"tasks", {task_arn}}});
    if (!d) return tl::unexpected(d.error());
    if (auto p = pump(); !p) return tl::unexpected(p.error());
    if ((*d)["tasks"].empty()) return "migration task " + task_id + " disappeared";
    const json& t = (*d)["tasks"][0];
    if (t.value("lastStatus", "") == "STOPPED") {
      if (auto p = pump(); !p) return tl::unexpected(p.error());
      for (const auto& ct : t["containers"]) {
        if (ct.value("name", "") != svc.migrate_container) continue;
        if (!ct.contains("exitCode")) return "migration task " + task_id + " did not run: " + t.value("stoppedReason", "");
        int code = ct["exitCode"];
        if (code == 0) {
          options.progress("migration of " + svc.name + " finished (exit 0)");
          return std::string();
        }
        return "migration of " + svc.name + " exited with code " + std::to_string(code) +
               (ct.value("reason", "").empty() ? "" : " (" + ct.value("reason", "") + ")");
      }
      return "migration task " + task_id + " stopped: " + t.value("stoppedReason", "");
    }
    if (clock.Now() >= deadline) {
      auto stop = c.Json(aws::kEcs, "StopTask", {{"cluster", env.cluster}, {"task", task_arn},
                                                 {"reason", "slipway: migration timed out"}});
      (void)stop;
      return "migration of " + svc.name + " timed out after " + std::to_string(svc.migrate_timeout_seconds) + " s";
    }
    clock.SleepFor(Millis(250));
  }
}

// Puts the service on `target_arn` and waits until ECS reports that deployment COMPLETED.
// When ECS's circuit breaker is already rolling back to it, waits for that instead.
Result<RolloutVerdict> ReturnTo(aws::AwsClient& c, Clock& clock, const config::Environment& env,
                                const std::string& service, const std::string& target_arn, const ReleaseOptions& options) {
  auto d = DescribeService(c, env.cluster, service);
  if (!d) return tl::unexpected(d.error());
  if (d->is_null() || d->value("status", "") != "ACTIVE") {
    return RolloutVerdict{RolloutStatus::kFailed, "service " + service + " is not ACTIVE"};
  }
  const json& svc = *d;
  const json& primary = svc["deployments"][0];
  std::string deployment;
  if (svc.value("taskDefinition", "") == target_arn && primary.value("taskDefinition", "") == target_arn &&
      primary.value("rolloutState", "") != "FAILED") {
    deployment = primary.value("id", "");
    options.progress(service + ": ECS is already returning to " + FamilyRevision(target_arn) + " (deployment " +
                     deployment + "); waiting for it");
  } else {
    auto u = c.Json(aws::kEcs, "UpdateService", {{"cluster", env.cluster}, {"service", service},
                                                 {"taskDefinition", target_arn}, {"forceNewDeployment", true}});
    if (!u) return tl::unexpected(u.error());
    deployment = (*u)["service"]["deployments"][0]["id"];
    options.progress(service + ": rolling back to " + FamilyRevision(target_arn) + " (deployment " + deployment + ")");
  }
  return WatchRollout(c, clock, env.cluster, service, deployment, Millis(static_cast<long>(env.timeout_seconds) * 1000),
                      [&](const std::string& event) { options.progress(event); });
}

// The services' state in one line each, for a report whose rollback failed.
std::string DescribeState(aws::AwsClient& c, const config::Environment& env) {
  auto st = Status(c, env);
  if (!st) return "unknown (" + st.error().message + ")";
  std::string out;
  for (const auto& s : *st) {
    out += (out.empty() ? "" : "; ") + s.service_name + " runs " + FamilyRevision(s.task_definition) + " with " +
           std::to_string(s.running) + "/" + std::to_string(s.desired) + " tasks, " + std::to_string(s.deployments) +
           " deployment(s), rollout " + (s.rollout_state.empty() ? "-" : s.rollout_state);
  }
  return out;
}

// After a failure: diagnose, record, and return every touched service to its known-good revision.
void FailAndReturn(aws::AwsClient& c, aws::HttpTransport& http, Clock& clock, const config::Environment& env,
                   const ReleaseOptions& options, ReleaseReport& report) {
  for (auto& s : report.services) {
    if (!s.deployment_id.empty()) {
      auto tasks = CollectTasks(c, {env.cluster, "", s.deployment_id, "STOPPED", 20, 20});
      if (tasks) s.stopped_tasks = *tasks;
    }
    auto tagged = TagRevision(c, s.task_definition_arn, {{"slipway:result", kResultFailed},
                                                         {"slipway:finished", IsoNow()},
                                                         {"slipway:detail", report.failure}});
    if (!tagged) options.progress("warning: could not record the failure on " + s.task_definition_arn + ": " + tagged.error().message);
  }
  bool all_back = true;
  for (auto& s : report.services) {
    if (s.deployment_id.empty()) continue;  // never updated
    if (s.known_good_arn.empty()) {
      s.rollback = "no known-good revision to return to";
      all_back = false;
      continue;
    }
    auto v = ReturnTo(c, clock, env, s.service_name, s.known_good_arn, options);
    if (!v) {
      s.rollback = "rollback failed: " + v.error().message;
      all_back = false;
    } else if (v->status != RolloutStatus::kCompleted) {
      s.rollback = "rollback to " + FamilyRevision(s.known_good_arn) + " failed: " + v->reason;
      all_back = false;
    } else {
      s.rollback = "back on " + FamilyRevision(s.known_good_arn);
      options.progress(s.service_name + ": back on known-good " + FamilyRevision(s.known_good_arn));
    }
  }
  if (all_back) {
    std::string verify = Verify(http, clock, env, env.listener_host, options);
    if (!verify.empty()) {
      all_back = false;
      report.state = "services are on their known-good revisions but " + verify + "; ";
    }
  }
  report.outcome = all_back ? Outcome::kFailed : Outcome::kRollbackFailed;
  if (!all_back) report.state += DescribeState(c, env);
}

// Best effort: the counts are for the summary; a failed read leaves them at 0.
void FillRunningCounts(aws::AwsClient& c, const config::Environment& env, ReleaseReport& report) {
  if (auto st = Status(c, env)) {
    for (auto& s : report.services) {
      for (const auto& x : *st) {
        if (x.service_name == s.service_name) s.running_count = x.running;
      }
    }
  }
}

// Takes the release lock for `report`'s release; when another release holds it, returns null with
// the report marked kLocked and naming the holder.
Result<std::unique_ptr<ReleaseLock>> TakeLock(aws::AwsClient& c, const config::Environment& env,
                                              const ReleaseOptions& options, long ttl_seconds, ReleaseReport& report) {
  std::string held_by;
  auto lock = ReleaseLock::Acquire(c, env, report.release_id, options.actor, ttl_seconds, held_by);
  if (lock && !*lock) {
    report.outcome = Outcome::kLocked;
    report.failure = held_by;
  }
  return lock;
}

std::string NewReleaseId() {
  RealClock clock;
  std::string iso = IsoTime(clock.WallNow());  // 2026-11-27T23:59:01Z
  std::string digits;
  for (char ch : iso) {
    if (std::isdigit(static_cast<unsigned char>(ch))) digits += ch;
  }
  return "r" + digits.substr(0, 14) + "-" + RandomHex(4);
}

}  // namespace

Result<ReleaseReport> Release(aws::AwsClient& c, aws::HttpTransport& http, Clock& clock, const config::Config& cfg,
                              const config::Environment& env, const ReleaseOptions& options) {
  const SteadyTime started = clock.Now();
  ReleaseReport report;
  report.release_id = NewReleaseId();
  auto finish = [&]() -> Result<ReleaseReport> {
    FillRunningCounts(c, env, report);
    report.seconds = std::chrono::duration<double>(clock.Now() - started).count();
    return report;
  };

  // Nothing is created or registered while another release is in flight.
  long ttl = env.timeout_seconds * 2L + 600;
  for (const auto& [name, spec] : cfg.services) ttl += spec.migrate_timeout_seconds;
  auto lock = TakeLock(c, env, options, ttl, report);
  if (!lock) return tl::unexpected(lock.error());
  if (!*lock) return finish();

  std::map<std::string, json> definitions;
  for (const auto& [name, se] : env.services) {
    auto td = LoadTaskDefinition(cfg.services.at(name), se, options.vars);
    if (!td) return tl::unexpected(td.error());
    definitions[name] = *td;
  }
  if (auto r = EnsureCluster(c, env); !r) return tl::unexpected(r.error());
  auto lb = EnsureLoadBalancer(c, env);
  if (!lb) return tl::unexpected(lb.error());
  std::map<std::string, std::string> tg_by_service;
  for (const auto& [name, se] : env.services) {
    auto tg = EnsureTargetGroup(c, env, cfg.services.at(name));
    if (!tg) return tl::unexpected(tg.error());
    tg_by_service[name] = *tg;
    if (auto r = EnsureLogGroups(c, definitions[name]); !r) return tl::unexpected(r.error());
  }
  if (auto r = EnsureRouting(c, env, lb->first, tg_by_service); !r) return tl::unexpected(r.error());
  options.progress("infrastructure ready: cluster " + env.cluster + ", load balancer " + env.load_balancer_name +
                   " on port " + std::to_string(env.listener_port));

  const std::map<std::string, std::string> record{{"slipway:release", report.release_id},
                                                  {"slipway:environment", env.name},
                                                  {"slipway:by", options.actor},
                                                  {"slipway:started", IsoNow()},
                                                  {"slipway:result", kResultInProgress}};
  for (const auto& [name, se] : env.services) {
    auto tags = record;
    tags["slipway:target"] = ReleaseTarget(env.cluster, se.service_name);
    auto td = RegisterTaskDefinition(c, cfg.services.at(name), definitions[name], tags);
    if (!td) return tl::unexpected(td.error());
    auto known_good = FindKnownGood(c, definitions[name]["family"].get<std::string>(),
                                    ReleaseTarget(env.cluster, se.service_name), *td);
    if (!known_good) return tl::unexpected(known_good.error());
    ServiceResult sr{se.service_name, *td, "", 0, *known_good ? (*known_good)->arn : "", "", {}, ""};
    options.progress("registered " + FamilyRevision(*td) +
                     (sr.known_good_arn.empty() ? " (no known-good revision yet)"
                                                : " (known-good: " + FamilyRevision(sr.known_good_arn) + ")"));
    report.services.push_back(sr);
  }

  // Migrations run before any traffic moves; a failed one aborts with every service untouched.
  size_t index = 0;
  for (const auto& [name, se] : env.services) {
    const auto& spec = cfg.services.at(name);
    const std::string td_arn = report.services[index++].task_definition_arn;
    if (spec.migrate_command.empty()) continue;
    std::vector<std::string> tail;
    auto failed = RunMigration(c, clock, env, spec, td_arn, definitions[name], options, tail);
    if (!failed) return tl::unexpected(failed.error());
    if (!failed->empty()) {
      report.migration_log = tail;
      report.outcome = Outcome::kFailed;
      report.failure = *failed + "; no service was changed";
      for (const auto& s : report.services) {
        auto t = TagRevision(c, s.task_definition_arn, {{"slipway:result", kResultAborted},
                                                        {"slipway:finished", IsoNow()},
                                                        {"slipway:detail", *failed}});
        if (!t) options.progress("warning: could not record the abort on " + s.task_definition_arn);
      }
      return finish();
    }
  }

  index = 0;
  for (const auto& [name, se] : env.services) {
    ServiceResult& sr = report.services[index++];
    auto dep = RollOut(c, env, cfg.services.at(name), se, sr.task_definition_arn, tg_by_service[name]);
    if (!dep) {
      report.failure = dep.error().message;
      break;
    }
    sr.deployment_id = *dep;
    options.progress("rolling out " + se.service_name + " (deployment " + *dep + ")");
  }
  const Millis timeout{static_cast<long>(env.timeout_seconds) * 1000};
  for (auto& s : report.services) {
    if (s.deployment_id.empty() || !report.failure.empty()) continue;
    auto v = WatchRollout(c, clock, env.cluster, s.service_name, s.deployment_id, timeout,
                          [&](const std::string& event) { options.progress(event); });
    if (!v) return tl::unexpected(v.error());
    if (v->status != RolloutStatus::kCompleted) {
      s.failure = v->reason;
      report.failure = s.service_name + ": " + v->reason;
    }
  }
  if (report.failure.empty()) report.failure = Verify(http, clock, env, env.listener_host, options);

  if (!report.failure.empty()) {
    options.progress("release failed: " + report.failure);
    FailAndReturn(c, http, clock, env, options, report);
  } else {
    for (const auto& s : report.services) {
      auto t = TagRevision(c, s.task_definition_arn, {{"slipway:result", kResultReleased}, {"slipway:finished", IsoNow()}});
      if (!t) return tl::unexpected(Wrap("record the release of " + s.task_definition_arn, t.error()));
    }
  }
  return finish();
}

Result<ReleaseReport> Rollback(aws::AwsClient& c, aws::HttpTransport& http, Clock& clock,
                               const config::Environment& env, const std::string& only_service,
                               const std::string& to_revision, const ReleaseOptions& options) {
  const SteadyTime started = clock.Now();
  ReleaseReport report;
  report.release_id = NewReleaseId();
  auto lock = TakeLock(c, env, options, env.timeout_seconds * 2L + 600, report);
  if (!lock) return tl::unexpected(lock.error());
  if (!*lock) return report;
  bool matched = false;
  for (const auto& [name, se] : env.services) {
    if (!only_service.empty() && only_service != name && only_service != se.service_name) continue;
    matched = true;
    auto d = DescribeService(c, env.cluster, se.service_name);
    if (!d) return tl::unexpected(d.error());
    if (d->is_null()) return Fail("service " + se.service_name + " does not exist in " + env.cluster);
    const std::string current = d->value("taskDefinition", "");
    const std::string family = FamilyOf(current);
    std::string target;
    if (!to_revision.empty()) {
      bool digits = std::all_of(to_revision.begin(), to_revision.end(), [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)); });
      auto rec = DescribeRevision(c, digits ? family + ":" + to_revision : to_revision);
      if (!rec) return tl::unexpected(Wrap("--to " + to_revision, rec.error()));
      if (rec->family != family) return Fail("--to " + to_revision + " is not a revision of " + family);
      target = rec->arn;
    } else {
      auto good = FindKnownGood(c, family, ReleaseTarget(env.cluster, se.service_name), current);
      if (!good) return tl::unexpected(good.error());
      if (!*good) return Fail(se.service_name + ": no known-good revision of " + family + " other than the current " +
                              FamilyRevision(current) + "; pass --to REVISION");
      target = (*good)->arn;
    }
    ServiceResult sr{se.service_name, target, "", 0, target, "", {}, ""};
    options.progress(se.service_name + ": " + FamilyRevision(current) + " -> " + FamilyRevision(target));
    auto v = ReturnTo(c, clock, env, se.service_name, target, options);
    if (!v) return tl::unexpected(v.error());
    if (v->status != RolloutStatus::kCompleted) {
      sr.rollback = "rollback to " + FamilyRevision(target) + " failed: " + v->reason;
      report.failure = se.service_name + ": " + sr.rollback;
    } else {
      sr.rollback = "back on " + FamilyRevision(target);
      // The revision rolled away from is no longer a candidate known-good.
      if (current != target) {
        auto t = TagRevision(c, current, {{"slipway:result", kResultRolledBack},
                                          {"slipway:detail", "rolled back by " + options.actor + " at " + IsoNow()}});
        if (!t) return tl::unexpected(t.error());
      }
    }
    report.services.push_back(sr);
  }
  if (!matched) return Fail("no service '" + only_service + "' in environment " + env.name);
  if (report.failure.empty()) report.failure = Verify(http, clock, env, env.listener_host, options);
  if (!report.failure.empty()) {
    report.outcome = Outcome::kRollbackFailed;
    report.state = DescribeState(c, env);
  } else {
    // Running again and verified: the revision is known-good (again).
    for (const auto& s : report.services) {
      auto t = TagRevision(c, s.task_definition_arn, {{"slipway:result", kResultReleased},
                                                      {"slipway:restored", IsoNow() + " by " + options.actor}});
      if (!t) return tl::unexpected(t.error());
    }
  }
  FillRunningCounts(c, env, report);
  report.seconds = std::chrono::duration<double>(clock.Now() - started).count();
  return report;
}

Result<std::string> TemplateFamily(const config::ServiceSpec& svc, const config::ServiceEnv& se,
                                   const std::map<std::string, std::string>& vars) {
  auto td = LoadTaskDefinition(svc, se, vars);
  if (!td) return tl::unexpected(td.error());
  return (*td)["family"].get<std::string>();
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
