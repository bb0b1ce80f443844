// The release pipeline, speaking only AWS APIs (ECS JSON 1.1, ELBv2 Query): lock, then the
// stages in order (stages.h), each in its own file; on failure, back to known-good.
#include "deploy/release.h"

#include <nlohmann/json.hpp>

#include "aws/ecs.h"
#include "deploy/allowlist.h"
#include "deploy/build_images.h"
#include "deploy/desired_count.h"
#include "deploy/execution_role.h"
#include "deploy/images.h"
#include "deploy/lock.h"
#include "deploy/provision.h"
#include "deploy/records.h"
#include "deploy/run.h"
#include "deploy/stages.h"

namespace slipway::deploy {

using nlohmann::json;

namespace {

// The task definitions as their templates render before the load balancer exists, checked for
// what the endpoint would refuse later. Reads files only: a mistake here creates nothing, not even
// the cluster the lock needs.
Result<std::map<std::string, json>> CheckedDefinitions(Run& run, const config::Config& cfg) {
  auto definitions = LoadDefinitions(run, cfg, "load-balancer-not-yet-created.invalid");
  if (!definitions) return definitions;
  if (run.env.provider == "aws") {
    // The engine runs tasks without an execution role; Fargate would fail each one.
    for (const auto& [name, td] : *definitions) {
      if (std::string problem = MissingExecutionRole(td); !problem.empty()) return Fail(problem, kTaskDefinitionInvalid);
    }
  }
  return definitions;
}

// The stages that change nothing in ECS: each built image pushed, and every image pinned by
// digest. A wrong platform or a missing image is refused here. Returns an error while nothing
// changed; an interrupt ends the release as interrupted (run.report.outcome).
Result<void> PrepareImages(Run& run, const config::Config& cfg, std::map<std::string, json>& definitions) {
  if (auto built = BuildImages(run, cfg, definitions); !built) {
    if (!run.cancelled()) return built;
    Abort(run, "while building images");
    return {};
  }
  if (run.env.pin_images) {
    const SteadyTime since = run.clock.Now();
    // Without ECR (an engine without a registry, or no permission) images are read anonymously.
    const auto& login = run.Ecr();
    registry::RegistryClient images(run.http, EcrCredentials(login ? std::optional(*login) : std::nullopt));
    if (auto pinned = PinImages(images, definitions, [&](const std::string& line) { run.Progress(line); }); !pinned) {
      return pinned;
    }
    run.Timed("images", since);
  }
  return {};
}

// Everything a release does while it holds the lock (PrepareImages too, unless `prepared`).
// Returns an error only while no service has been changed; from the first change on, every end
// is a report.
Result<void> ReleaseStages(Run& run, const config::Config& cfg, std::map<std::string, json> definitions, bool prepared) {
  if (!prepared) {
    if (auto images = PrepareImages(run, cfg, definitions); !images || run.report.outcome == Outcome::kInterrupted) {
      return images;
    }
  }
  SteadyTime since = run.clock.Now();
  auto infra = Provision(run.c, cfg, run.env, definitions);
  if (!infra) return tl::unexpected(infra.error());
  run.Timed("provision", since);
  for (const auto& note : infra->network.notes) run.Progress("note: " + note);
  for (const auto& change : infra->rule_changes) run.Progress("listener: " + change);
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
  if (auto r = Migrate(run, cfg, definitions, *infra); !r || run.report.outcome != Outcome::kReleased) return r;
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
  auto definitions = CheckedDefinitions(run, cfg);
  if (!definitions) return tl::unexpected(NothingChanged(definitions.error()));
  // Said before any change, not found out by a failing verify after the rollout.
  for (const auto& warning : VerifyAccessFor(env).warnings) run.Progress("warning: " + warning);
  // A first release has no service to lock yet: the lock is on the cluster too, so it must exist.
  // Creating the cluster is a change, so a first release builds and pins its images before: a
  // failed build changes nothing. (Two first releases may both push; only one goes on.)
  auto cluster = ClusterExists(c, env);
  if (!cluster) return tl::unexpected(NothingChanged(cluster.error()));
  const bool prepared = !*cluster;
  if (prepared) {
    auto images = PrepareImages(run, cfg, *definitions);
    if (!images) return tl::unexpected(NothingChanged(images.error()));
    if (run.report.outcome == Outcome::kInterrupted) return Finish(run);
  }
  if (auto created = EnsureCluster(c, env); !created) return tl::unexpected(NothingChanged(created.error()));
  auto lock = TakeLock(run, ttl);
  if (!lock) return tl::unexpected(NothingChanged(lock.error()));
  if (!*lock) return Finish(run);
  auto stages = ReleaseStages(run, cfg, std::move(*definitions), prepared);
  if (!stages) Record(run, kResultAborted, stages.error().message);
  return Conclude(run, **lock, stages);
}

Result<std::string> TemplateFamily(const config::ServiceSpec& svc, const config::ServiceEnv& se,
                                   const std::map<std::string, std::string>& vars) {
  // The family never depends on the load balancer: its variables get placeholders here.
  auto with_placeholders = vars;
  with_placeholders.emplace("LOAD_BALANCER_DNS", "load-balancer.invalid");
  with_placeholders.emplace("LOAD_BALANCER_URL", "http://load-balancer.invalid");
  auto td = LoadTaskDefinition(svc, se, with_placeholders);
  if (!td) return tl::unexpected(td.error());
  if (!(*td)["family"].is_string()) return Fail(svc.task_definition_path + ": family: must be a string");
  return (*td)["family"].get<std::string>();
}

Result<std::vector<ServiceStatus>> Status(aws::AwsClient& c, const config::Environment& env) {
  std::vector<std::string> names;
  for (const auto& [name, se] : env.services) names.push_back(se.service_name);
  auto r = aws::Ecs(c).DescribeServices(env.cluster, names, /*with_tags=*/true);
  std::vector<ServiceStatus> out;
  // A cluster not created yet holds no service: the environment was never released.
  if (!r && r.error().code == "ClusterNotFoundException") {
    for (const auto& name : names) out.push_back({name, "MISSING", "", "", 0, 0, 0, 0, ""});
    return out;
  }
  if (!r) return tl::unexpected(r.error());
  for (const auto& s : r->services) {
    ServiceStatus st{s.name, s.status, s.task_definition, "", s.desired_count, s.running_count,
                     s.pending_count, static_cast<int>(s.deployments.size()), ""};
    if (!s.deployments.empty()) st.rollout_state = s.deployments[0].rollout_state;
    if (auto o = FindCountOverride(s.tags)) st.count_override = o->Describe();
    out.push_back(st);
  }
  for (const auto& f : r->failures) {
    // The failure names the service by ARN (".../cluster/name") or by the name asked for.
    out.push_back({f.arn.substr(f.arn.rfind('/') + 1), f.reason.empty() ? "MISSING" : f.reason, "", "", 0, 0, 0, 0, ""});
  }
  return out;
}

}  // namespace slipway::deploy
