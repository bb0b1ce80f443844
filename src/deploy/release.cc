// The release pipeline, speaking only AWS APIs (ECS JSON 1.1, ELBv2 Query).
#include "deploy/release.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "aws/task_definition.h"
#include "base/strings.h"
#include "deploy/lock.h"
#include "deploy/migration.h"
#include "deploy/provision.h"
#include "deploy/records.h"
#include "deploy/rollout.h"

namespace slipway::deploy {

using nlohmann::json;

namespace {

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

Result<std::string> RegisterTaskDefinition(aws::AwsClient& c, const config::ServiceSpec& svc, json td,
                                           const std::map<std::string, std::string>& record) {
  td["tags"] = json::array({{{"key", "slipway:service"}, {"value", svc.name}}});
  for (const auto& [k, v] : record) td["tags"].push_back({{"key", k}, {"value", v}});
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
  auto infra = Provision(c, cfg, env, definitions);
  if (!infra) return tl::unexpected(infra.error());
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
    auto failed = RunMigration(c, clock, env, spec, td_arn, definitions[name], options.progress, tail);
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
    auto dep = RollOut(c, env, cfg.services.at(name), se, sr.task_definition_arn, infra->target_group_by_service[name]);
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
