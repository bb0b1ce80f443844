// The image builders slipway drives (podman, buildah, docker): which one, and their command lines.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/result.h"

namespace slipway::build {

enum class Tool { kPodman, kBuildah, kDocker };

/// "podman", "buildah" or "docker".
const char* ToolName(Tool tool);

/// Whether a program is installed (found in PATH); injected so the choice can be tested.
using Installed = std::function<bool(const std::string& program)>;

/// The builder to use: `wanted` ("podman", "buildah", "docker"), or for "auto" the first of
/// those installed. The error says what to install.
[[nodiscard]] Result<Tool> ChooseTool(const std::string& wanted, const Installed& installed);

/// One image to build.
struct BuildRequest {
  std::string context, dockerfile, target;
  std::map<std::string, std::string> args;
  std::string platform;           ///< "linux/amd64"
  std::vector<std::string> tags;  ///< every name the image gets (registry/repository:tag)
};

/// argv that builds `request` with `tool`.
std::vector<std::string> BuildArgv(Tool tool, const BuildRequest& request);

/// Where and how to push one tag.
struct PushRequest {
  std::string image;        ///< registry/repository:tag, as built
  std::string auth_dir;     ///< a private directory holding the registry credentials
  std::string digest_file;  ///< podman and buildah write the pushed manifest's digest here
  bool plain_http = false;  ///< a loopback registry without TLS
};

/// argv that pushes with `tool`, and the environment it needs (docker reads its credentials from
/// DOCKER_CONFIG; podman and buildah get --authfile).
std::vector<std::string> PushArgv(Tool tool, const PushRequest& request);
std::map<std::string, std::string> PushEnv(Tool tool, const PushRequest& request);

/// The credentials file for `registry` (both formats are the same JSON), as written into auth_dir.
std::string AuthFileJson(const std::string& registry, const std::string& user, const std::string& password);

/// The digest `docker push` prints ("v1: digest: sha256:… size: 528"), or empty.
std::string DigestFromDockerPush(const std::string& output);

}  // namespace slipway::build
