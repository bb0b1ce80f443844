// The release pipeline, speaking only AWS APIs (ECS JSON 1.1, ELBv2 Query): lock, provision,
// register, migrate, roll out, watch, verify; and on failure, back to known-good.
#include "deploy/release.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "aws/task_definition.h"
#include "base/strings.h"
#include "deploy/build_images.h"
#include "deploy/images.h"
#include "deploy/lock.h"
#include "deploy/migration.h"
#include "deploy/provision.h"
#include "deploy/records.h"
#include "deploy/rollout.h"
#include "deploy/run.h"

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
  td["tags"] = json::array({{{"key", "slipway:service"}, {"value", TagValue(svc.name)}}});
  for (const auto& [k, v] : record) td["tags"].push_back({{"key", k}, {"value", TagValue(v)}});
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
  if (!r) return tl::unexpected(aws::IsUnreachable(r.error()) ? r.error() : Wrap(se.service_name, r.error()));
  return (*r)["service"]["deployments"][0]["id"].get<std::string>();
}


// Records `result` on every revision the release registered. Best effort: a revision whose
// record cannot be written is named in the report's warnings.
void Record(Run& run, const char* result, const std::string& detail) {
  for (const auto& s : run.report.services) {
    std::map<std::string, std::string> tags{{"slipway:result", result}, {"slipway:finished", IsoNow()}};
    if (!detail.empty()) tags["slipway:detail"] = detail;
    if (auto t = TagRevision(run.c, s.task_definition_arn, tags); !t) {
      run.report.warnings.push_back("could not record " + FamilyRevision(s.task_definition_arn) + " as " + result +
                                    " (" + t.error().message + "); slipway history shows what it last recorded");
    }
  }
}

// Stops on request before any service changed: the registered revisions are recorded aborted.
void Abort(Run& run, const std::string& when) {
  run.report.outcome = Outcome::kInterrupted;
  run.report.failure = "interrupted " + when + "; no service was changed";
  Record(run, kResultAborted, run.report.failure);
}

// Stops on request after a rollout started; what is still rolling out stays in `in_flight`.
void Interrupt(Run& run, const std::string& when) {
  run.report.outcome = Outcome::kInterrupted;
  run.report.failure = "interrupted " + when;
  std::string detail = run.report.failure;
  for (const auto& s : run.report.services) {
    if (!s.in_flight.empty()) detail += "; " + s.service_name + ": " + s.in_flight;
  }
  Record(run, kResultInterrupted, detail);
}

// Registers a revision of every service, tagged with the release record, and finds each one's
// known-good revision.
Result<void> Register(Run& run, const config::Config& cfg, std::map<std::string, json>& definitions) {
  const config::Environment& env = run.env;
  const std::map<std::string, std::string> record{{"slipway:release", run.report.release_id},
                                                  {"slipway:environment", env.name},
                                                  {"slipway:by", run.options.actor},
                                                  {"slipway:started", IsoNow()},
                                                  {"slipway:result", kResultInProgress}};
  for (const auto& [name, se] : env.services) {
    auto tags = record;
    tags["slipway:target"] = ReleaseTarget(env.cluster, se.service_name);
    auto td = RegisterTaskDefinition(run.c, cfg.services.at(name), definitions[name], tags);
    if (!td) return tl::unexpected(td.error());
    // Recorded at once, so that whatever happens next is recorded on it too.
    run.report.services.push_back({se.service_name, *td, "", 0, "", "", {}, "", "", ""});
    auto known_good = FindKnownGood(run.c, definitions[name]["family"].get<std::string>(),
                                    ReleaseTarget(env.cluster, se.service_name), *td);
    if (!known_good) return tl::unexpected(known_good.error());
    ServiceResult& sr = run.report.services.back();
    if (*known_good) sr.known_good_arn = (*known_good)->arn;
    run.Progress("registered " + FamilyRevision(*td) +
                 (sr.known_good_arn.empty() ? " (no known-good revision yet)"
                                            : " (known-good: " + FamilyRevision(sr.known_good_arn) + ")"));
  }
  return {};
}

// Runs the migrations before any traffic moves. A failed or interrupted one ends the release
// (report.outcome says how) with every service untouched.
Result<void> Migrate(Run& run, const config::Config& cfg, const std::map<std::string, json>& definitions) {
  size_t index = 0;
  for (const auto& [name, se] : run.env.services) {
    const auto& spec = cfg.services.at(name);
    ServiceResult& sr = run.report.services[index++];
    if (spec.migrate_command.empty()) continue;
    MigrationProgress progress;
    auto m = RunMigration(run.c, run.clock, run.env, spec, sr.task_definition_arn, definitions.at(name),
                          run.options.progress, run.options.cancel, progress);
    if (!m) {
      // A migration that may be running (or may have run) is a change whose outcome is unknown.
      const bool may_run = !progress.task_id.empty() || m.error().code == aws::kOutcomeUnknown;
      if (!may_run || !aws::IsUnreachable(m.error())) return tl::unexpected(m.error());
      sr.in_flight = progress.task_id.empty()
                         ? "RunTask for the migration of " + name + " was sent without a reply; no service was updated"
                         : "migration task " + progress.task_id + " of " + name + " was running; no service was updated";
      EndUnknown(run, m.error());
      return {};
    }
    if (m->status == MigrationResult::Status::kInterrupted) {
      Abort(run, "during the migration of " + name + " (" + m->detail + ")");
      return {};
    }
    if (m->status == MigrationResult::Status::kFailed) {
      run.report.migration_log = progress.tail;
      run.report.outcome = Outcome::kFailed;
      run.report.failure = m->detail + "; no service was changed";
      Record(run, kResultAborted, m->detail);
      return {};
    }
  }
  return {};
}

// Starts every service's rollout. Stops at the first that cannot start (report.failure), and ends
// the release as unknown when the endpoint stops answering after a service may have changed.
Result<void> StartRollouts(Run& run, const config::Config& cfg, const Infrastructure& infra) {
  size_t index = 0;
  for (const auto& [name, se] : run.env.services) {
    ServiceResult& sr = run.report.services[index++];
    if (run.cancelled()) {
      Interrupt(run, "while starting the rollouts; " + se.service_name + " and those after it were not updated");
      return {};
    }
    const std::string revision = FamilyRevision(sr.task_definition_arn);
    sr.in_flight = "the update to " + revision + " was sent without a reply";
    auto dep = RollOut(run.c, run.env, cfg.services.at(name), se, sr.task_definition_arn,
                       infra.target_group_by_service.at(name));
    if (!dep) {
      if (dep.error().code != aws::kOutcomeUnknown) sr.in_flight.clear();  // it never took effect
      if (!aws::IsUnreachable(dep.error())) {
        run.report.failure = dep.error().message;
        return {};
      }
      if (!run.AnyServiceTouched()) return tl::unexpected(dep.error());
      EndUnknown(run, dep.error());
      return {};
    }
    sr.deployment_id = *dep;
    sr.in_flight = "rolling out " + revision + " (deployment " + *dep + ")";
    run.Progress("rolling out " + se.service_name + " (deployment " + *dep + ")");
  }
  return {};
}

// Watches every started rollout to its end. Sets report.failure on the first that fails.
void WatchRollouts(Run& run) {
  const Millis timeout{static_cast<long>(run.env.timeout_seconds) * 1000};
  for (auto& s : run.report.services) {
    if (s.deployment_id.empty() || !run.report.failure.empty()) continue;
    auto v = WatchRollout(run.c, run.clock, run.env.cluster, s.service_name, s.deployment_id, timeout,
                          [&](const std::string& event) { run.Progress(event); }, run.options.cancel);
    if (!v) {
      if (aws::IsUnreachable(v.error())) return EndUnknown(run, v.error());
      s.failure = v.error().message;
      run.report.failure = s.service_name + ": " + v.error().message;
      continue;
    }
    if (v->status == RolloutStatus::kInProgress) return Interrupt(run, "while watching the rollout");
    if (v->status == RolloutStatus::kFailed) {
      s.failure = v->reason;
      run.report.failure = s.service_name + ": " + v->reason;
      continue;
    }
    s.in_flight = "on " + FamilyRevision(s.task_definition_arn) + " (deployment " + s.deployment_id +
                  " completed), not verified";
  }
}

// After a failure: diagnose, record, and return every touched service to its known-good revision.
void FailAndReturn(Run& run) {
  ReleaseReport& report = run.report;
  run.Progress("release failed: " + report.failure);
  for (auto& s : report.services) {
    if (s.deployment_id.empty()) continue;
    auto tasks = CollectTasks(run.c, {run.env.cluster, "", s.deployment_id, "STOPPED", 20, 20});
    if (tasks) s.stopped_tasks = *tasks;
  }
  Record(run, kResultFailed, report.failure);
  bool all_back = true;
  for (auto& s : report.services) {
    if (s.deployment_id.empty() && s.in_flight.empty()) continue;  // never updated
    if (s.known_good_arn.empty()) {
      s.rollback = "no known-good revision to return to";
      all_back = false;
      continue;
    }
    auto v = ReturnTo(run, s, s.known_good_arn);
    if (!v) {
      if (aws::IsUnreachable(v.error())) return EndUnknown(run, v.error());
      s.rollback = "rollback failed: " + v.error().message;
      all_back = false;
    } else if (v->status == RolloutStatus::kInProgress) {
      report.outcome = Outcome::kInterrupted;
      report.failure += "; interrupted while returning to known-good";
      return;
    } else if (v->status != RolloutStatus::kCompleted) {
      s.rollback = "rollback to " + FamilyRevision(s.known_good_arn) + " failed: " + v->reason;
      all_back = false;
    } else {
      s.rollback = "back on " + FamilyRevision(s.known_good_arn);
      run.Progress(s.service_name + ": back on known-good " + FamilyRevision(s.known_good_arn));
    }
  }
  if (all_back) {
    std::string verify = Verify(run);
    if (!verify.empty() && run.cancelled()) {
      report.outcome = Outcome::kInterrupted;
      report.failure += "; every service is back on known-good, interrupted while verifying it";
      return;
    }
    if (!verify.empty()) {
      all_back = false;
      report.state = "services are on their known-good revisions but " + verify + "; ";
    }
  }
  report.outcome = all_back ? Outcome::kFailed : Outcome::kRollbackFailed;
  if (!all_back) report.state += DescribeState(run);
}

// Everything a release does while it holds the lock. Returns an error only while no service has
// been changed; from the first change on, every end is a report.
// Template variables naming the environment's load balancer, as tasks reach other services by it:
// its DNSName, and http://<DNSName>[:listenerPort].
constexpr const char* kLoadBalancerDnsVar = "LOAD_BALANCER_DNS";
constexpr const char* kLoadBalancerUrlVar = "LOAD_BALANCER_URL";

// Expands every service's template. Until the load balancer exists its DNS name is a placeholder:
// the first expansion serves the image stages, which read only images and platforms.
Result<std::map<std::string, json>> LoadDefinitions(Run& run, const config::Config& cfg, const std::string& lb_dns) {
  auto vars = run.options.vars;
  if (!vars.count(kLoadBalancerDnsVar)) vars[kLoadBalancerDnsVar] = lb_dns;
  if (!vars.count(kLoadBalancerUrlVar)) {
    const int port = run.env.listener_port;
    vars[kLoadBalancerUrlVar] = "http://" + lb_dns + (port == 80 ? "" : ":" + std::to_string(port));
  }
  std::map<std::string, json> definitions;
  for (const auto& [name, se] : run.env.services) {
    auto td = LoadTaskDefinition(cfg.services.at(name), se, vars);
    if (!td) return tl::unexpected(td.error());
    definitions[name] = *td;
  }
  return definitions;
}

// The built and pinned images of `from`, container by container, in `to`.
void KeepImages(const std::map<std::string, json>& from, std::map<std::string, json>& to) {
  for (auto& [name, td] : to) {
    for (auto& c : td["containerDefinitions"]) {
      for (const auto& old : from.at(name)["containerDefinitions"]) {
        if (old.value("name", "") == c.value("name", "") && old.contains("image")) c["image"] = old["image"];
      }
    }
  }
}

Result<void> ReleaseStages(Run& run, const config::Config& cfg) {
  auto loaded = LoadDefinitions(run, cfg, "load-balancer-not-yet-created.invalid");
  if (!loaded) return tl::unexpected(loaded.error());
  std::map<std::string, json> definitions = std::move(*loaded);
  if (auto built = BuildImages(run, cfg, definitions); !built) {
    if (!run.cancelled()) return built;
    Abort(run, "while building images");
    return {};
  }
  if (run.env.pin_images) {
    // Before anything is created or registered: a wrong platform or a missing image changes nothing.
    const SteadyTime since = run.clock.Now();
    registry::RegistryClient images(run.http, EcrCredentials(run.c));
    if (auto pinned = PinImages(images, definitions, [&](const std::string& line) { run.Progress(line); }); !pinned) {
      return pinned;
    }
    run.Timed("images", since);
  }
  SteadyTime since = run.clock.Now();
  auto infra = Provision(run.c, cfg, run.env, definitions);
  if (!infra) return tl::unexpected(infra.error());
  run.Timed("provision", since);
  if (auto final = LoadDefinitions(run, cfg, infra->load_balancer_dns); !final) {
    return tl::unexpected(final.error());
  } else {
    KeepImages(definitions, *final);
    definitions = std::move(*final);
  }
  run.Progress("infrastructure ready: cluster " + run.env.cluster + ", load balancer " + run.env.load_balancer_name +
               " on port " + std::to_string(run.env.listener_port));
  if (run.cancelled()) {
    Abort(run, "before anything was registered");
    return {};
  }
  since = run.clock.Now();
  if (auto r = Register(run, cfg, definitions); !r) return r;
  run.Timed("register", since);
  if (run.cancelled()) {
    Abort(run, "before the migrations");
    return {};
  }
  since = run.clock.Now();
  if (auto r = Migrate(run, cfg, definitions); !r || run.report.outcome != Outcome::kReleased) return r;
  run.Timed("migrate", since);
  if (run.cancelled()) {
    Abort(run, "before any rollout started");
    return {};
  }
  since = run.clock.Now();
  if (auto r = StartRollouts(run, cfg, *infra); !r || run.report.outcome != Outcome::kReleased) return r;
  WatchRollouts(run);
  run.Timed("rollout", since);
  if (run.report.outcome != Outcome::kReleased) return {};
  if (run.report.failure.empty()) {
    since = run.clock.Now();
    run.report.failure = Verify(run);
    run.Timed("verify", since);
    if (!run.report.failure.empty() && run.cancelled()) {
      Interrupt(run, "while verifying");
      return {};
    }
  }
  if (!run.report.failure.empty()) {
    FailAndReturn(run);
    return {};
  }
  for (auto& s : run.report.services) s.in_flight.clear();
  Record(run, kResultReleased, "");
  return {};
}

Error NothingChanged(const Error& e) { return Error{e.message + "; no service was changed", e.code}; }

}  // namespace

Result<ReleaseReport> Release(aws::AwsClient& c, aws::HttpTransport& http, Clock& clock, const config::Config& cfg,
                              const config::Environment& env, const ReleaseOptions& options) {
  ReleaseReport report;
  report.release_id = NewReleaseId();
  Run run{c, http, clock, env, options, report, clock.Now()};
  if (run.cancelled()) {
    report.outcome = Outcome::kInterrupted;
    report.failure = "interrupted before the release began; nothing was changed";
    return Finish(run);
  }
  // Nothing is created or registered while another release is in flight.
  long ttl = env.timeout_seconds * 2L + 600;
  for (const auto& [name, spec] : cfg.services) ttl += spec.migrate_timeout_seconds;
  auto lock = TakeLock(run, ttl);
  if (!lock) return tl::unexpected(NothingChanged(lock.error()));
  if (!*lock) return Finish(run);
  auto stages = ReleaseStages(run, cfg);
  if (!stages) Record(run, kResultAborted, stages.error().message);
  return Conclude(run, **lock, stages);
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
