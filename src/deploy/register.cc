// The register stage: a task definition revision per service, tagged with the release record.
#include "deploy/stages.h"

#include "aws/ecs.h"
#include "deploy/records.h"

namespace slipway::deploy {

using nlohmann::json;

namespace {

// How often a registration whose reply was lost, and which is not found registered, is sent again.
constexpr int kRegisterTries = 3;

Result<std::string> RegisterTaskDefinition(aws::AwsClient& c, const config::ServiceSpec& svc, json td,
                                           const std::map<std::string, std::string>& record) {
  td["tags"] = json::array({{{"key", "slipway:service"}, {"value", TagValue(svc.name)}}});
  for (const auto& [k, v] : record) td["tags"].push_back({{"key", k}, {"value", TagValue(v)}});
  for (int tries = 1;; ++tries) {
    auto r = aws::Ecs(c).RegisterTaskDefinition(td);
    if (r) return r->arn;
    if (r.error().code != aws::kOutcomeUnknown || tries == kRegisterTries) return tl::unexpected(r.error());
    // The reply was lost, and ECS takes no client token here: a revision tagged with this
    // release and target is the one it registered. Only when there is none, register again.
    auto found = FindRegistered(c, td.value("family", ""), record.at("slipway:target"), record.at("slipway:release"));
    if (!found) return tl::unexpected(r.error());  // still unknown
    if (*found) return **found;
  }
}

}  // namespace

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
    run.report.services.push_back({.service_name = se.service_name, .task_definition_arn = *td});
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

}  // namespace slipway::deploy
