// The release's image stage: every image resolved in its registry, checked against the task's
// platform, and pinned by digest before anything is registered.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "base/result.h"
#include "registry/client.h"

namespace slipway::deploy {

/// Resolves each container image of `definitions` (by service) to the digest its tag names now,
/// refuses one without a variant for the task definition's runtimePlatform (error code
/// registry::kPlatformMismatch), and rewrites the image as `name@sha256:…`. Changes nothing
/// but `definitions`. `progress` hears one line per image.
[[nodiscard]] Result<void> PinImages(registry::RegistryClient& client, std::map<std::string, nlohmann::json>& definitions,
                                     const std::function<void(const std::string&)>& progress);

}  // namespace slipway::deploy
