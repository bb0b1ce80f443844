// The stages of a release, each in its own file, that ReleaseStages (release.cc) runs in order:
// definitions, build and images (build_images.h, images.h), provision (provision.h), register,
// migrate, roll out and watch, verify (run.h); on failure, back to known-good.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "base/result.h"
#include "config/config.h"
#include "deploy/provision.h"
#include "deploy/run.h"

namespace slipway::deploy {

/// One service's task definition template, expanded with `vars`; its family defaults to the
/// service's name.
[[nodiscard]] Result<nlohmann::json> LoadTaskDefinition(const config::ServiceSpec& svc, const config::ServiceEnv& se,
                                                        const std::map<std::string, std::string>& vars);

/// Every service's template expanded, with LOAD_BALANCER_DNS and LOAD_BALANCER_URL naming
/// `lb_dns` (a placeholder until the load balancer exists: the image stages read only images).
[[nodiscard]] Result<std::map<std::string, nlohmann::json>> LoadDefinitions(Run& run, const config::Config& cfg,
                                                                            const std::string& lb_dns);

/// What LoadDefinitions renders, from the config, the environment and the template variables
/// alone: `slipway render` and `slipway plan` show exactly what a release registers.
[[nodiscard]] Result<std::map<std::string, nlohmann::json>> RenderDefinitions(
    const config::Config& cfg, const config::Environment& env, std::map<std::string, std::string> vars,
    const std::string& lb_dns);

/// The built and pinned images of `from`, container by container, in `to`.
void KeepImages(const std::map<std::string, nlohmann::json>& from, std::map<std::string, nlohmann::json>& to);

/// Registers a revision of every service, tagged with the release record, and finds each one's
/// known-good revision.
[[nodiscard]] Result<void> Register(Run& run, const config::Config& cfg,
                                    std::map<std::string, nlohmann::json>& definitions);

/// Runs the migrations before any traffic moves, in `infra`'s network. A failed or interrupted
/// one ends the release (report.outcome says how) with every service untouched.
[[nodiscard]] Result<void> Migrate(Run& run, const config::Config& cfg,
                                   const std::map<std::string, nlohmann::json>& definitions,
                                   const Infrastructure& infra);

/// Starts every service's rollout. Stops at the first that cannot start (report.failure), and
/// ends the release as unknown when the endpoint stops answering after a service may have changed.
[[nodiscard]] Result<void> StartRollouts(Run& run, const config::Config& cfg, const Infrastructure& infra);

/// Watches every started rollout to its end. Sets report.failure on the first that fails.
void WatchRollouts(Run& run);

/// After a failure: diagnose, record, and return every touched service to its known-good revision.
void FailAndReturn(Run& run);

/// Records `result` on every revision the release registered. Best effort: a revision whose
/// record cannot be written is named in the report's warnings.
void Record(Run& run, const char* result, const std::string& detail);

/// Stops on request before any service changed: the registered revisions are recorded aborted.
void Abort(Run& run, const std::string& when);

/// Stops on request after a rollout started; what is still rolling out stays in `in_flight`.
void Interrupt(Run& run, const std::string& when);

}  // namespace slipway::deploy
