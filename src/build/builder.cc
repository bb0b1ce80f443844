// Builder choice and command lines.
#include "build/builder.h"

#include <nlohmann/json.hpp>

#include "base/strings.h"

namespace slipway::build {

const char* ToolName(Tool tool) {
  switch (tool) {
    case Tool::kPodman: return "podman";
    case Tool::kBuildah: return "buildah";
    case Tool::kDocker: return "docker";
  }
  return "?";
}

Result<Tool> ChooseTool(const std::string& wanted, const Installed& installed) {
  const std::pair<const char*, Tool> tools[] = {{"podman", Tool::kPodman}, {"buildah", Tool::kBuildah}, {"docker", Tool::kDocker}};
  for (const auto& [name, tool] : tools) {
    if (wanted != "auto" && wanted != name) continue;
    if (installed(name)) return tool;
    if (wanted == name) return Fail("builder: " + wanted + " is not installed (builder: " + wanted + " in slipway.yaml asks for it)");
  }
  if (wanted != "auto") return Fail("builder: '" + wanted + "' is not podman, buildah or docker");
  return Fail("no image builder is installed: install podman, buildah or docker (scripts/install-deps.sh installs podman and buildah)");
}

std::vector<std::string> BuildArgv(Tool tool, const BuildRequest& r) {
  std::vector<std::string> argv{ToolName(tool), "build", "--platform", r.platform, "--file", r.dockerfile};
  // buildah (and podman's builder) isolate RUN steps with chroot here: no user namespaces needed.
  if (tool != Tool::kDocker) argv.push_back("--isolation=chroot");
  if (!r.target.empty()) argv.insert(argv.end(), {"--target", r.target});
  for (const auto& [k, v] : r.args) argv.insert(argv.end(), {"--build-arg", k + "=" + v});
  for (const auto& tag : r.tags) argv.insert(argv.end(), {"--tag", tag});
  argv.push_back(r.context);
  return argv;
}

std::vector<std::string> PushArgv(Tool tool, const PushRequest& r) {
  if (tool == Tool::kDocker) return {"docker", "push", r.image};
  std::vector<std::string> argv{ToolName(tool), "push", "--authfile", r.auth_dir + "/config.json", "--digestfile",
                                r.digest_file};
  if (r.plain_http) argv.push_back("--tls-verify=false");
  argv.push_back(r.image);
  return argv;
}

std::map<std::string, std::string> PushEnv(Tool tool, const PushRequest& r) {
  if (tool == Tool::kDocker) return {{"DOCKER_CONFIG", r.auth_dir}};
  return {};
}

std::string AuthFileJson(const std::string& registry, const std::string& user, const std::string& password) {
  return nlohmann::json{{"auths", {{registry, {{"auth", Base64Encode(user + ":" + password)}}}}}}.dump() + "\n";
}

std::string DigestFromDockerPush(const std::string& output) {
  const size_t at = output.rfind("digest: sha256:");
  if (at == std::string::npos) return "";
  const std::string digest = output.substr(at + 8, 71);
  return digest.size() == 71 ? digest : "";
}

}  // namespace slipway::build
