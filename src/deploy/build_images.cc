// Build, push, and name by digest.
#include "deploy/build_images.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <functional>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "aws/ecr.h"
#include "base/strings.h"
#include "build/builder.h"
#include "build/streamed.h"
#include "registry/manifest.h"
#include "registry/reference.h"

namespace slipway::deploy {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct Job {
  std::string service, container;
  config::BuildSpec spec;
  std::string platform;
  std::string repository_uri;
  std::vector<std::string> tags;  // registry/repository:tag, the release id's first
  std::string digest;             // once pushed
  std::string error;
};

bool OnPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  for (const auto& dir : Split(path ? path : "/usr/bin:/bin", ':')) {
    if (!dir.empty() && ::access((std::string(dir) + "/" + program).c_str(), X_OK) == 0) return true;
  }
  return false;
}

std::string GitCommit(const std::string& dir) {
  auto out = RunCommand({"git", "-C", dir, "rev-parse", "--short=12", "HEAD"});
  if (!out || out->status.code != 0) return "";
  std::string commit(Trim(out->output));
  return registry::IsValidTag(commit) ? commit : "";
}

// The repository's URI, creating the repository when it is missing.
Result<std::string> EnsureRepository(aws::AwsClient& c, const std::string& name) {
  aws::Ecr ecr(c);
  auto found = ecr.DescribeRepositories({name});
  if (found && found->empty()) return Fail("ecr DescribeRepositories: the reply lists no repository");
  if (found) return found->front().uri;
  if (found.error().code != "RepositoryNotFoundException") return tl::unexpected(found.error());
  auto created = ecr.CreateRepository(name);
  if (!created) return tl::unexpected(created.error());
  return created->uri;
}

// A private directory for the push credentials, removed with it.
class AuthDir {
 public:
  static Result<AuthDir> Create(const std::string& registry, const std::string& user, const std::string& password) {
    char tmpl[] = "/tmp/slipway-push.XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return Fail("cannot create a directory for the push credentials");
    AuthDir dir(tmpl);
    const std::string file = dir.path_ + "/config.json";
    std::ofstream out(file, std::ios::trunc);
    fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
    out << build::AuthFileJson(registry, user, password);
    if (!out.flush()) return Fail("cannot write " + file);
    return dir;
  }
  AuthDir(AuthDir&& o) noexcept : path_(std::move(o.path_)) { o.path_.clear(); }
  AuthDir& operator=(AuthDir&&) = delete;
  ~AuthDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  explicit AuthDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

std::string LastLines(const build::StreamedRun& run) {
  std::string out;
  for (const auto& l : run.last_lines) out += "\n  | " + l;
  return out;
}

}  // namespace

std::vector<std::string> HumanTags(const std::string& release_id, const std::string& app_version,
                                   const std::string& git_commit) {
  std::vector<std::string> tags{release_id};
  if (registry::IsValidTag(app_version) && app_version != release_id) tags.push_back(app_version);
  else if (!git_commit.empty()) tags.push_back(git_commit);
  return tags;
}

Result<void> BuildImages(Run& run, const config::Config& cfg, std::map<std::string, json>& definitions) {
  std::vector<Job> jobs;
  for (const auto& [name, se] : run.env.services) {
    const auto& spec = cfg.services.at(name);
    json& td = definitions.at(name);
    for (const auto& [container, build] : spec.builds) {
      const auto& defs = td.value("containerDefinitions", json::array());
      if (std::none_of(defs.begin(), defs.end(), [&](const json& d) { return d.value("name", "") == container; })) {
        return Fail("services." + name + ": builds an image for container " + container +
                    ", which the task definition " + spec.task_definition_path + " does not have");
      }
      const json platform = td.value("runtimePlatform", json::object());
      auto need = registry::PlatformForTask(platform.value("operatingSystemFamily", ""), platform.value("cpuArchitecture", ""));
      if (!need) return Fail("services." + name + ": " + need.error().message);
      jobs.push_back({name, container, build, need->ToString(), "", {}, "", ""});
    }
  }
  if (jobs.empty()) return {};
  auto tool = build::ChooseTool(cfg.builder, OnPath);
  if (!tool) return tl::unexpected(tool.error());
  const auto& login = run.Ecr();
  if (!login) return Fail("building images needs the environment's ECR: " + login.error().message, login.error().code);
  auto auth = AuthDir::Create(login->registry, login->credentials.user, login->credentials.password);
  if (!auth) return tl::unexpected(auth.error());
  for (auto& job : jobs) {
    auto uri = EnsureRepository(run.c, job.spec.repository);
    if (!uri) return Fail("ecr repository " + job.spec.repository + ": " + uri.error().message, uri.error().code);
    job.repository_uri = *uri;
  }
  run.Progress("building " + std::to_string(jobs.size()) + " image(s) with " + build::ToolName(*tool));
  std::mutex mu;  // run.Progress from several threads
  auto say = [&](const std::string& line) {
    std::lock_guard lock(mu);
    run.Progress(line);
  };
  const std::string app_version = run.options.vars.count("APP_VERSION") ? run.options.vars.at("APP_VERSION") : "";
  auto build_one = [&](Job& job) {
    const std::string who = job.service + "/" + job.container;
    for (const auto& t : HumanTags(run.report.release_id, app_version, GitCommit(job.spec.context))) {
      job.tags.push_back(job.repository_uri + ":" + t);
    }
    build::BuildRequest request{job.spec.context, job.spec.dockerfile, job.spec.target, job.spec.args, job.platform, job.tags};
    auto built = build::RunStreamed(build::BuildArgv(*tool, request), {}, auth->path() + "/" + job.service + "-" + job.container + ".build.log",
                                    [&](const std::string& l) { say("  " + who + " | " + l); }, run.options.cancel);
    if (!built || built->status.code != 0) {
      job.error = "building " + who + " failed" +
                  (built ? (built->cancelled ? " (interrupted)" : " (" + std::string(build::ToolName(*tool)) + " exited " +
                                                                     std::to_string(built->status.code) + "); its last lines:" +
                                                                     LastLines(*built))
                         : ": " + built.error().message);
    }
  };
  auto push_one = [&](Job& job) {
    const std::string who = job.service + "/" + job.container;
    const auto ref = registry::ParseImageReference(job.tags.front());
    for (const auto& tag : job.tags) {
      build::PushRequest push{tag, auth->path(), auth->path() + "/" + job.service + "-" + job.container + ".digest", ref && ref->Loopback()};
      auto pushed = build::RunStreamed(build::PushArgv(*tool, push), build::PushEnv(*tool, push),
                                       auth->path() + "/" + job.service + "-" + job.container + ".push.log",
                                       [&](const std::string& l) { say("  " + who + " | " + l); }, run.options.cancel);
      if (!pushed || pushed->status.code != 0) {
        job.error = "pushing " + tag + " failed" +
                    (pushed ? (pushed->cancelled ? " (interrupted)" : "; its last lines:" + LastLines(*pushed))
                            : ": " + pushed.error().message);
        return;
      }
      if (job.digest.empty()) {
        std::ifstream in(push.digest_file);
        std::string digest;
        std::getline(in, digest);
        if (*tool == build::Tool::kDocker) digest = build::DigestFromDockerPush(pushed->output);
        job.digest = std::string(Trim(digest));
      }
    }
    if (!registry::IsSha256Digest(job.digest)) job.error = "pushing " + job.tags.front() + " reported no sha256 digest";
  };
  // At most one build per core: builders are CPU-bound. Every image is built before any is
  // pushed, so that a failed build pushes nothing.
  const size_t width = std::max<size_t>(1, std::min<size_t>(jobs.size(), std::thread::hardware_concurrency()));
  auto in_parallel = [&](const std::function<void(Job&)>& step) {
    std::atomic<size_t> next{0};
    std::vector<std::thread> workers;
    for (size_t i = 0; i < width; ++i) {
      workers.emplace_back([&] {
        for (size_t j; (j = next.fetch_add(1)) < jobs.size();) {
          if (jobs[j].error.empty()) step(jobs[j]);
        }
      });
    }
    for (auto& w : workers) w.join();
    for (const auto& job : jobs) {
      if (!job.error.empty()) return Result<void>(Fail(job.error));
    }
    return Result<void>();
  };
  SteadyTime since = run.clock.Now();
  if (auto built = in_parallel(build_one); !built) return built;
  run.Timed("build", since);
  since = run.clock.Now();
  if (auto pushed = in_parallel(push_one); !pushed) return pushed;
  run.Timed("push", since);
  for (const auto& job : jobs) {
    for (auto& d : definitions.at(job.service)["containerDefinitions"]) {
      if (d.value("name", "") == job.container) d["image"] = job.repository_uri + "@" + job.digest;
    }
    run.Progress("pushed " + job.service + "/" + job.container + ": " + job.repository_uri + "@" + job.digest);
  }
  return {};
}

}  // namespace slipway::deploy
