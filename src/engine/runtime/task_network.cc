// Sets up and takes down the engine's task namespace and its podman network.
#include "engine/runtime/task_network.h"

#include <sys/mount.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "base/child_process.h"
#include "base/strings.h"

namespace slipway::engine {

namespace fs = std::filesystem;

namespace {

// Fargate's nofile limit; podman needs nofile and nproc both, each at most the host's hard limit.
constexpr rlim_t kFargateNofile = 65535;

bool IsMountPoint(const std::string& path) {
  std::error_code ec;
  const std::string target = fs::weakly_canonical(path, ec).string();
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, mount_point;
    fields >> id >> parent >> dev >> root >> mount_point;
    if (mount_point == target) return true;
  }
  return false;
}

Result<void> WriteFileAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    if (!out.flush()) return Fail("write " + tmp);
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return Fail("rename " + tmp + ": " + ec.message());
  return {};
}

Result<std::string> ReadOrCreateId(const std::string& path) {
  std::ifstream in(path);
  std::string id;
  if (in >> id && id.size() == 8 && id.find_first_not_of("0123456789abcdef") == std::string::npos) return id;
  id = RandomHex(8);
  if (auto w = WriteFileAtomically(path, id + "\n"); !w) return tl::unexpected(w.error());
  return id;
}

Result<void> Run(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env) {
  auto out = RunCommand(argv, env);
  if (!out) return tl::unexpected(out.error());
  if (out->status.code != 0) {
    return Fail(Join(argv, " ") + " failed (exit " + std::to_string(out->status.code) +
                "): " + Trim(out->output));
  }
  return {};
}

// Processes whose command line contains `text`.
int ProcessesMentioning(const std::string& text) {
  int n = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string pid = entry.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "cmdline");
    const std::string cmdline((std::istreambuf_iterator<char>(in)), {});
    if (cmdline.find(text) != std::string::npos) ++n;
  }
  return n;
}

}  // namespace

std::vector<std::string> DefaultUlimits() {
  struct rlimit nofile {}, nproc {};
  ::getrlimit(RLIMIT_NOFILE, &nofile);
  ::getrlimit(RLIMIT_NPROC, &nproc);
  const rlim_t files = std::min(kFargateNofile, nofile.rlim_max);
  // runc refuses an nproc limit above the kernel's pid_max (observed: 32768 runs, 32769 does not).
  rlim_t pid_max = kFargateNofile;
  std::ifstream("/proc/sys/kernel/pid_max") >> pid_max;
  const rlim_t procs = std::min({kFargateNofile, nproc.rlim_max, pid_max});
  return {"nofile=" + std::to_string(files) + ":" + std::to_string(files),
          "nproc=" + std::to_string(procs) + ":" + std::to_string(procs)};
}

std::vector<std::string> ContainerUlimits(const std::vector<Ulimit>& wanted, std::vector<std::string>* warnings) {
  static const std::map<std::string, int> kResources = {
      {"core", RLIMIT_CORE},       {"cpu", RLIMIT_CPU},         {"data", RLIMIT_DATA},
      {"fsize", RLIMIT_FSIZE},     {"locks", RLIMIT_LOCKS},     {"memlock", RLIMIT_MEMLOCK},
      {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},     {"nofile", RLIMIT_NOFILE},
      {"nproc", RLIMIT_NPROC},     {"rss", RLIMIT_RSS},         {"rtprio", RLIMIT_RTPRIO},
      {"rttime", RLIMIT_RTTIME},   {"sigpending", RLIMIT_SIGPENDING}, {"stack", RLIMIT_STACK}};
  std::map<std::string, std::string> out;
  for (const auto& d : DefaultUlimits()) out[d.substr(0, d.find('='))] = d;
  for (const auto& u : wanted) {
    auto resource = kResources.find(u.name);
    if (resource == kResources.end()) {
      warnings->push_back("ulimit " + u.name + " is not one Linux knows; ignored");
      continue;
    }
    struct rlimit host {};
    ::getrlimit(resource->second, &host);
    unsigned long long limit = host.rlim_max;
    if (u.name == "nproc" || u.name == "nofile") {
      // What podman itself accepts here (DefaultUlimits applies the same bounds).
      const std::string d = out[u.name];
      limit = std::min<unsigned long long>(limit, std::stoull(d.substr(d.find(':') + 1)));
    }
    const auto soft = static_cast<unsigned long long>(std::max(0LL, u.soft));
    const auto hard = static_cast<unsigned long long>(std::max(0LL, u.hard));
    const unsigned long long new_hard = std::min(hard, limit), new_soft = std::min(soft, new_hard);
    if (new_hard != hard || new_soft != soft) {
      warnings->push_back("ulimit " + u.name + " " + std::to_string(soft) + ":" + std::to_string(hard) +
                          " lowered to " + std::to_string(new_soft) + ":" + std::to_string(new_hard) +
                          ", this host's hard limit");
    }
    out[u.name] = u.name + "=" + std::to_string(new_soft) + ":" + std::to_string(new_hard);
  }
  std::vector<std::string> result;
  for (const auto& [name, value] : out) result.push_back(value);
  return result;
}

Result<std::string> DataDirEngineId(const std::string& data_dir) {
  std::error_code ec;
  fs::create_directories(data_dir + "/podman", ec);
  if (ec) return Fail("create " + data_dir + "/podman: " + ec.message());
  return ReadOrCreateId(data_dir + "/podman/engine-id");
}

Result<std::unique_ptr<TaskNetwork>> TaskNetwork::Open(const std::string& data_dir) {
  std::unique_ptr<TaskNetwork> n(new TaskNetwork);
  n->dir_ = fs::absolute(data_dir + "/podman").string();
  const std::string ns_dir = n->dir_ + "/ns";
  std::error_code ec;
  fs::create_directories(ns_dir, ec);
  fs::create_directories(n->dir_ + "/networks", ec);
  if (ec) return Fail("create " + ns_dir + ": " + ec.message());
  auto id = DataDirEngineId(data_dir);
  if (!id) return tl::unexpected(id.error());
  n->engine_id_ = *id;
  n->network_ = "slipway-" + *id;

  // A namespace file can be pinned only on a mount whose propagation is private.
  if (!IsMountPoint(ns_dir)) {
    if (::mount(ns_dir.c_str(), ns_dir.c_str(), nullptr, MS_BIND, nullptr) != 0 ||
        ::mount(nullptr, ns_dir.c_str(), nullptr, MS_PRIVATE, nullptr) != 0) {
      return Fail("bind-mount " + ns_dir + ": " + std::strerror(errno));
    }
  }
  const std::string net = ns_dir + "/net", mnt = ns_dir + "/mnt";
  if (!IsPinnedNamespace(net) || !IsPinnedNamespace(mnt)) {
    for (const auto& f : {net, mnt}) {
      ::umount2(f.c_str(), MNT_DETACH);
      std::ofstream touch(f);
    }
    if (auto r = Run({"unshare", "--net=" + net, "--mount=" + mnt, "--propagation", "private", "true"}, {}); !r) {
      return Fail("create the task namespace: " + r.error().message);
    }
  }
  auto ns = NetNamespace::Open(net);
  if (!ns) return tl::unexpected(ns.error());
  n->ns_ = std::move(*ns);
  if (auto up = n->ns_.LoopbackUp(); !up) return tl::unexpected(up.error());

  std::string ulimits;
  for (const auto& u : DefaultUlimits()) ulimits += (ulimits.empty() ? "\"" : ", \"") + u + "\"";
  const std::string conf = "# Written by the slipway engine on every start.\n"
                           "[containers]\ndefault_ulimits = [" + ulimits + "]\n"
                           "[engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n"
                           // The engine's containers live in a database of their own, so podman on the
                           // host neither lists them nor trips over their namespaces; images are shared.
                           "static_dir = \"" + n->dir_ + "/libpod\"\ntmp_dir = \"" + n->RunDir() + "\"\n"
                           "events_logfile_path = \"" + n->dir_ + "/events.log\"\nruntime = \"runc\"\n"
                           "[network]\nnetwork_backend = \"netavark\"\nnetwork_config_dir = \"" + n->dir_ + "/networks\"\n";
  if (auto w = WriteFileAtomically(n->dir_ + "/containers.conf", conf); !w) return tl::unexpected(w.error());

  if (!fs::exists(n->dir_ + "/networks/" + n->network_ + ".json")) {
    auto argv = n->PodmanInside();
    argv.insert(argv.end(), {"network", "create", "--subnet", kSubnet, "--gateway", kGateway, "--disable-dns",
                             "--label", "slipway.engine=" + n->engine_id_, n->network_});
    if (auto r = Run(argv, n->Env()); !r) return Fail("create the task network: " + r.error().message);
  }
  return n;
}

std::vector<std::string> TaskNetwork::PodmanInside() const {
  return {"nsenter", "--net=" + dir_ + "/ns/net", "--mount=" + dir_ + "/ns/mnt", "podman"};
}

std::vector<std::string> TaskNetwork::PodmanOnHost() const { return {"podman"}; }

std::string TaskNetwork::RunDir() const { return "/run/slipway-podman-" + engine_id_; }

std::map<std::string, std::string> TaskNetwork::Env() const {
  return {{"CONTAINERS_CONF", dir_ + "/containers.conf"}};
}

Result<void> TaskNetwork::Remove() {
  Result<void> first;
  auto note = [&first](Result<void> r) {
    if (!r && first) first = std::move(r);
  };
  auto pods = PodmanInside();
  pods.insert(pods.end(), {"pod", "ps", "-q", "--filter", "label=slipway.engine=" + engine_id_});
  if (auto out = RunCommand(pods, Env()); out && out->status.code == 0) {
    for (const auto& pod : Split(Trim(out->output), '\n')) {
      if (pod.empty()) continue;
      auto rm = PodmanInside();
      rm.insert(rm.end(), {"pod", "rm", "-f", "-t", "0", std::string(pod)});
      note(Run(rm, Env()));
    }
  }
  auto rm = PodmanInside();
  rm.insert(rm.end(), {"network", "rm", "-f", network_});
  note(Run(rm, Env()));
  ns_ = NetNamespace();
  const std::string ns_dir = dir_ + "/ns";
  for (const auto& f : {ns_dir + "/net", ns_dir + "/mnt", ns_dir}) {
    if (::umount2(f.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
      note(Fail("unmount " + f + ": " + std::strerror(errno)));
    }
  }
  std::error_code ec;
  fs::remove_all(ns_dir, ec);
  // conmon runs `podman container cleanup` after a container ends, and that recreates podman's
  // run-time directory: wait for those (bounded) before removing it for good.
  for (int i = 0; i < 50 && ProcessesMentioning(RunDir()) > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  fs::remove_all(RunDir(), ec);
  // podman leaves the cgroups of a container's parent (the task's, the engine's), and a task's
  // own may have outlived its conmon's last moments: every one of them goes now.
  if (!RemoveCgroupTree(CgroupRoot())) note(Fail("some cgroups under " + CgroupRoot() + " are still in use"));
  return first;
}

}  // namespace slipway::engine
