// The release's build stage: images the config says slipway builds are built for the task's
// platform, pushed to the environment's ECR, and named by digest in the task definitions.
#pragma once

#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "base/result.h"
#include "config/config.h"
#include "deploy/run.h"

namespace slipway::deploy {

/// Builds every `build:` image of the environment's services in parallel (at most one per
/// core), pushes each to its ECR repository (created when missing) under the release id and
/// APP_VERSION (or the git commit) as tags, and rewrites the container's image in
/// `definitions` as `repositoryUri@sha256:…`. A failed build or push is an error with the
/// builder's last lines; nothing else has changed by then.
[[nodiscard]] Result<void> BuildImages(Run& run, const config::Config& cfg,
                                       std::map<std::string, nlohmann::json>& definitions);

/// The human tags an image of this release gets: the release id, then APP_VERSION when it is a
/// valid tag, else the short git commit of the build context when there is one.
std::vector<std::string> HumanTags(const std::string& release_id, const std::string& app_version,
                                   const std::string& git_commit);

}  // namespace slipway::deploy
