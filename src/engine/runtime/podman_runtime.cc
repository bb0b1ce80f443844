// PodmanRuntime: pulls on the host (registries listen there), pods and containers inside the task
// namespace, and conmon's pidfd to learn that a container ended.
#include "engine/runtime/podman_runtime.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
// glibc 2.36's header lacks the C-linkage block.
extern "C" {
#include <sys/pidfd.h>
}

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <csignal>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "base/child_process.h"
#include "base/strings.h"
#include "engine/runtime/supervisor_files.h"

namespace slipway::engine {

namespace fs = std::filesystem;

namespace {

constexpr size_t kTaskIdLength = 32;
/// Images whose facts (present, STOPSIGNAL) the runtime remembers, at most.
constexpr size_t kMaxCachedImages = 1024;

// What podman said went wrong: its error lines (logged ones first, which name the cause, then the
// final "Error: …"), bounded.
std::string LastLine(const std::string& output) {
  constexpr size_t kMaxMessage = 600;
  std::vector<std::string> messages;
  for (const auto& raw : Split(Trim(output), '\n')) {
    std::string line = Trim(raw);
    const size_t msg = line.find("level=error msg=\"");
    if (msg != std::string::npos) {
      line = line.substr(msg + 17);
      if (!line.empty() && line.back() == '"') line.pop_back();
      std::string unescaped;
      for (size_t i = 0; i < line.size(); ++i) {
        if (line[i] == '\\' && i + 1 < line.size()) ++i;
        unescaped += line[i];
      }
      line = Trim(unescaped);
      if (!line.empty() && line.front() == '"') line = Trim(line.substr(1, line.size() - 2));
      if (line == "Starting some container dependencies") continue;
    } else if (line.rfind("Error: ", 0) == 0) {
      line = line.substr(7);
    } else if (line.find("level=") != std::string::npos) {
      continue;  // podman's warnings and notices
    }
    if (!line.empty()) messages.push_back(line);
  }
  std::string text = messages.empty() ? "no output" : Join(messages, "; ");
  if (text.size() > kMaxMessage) text = text.substr(0, Utf8CutLength(text.substr(0, kMaxMessage))) + "…";
  return text;
}

// The registry part of an image reference ("127.0.0.1:5000/app@sha256:…" -> "127.0.0.1:5000"), or
// empty for a short name.
std::string RegistryOf(const std::string& image) {
  const size_t slash = image.find('/');
  if (slash == std::string::npos) return "";
  const std::string first = image.substr(0, slash);
  const bool host = first.find('.') != std::string::npos || first.find(':') != std::string::npos || first == "localhost";
  return host ? first : "";
}

bool IsLoopbackRegistry(const std::string& registry) {
  return registry.rfind("127.", 0) == 0 || registry.rfind("localhost", 0) == 0 || registry.rfind("[::1]", 0) == 0;
}

std::string JsonArray(const std::vector<std::string>& items) {
  return nlohmann::json(items).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Adds the engine's notes about a container to its log, as podman's k8s-file lines (conmon
// appends to the same file, a whole line per write).
void AppendLogNotes(const std::string& path, const std::vector<std::string>& notes) {
  if (notes.empty()) return;
  char stamp[64];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S.000000000+00:00", &tm);
  std::ofstream out(path, std::ios::app);
  for (const auto& note : notes) out << stamp << " stderr F slipway: " << note << "\n";
}

// Creates directory `path` (absolute) inside the root file system at `root`, as Docker creates a
// missing working directory. Every step resolves inside `root` (RESOLVE_IN_ROOT), so a symlink in
// a hostile image cannot lead the engine to create anything on the host.
Result<void> MakeDirsInRoot(const std::string& root, const std::string& path) {
  UniqueFd root_fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd.valid()) return Fail("open " + root + ": " + std::strerror(errno));
  std::string prefix;
  for (const auto& part : Split(path, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") return Fail("working directory " + path + " leaves the container");
    open_how how{};
    how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    const std::string parent = prefix.empty() ? "." : prefix;
    UniqueFd parent_fd(static_cast<int>(::syscall(SYS_openat2, root_fd.get(), parent.c_str(), &how, sizeof how)));
    if (!parent_fd.valid()) {
      return Fail("working directory " + path + ": /" + prefix + " cannot be opened inside the image (" +
                  std::strerror(errno) + "; a link that leads outside it resolves within it)");
    }
    if (::mkdirat(parent_fd.get(), part.c_str(), 0755) != 0 && errno != EEXIST) {
      return Fail("create " + path + " in the image: " + std::strerror(errno));
    }
    prefix += (prefix.empty() ? "" : "/") + part;
  }
  return {};
}

// The pid in a pid file (conmon's), or 0.
pid_t ReadPid(const std::string& path) {
  std::ifstream in(path);
  pid_t pid = 0;
  in >> pid;
  return pid;
}

bool Readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;
}

}  // namespace

PodmanRuntime::PodmanRuntime(TaskNetwork& network) : network_(network), janitor_(network.CgroupRoot()) {
  launches_.thread = std::thread([this] { Serve(launches_); });
  control_.thread = std::thread([this] { Serve(control_); });
}

PodmanRuntime::~PodmanRuntime() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  launches_.thread.join();
  control_.thread.join();
}

std::string PodmanRuntime::ContainerName(const std::string& task_id, const std::string& name) {
  return "sw-" + task_id + "-" + name;
}

std::string PodmanRuntime::PodName(const std::string& task_id) { return "sw-" + task_id; }

std::vector<std::string> PodmanRuntime::Podman(std::initializer_list<std::string> args) const {
  auto argv = network_.PodmanInside();
  argv.insert(argv.end(), args);
  return argv;
}

void PodmanRuntime::SetRegistryCredentials(const std::string& registry, const std::string& user,
                                           const std::string& password) {
  // An auth file rather than --creds: a password on a command line is readable in /proc.
  std::lock_guard lock(mu_);
  auth_file_ = fs::path(network_.Env().at("CONTAINERS_CONF")).parent_path().string() + "/auth.json";
  nlohmann::json auth{{"auths", {{registry, {{"auth", Base64Encode(user + ":" + password)}}}}}};
  std::ofstream out(auth_file_ + ".tmp", std::ios::trunc);
  out << auth.dump() << "\n";
  out.close();
  fs::permissions(auth_file_ + ".tmp", fs::perms::owner_read | fs::perms::owner_write);
  fs::rename(auth_file_ + ".tmp", auth_file_);
}

void PodmanRuntime::Post(Queue& q, std::function<void()> job) {
  {
    std::lock_guard lock(mu_);
    q.jobs.push_back(std::move(job));
  }
  cv_.notify_all();
}

void PodmanRuntime::Serve(Queue& q) {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !q.jobs.empty(); });
    if (q.jobs.empty()) return;  // stopping, and nothing left to do
    auto job = std::move(q.jobs.front());
    q.jobs.pop_front();
    lock.unlock();
    job();
    lock.lock();
  }
}

Result<void> PodmanRuntime::Start(const ContainerLaunch& launch) {
  if (launch.image.empty()) return Fail("container " + launch.name + " names no image");
  {
    std::lock_guard lock(mu_);
    auto& task = tasks_[launch.task_id];
    task.stopped = false;
    task.containers[launch.name] = Container{};
  }
  Post(launches_, [this, launch] { Launch(launch); });
  return {};
}

void PodmanRuntime::Launch(const ContainerLaunch& launch) {
  auto stopped = [&] {
    std::lock_guard lock(mu_);
    return tasks_[launch.task_id].stopped;
  };
  auto fail = [&](std::string reason) {
    std::lock_guard lock(mu_);
    auto& c = tasks_[launch.task_id].containers[launch.name];
    c.ended = true;
    ContainerExit exit{launch.task_id, launch.name, {}, false, std::move(reason), true};
    ended_.push_back(std::move(exit));
  };
  if (stopped()) return fail("CannotStartContainerError: the task was stopped before the container started");
  if (auto pulled = Pull(launch.image); !pulled) return fail(pulled.error().message);
  if (stopped()) return fail("CannotStartContainerError: the task was stopped before the container started");
  if (auto pod = CreatePod(launch); !pod) {
    return fail("ResourceInitializationError: failed to create the task's network: " + pod.error().message);
  }
  if (auto run = RunContainer(launch); !run) return fail("CannotStartContainerError: " + run.error().message);
  std::lock_guard lock(mu_);
  running_.push_back({launch.task_id, launch.name});
  if (tasks_[launch.task_id].stopped) {
    // Stopped while it was being created: it must not keep running. (mu_ is held: queue directly.)
    control_.jobs.push_back([this, name = ContainerName(launch.task_id, launch.name)] {
      (void)RunCommand(Podman({"kill", "--signal", "KILL", name}), network_.Env());
    });
    cv_.notify_all();
  }
}

bool IsImageReference(const std::string& image) {
  // ECS's rule (letters, digits, - _ : . / #) plus @ for digests; never a leading '-', which podman
  // would read as a flag.
  constexpr size_t kMaxImage = 512;
  if (image.empty() || image.size() > kMaxImage || !std::isalnum(static_cast<unsigned char>(image[0]))) return false;
  return std::all_of(image.begin(), image.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("-_:./#@", c) != nullptr;
  });
}

Result<void> PodmanRuntime::Pull(const std::string& image) {
  if (!IsImageReference(image)) {
    return Fail("CannotPullContainerError: invalid reference format: " + image.substr(0, 128));
  }
  const std::string registry = RegistryOf(image);
  const bool by_digest = image.find("@sha256:") != std::string::npos;
  {
    // A digest this engine has already pulled names the same bytes forever: no need to ask again.
    std::lock_guard lock(mu_);
    if (by_digest && present_.count(image)) return {};
  }
  auto exists = RunCommand(Podman({"image", "exists", image}), network_.Env());
  const bool cached = exists && exists->status.code == 0;
  // A digest names the same bytes forever, and a local image has nowhere to be pulled from; a tag
  // may have moved, so it is pulled (only what changed is fetched).
  if (cached && (by_digest || registry.empty() || registry == "localhost")) {
    std::lock_guard lock(mu_);
    if (by_digest && present_.size() < kMaxCachedImages) present_.insert(image);
    return {};
  }
  auto argv = network_.PodmanOnHost();
  argv.insert(argv.end(), {"pull", "--quiet"});
  if (IsLoopbackRegistry(registry)) argv.push_back("--tls-verify=false");
  {
    std::lock_guard lock(mu_);
    if (!auth_file_.empty()) argv.insert(argv.end(), {"--authfile", auth_file_});
  }
  argv.push_back(image);
  auto out = RunCommand(argv, network_.Env());
  if (out && out->status.code == 0) {
    std::lock_guard lock(mu_);
    if (by_digest && present_.size() < kMaxCachedImages) present_.insert(image);
    return {};
  }
  return Fail("CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref " +
              image + ": " + (out ? LastLine(out->output) : out.error().message));
}

Result<void> PodmanRuntime::CreatePod(const ContainerLaunch& launch) {
  auto argv = Podman({"pod", "create", "--name", PodName(launch.task_id), "--infra-name",
                      PodName(launch.task_id) + "-infra", "--label", "slipway.engine=" + network_.EngineId(),
                      "--label", "slipway.task=" + launch.task_id, "--network", network_.NetworkName()});
  if (!launch.task_ip.empty()) argv.insert(argv.end(), {"--ip", launch.task_ip});
  for (const auto& name : launch.load_balancer_names) {
    argv.push_back("--add-host=" + name + ":" + TaskNetwork::kGateway);
  }
  auto out = RunCommand(argv, network_.Env());
  if (!out) return tl::unexpected(out.error());
  // The pod outlives one container; the second container of a task finds it made.
  if (out->status.code != 0 && out->output.find("already exists") == std::string::npos) {
    return Fail(LastLine(out->output));
  }
  return {};
}

Result<void> PodmanRuntime::RunContainer(const ContainerLaunch& launch) {
  const std::string name = ContainerName(launch.task_id, launch.name);
  const std::string conmon_pidfile = launch.task_dir + "/" + launch.name + ".conmon";
  auto argv = Podman({"run", "-d", "--pod", PodName(launch.task_id), "--name", name, "--cgroup-parent",
                      CgroupParent(launch.task_id), "--label",
                      "slipway.engine=" + network_.EngineId(), "--label", "slipway.task=" + launch.task_id,
                      "--label", "slipway.container=" + launch.name, "--conmon-pidfile", conmon_pidfile,
                      "--log-driver", "k8s-file", "--log-opt", "path=" + LogPath(launch.task_dir, launch.name),
                      "--stop-timeout", std::to_string(launch.stop_timeout_seconds)});
  if (launch.memory_limit_bytes > 0) {
    const std::string bytes = std::to_string(launch.memory_limit_bytes);
    argv.insert(argv.end(), {"--memory", bytes, "--memory-swap", bytes});
  }
  if (launch.entry_point && !launch.entry_point->empty()) {
    argv.push_back("--entrypoint=" + JsonArray(*launch.entry_point));
  }
  // Values from a task definition always go as --flag=value: one that starts with '-' must never
  // be read as a flag of podman's.
  if (!launch.cwd.empty()) argv.push_back("--workdir=" + launch.cwd);
  if (!launch.user.empty()) argv.push_back("--user=" + launch.user);
  if (launch.read_only_root) argv.push_back("--read-only");
  if (launch.init) argv.push_back("--init");
  // podman needs nofile and nproc both, within the host's hard limits: what the task asks past
  // them is lowered, and the task's log says so.
  std::vector<Ulimit> wanted;
  for (const auto& u : launch.ulimits) {
    const size_t eq = u.find('='), colon = u.find(':');
    if (eq == std::string::npos || colon == std::string::npos) continue;
    wanted.push_back({u.substr(0, eq), std::atoll(u.c_str() + eq + 1), std::atoll(u.c_str() + colon + 1)});
  }
  std::vector<std::string> warnings;
  for (const auto& u : ContainerUlimits(wanted, &warnings)) argv.push_back("--ulimit=" + u);
  if (launch.health_command.size() >= 2) {
    // Checks run when the engine asks (podman's own schedule needs systemd).
    // podman takes CMD as a JSON array of the arguments alone, and CMD-SHELL as the shell string.
    std::vector<std::string> args(launch.health_command.begin() + 1, launch.health_command.end());
    argv.push_back("--health-cmd=" + (launch.health_command[0] == "CMD-SHELL" ? args[0] : JsonArray(args)));
    argv.insert(argv.end(), {"--health-interval", "disable"});
  }
  // Values travel in podman's environment, never on its command line: `--env NAME` copies one.
  std::map<std::string, std::string> env = network_.Env();
  for (const auto& [k, v] : launch.env) {
    if (k.empty() || k.find('=') != std::string::npos) continue;
    argv.push_back("--env=" + k);
    env[k] = v;
  }
  argv.push_back(launch.image);
  if (launch.command) argv.insert(argv.end(), launch.command->begin(), launch.command->end());
  std::error_code ec;
  fs::create_directories(launch.task_dir, ec);
  auto fail = [&](const std::string& why) {
    (void)RunCommand(Podman({"rm", "-f", name}), network_.Env());
    return Fail(why);
  };
  if (!launch.cwd.empty()) {
    // podman refuses a --workdir the image lacks; Docker (and so ECS) creates it. Create the
    // container, make the directory in its file system, then start it.
    auto run = std::find(argv.begin(), argv.end(), "run");
    *run = "create";
    argv.erase(std::next(run));  // -d
    auto created = RunCommand(argv, env);
    if (!created) return tl::unexpected(created.error());
    if (created->status.code != 0) return fail(LastLine(created->output));
    // Mounted in the engine's own mount namespace (the host's), where this process can reach it.
    auto on_host = [&](const std::string& verb) {
      auto argv = network_.PodmanOnHost();
      argv.insert(argv.end(), {verb, name});
      return RunCommand(argv, network_.Env());
    };
    auto mounted = on_host("mount");
    if (!mounted || mounted->status.code != 0) return fail("mount: " + (mounted ? LastLine(mounted->output) : ""));
    auto made = MakeDirsInRoot(Trim(mounted->output), launch.cwd);
    (void)on_host("unmount");
    if (!made) return fail(made.error().message);
    argv = Podman({"start", name});
  }
  auto out = RunCommand(argv, env);
  if (!out) return tl::unexpected(out.error());
  if (out->status.code != 0) return fail(LastLine(out->output));
  AppendLogNotes(LogPath(launch.task_dir, launch.name), warnings);
  const pid_t pid = ReadPid(conmon_pidfile);
  UniqueFd conmon(pid > 0 ? ::pidfd_open(pid, 0) : -1);
  if (!conmon.valid()) return Fail("conmon of " + name + " is not running");
  // The image's STOPSIGNAL, read once per image.
  std::string stop_signal;
  {
    std::lock_guard lock(mu_);
    if (auto it = stop_signals_.find(launch.image); it != stop_signals_.end()) stop_signal = it->second;
  }
  if (stop_signal.empty()) stop_signal = ReadStopSignal(name);
  std::lock_guard lock(mu_);
  auto& c = tasks_[launch.task_id].containers[launch.name];
  c.conmon = std::move(conmon);
  if (!stop_signal.empty()) {
    c.stop_signal = stop_signal;
    if (stop_signals_.size() < kMaxCachedImages) stop_signals_[launch.image] = stop_signal;
  }
  return {};
}

std::string PodmanRuntime::ReadStopSignal(const std::string& container) const {
  auto read = RunCommand(Podman({"inspect", "--format", "{{.Config.StopSignal}}", container}), network_.Env());
  return read && read->status.code == 0 ? Trim(read->output) : "";
}

std::vector<ContainerRunning> PodmanRuntime::Running() {
  std::lock_guard lock(mu_);
  return std::exchange(running_, {});
}

std::vector<ContainerExit> PodmanRuntime::Reap() {
  // A task's conmon may still have been leaving its cgroup as the pod went.
  janitor_.Retry(std::chrono::steady_clock::now());
  std::lock_guard lock(mu_);
  for (auto& [task_id, task] : tasks_) {
    for (auto& [name, c] : task.containers) {
      if (!c.conmon.valid() || c.ending || c.ended || !Readable(c.conmon.get())) continue;
      c.ending = true;
      control_.jobs.push_back([this, task_id = task_id, name = name] { ReadExit(task_id, name); });
    }
  }
  cv_.notify_all();
  return std::exchange(ended_, {});
}

void PodmanRuntime::ReadExit(const std::string& task_id, const std::string& name) {
  auto out = RunCommand(Podman({"inspect", "--format", "{{.State.ExitCode}} {{.State.OOMKilled}} {{.Id}}",
                                ContainerName(task_id, name)}),
                        network_.Env());
  ContainerExit exit{task_id, name, {137, 0}, false, "", false};
  if (out && out->status.code == 0) {
    auto fields = Split(Trim(out->output), ' ');
    exit.status.code = std::atoi(fields[0].c_str());
    exit.out_of_memory = fields.size() > 1 && fields[1] == "true";
    // conmon misses OOM kills on hybrid cgroups; the kernel's count in the container's own memory
    // cgroup (kept until the container is removed) does not.
    if (fields.size() > 2) exit.out_of_memory = exit.out_of_memory || OomKilled(task_id, fields[2]);
  } else {
    exit.reason = "the container was removed while it ran";
  }
  std::lock_guard lock(mu_);
  auto& c = tasks_[task_id].containers[name];
  c.ended = true;
  c.conmon.Reset();
  ended_.push_back(std::move(exit));
}

std::string PodmanRuntime::CgroupParent(const std::string& task_id) const {
  return "/slipway-podman-" + network_.EngineId() + "/" + task_id;
}

std::map<std::string, ResourceUse> PodmanRuntime::Usage(const std::set<std::string>& task_ids) const {
  std::map<std::string, ResourceUse> out;
  std::error_code ec;
  const bool v2 = std::filesystem::exists("/sys/fs/cgroup/cgroup.controllers", ec);
  for (const auto& id : task_ids) {
    const std::string dir = CgroupParent(id);
    auto cpu = v2 ? CpuSecondsV2("/sys/fs/cgroup" + dir) : CpuSecondsV1("/sys/fs/cgroup/cpuacct" + dir);
    auto memory = v2 ? MemoryBytesV2("/sys/fs/cgroup" + dir) : MemoryBytesV1("/sys/fs/cgroup/memory" + dir);
    if (cpu && memory) out[id] = {*cpu, *memory};
  }
  return out;
}

bool PodmanRuntime::OomKilled(const std::string& task_id, const std::string& container_id) const {
  const std::string dir = CgroupParent(task_id) + "/libpod-" + container_id;
  auto count = [](const std::string& path) {
    std::ifstream in(path);
    std::string key;
    long long value = 0;
    while (in >> key >> value) {
      if (key == "oom_kill") return value;
    }
    return 0LL;
  };
  return count("/sys/fs/cgroup/memory" + dir + "/memory.oom_control") > 0 ||
         count("/sys/fs/cgroup" + dir + "/memory.events") > 0;
}

int PodmanRuntime::RemoveLeftoverCgroups(const std::set<std::string>& live_task_ids) {
  return janitor_.RemoveLeftovers([&live_task_ids](const std::string& name) { return live_task_ids.count(name) > 0; },
                                  std::chrono::steady_clock::now());
}

void PodmanRuntime::ListContainers() {
  listed_ = true;
  // podman may fail for a moment (a lock held by another podman); a failed listing must not make
  // containers look gone.
  Result<CommandOutput> out = Fail("not run");
  for (int attempt = 0; attempt < 5 && !(out && out->status.code == 0); ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    out = RunCommand(Podman({"ps", "-a", "--filter", "label=slipway.engine=" + network_.EngineId(), "--format",
                             "{{.Names}} {{.State}} {{.ExitCode}}"}),
                     network_.Env());
  }
  if (!out || out->status.code != 0) {
    std::fprintf(stderr, "slipway engine: listing the task containers: %s\n",
                 out ? LastLine(out->output).c_str() : out.error().message.c_str());
    return;
  }
  for (const auto& line : Split(out->output, '\n')) {
    auto fields = Split(Trim(line), ' ');
    if (fields.size() < 3 || fields[0].rfind("sw-", 0) != 0 || fields[0].size() < 4 + kTaskIdLength + 1) continue;
    const std::string task_id = fields[0].substr(3, kTaskIdLength);
    const std::string name = fields[0].substr(3 + kTaskIdLength + 1);
    found_[task_id + "/" + name] = Found{fields[1], std::atoi(fields[2].c_str())};
  }
}

Adoption PodmanRuntime::Adopt(const std::string& task_id, const std::string& name, const std::string& task_dir) {
  std::lock_guard lock(mu_);
  auto& c = tasks_[task_id].containers[name];
  // A running container's conmon is the proof: its pid file, and its command line naming the
  // container (so a reused pid is not taken for it). This needs no podman call, which may fail.
  const pid_t pid = ReadPid(task_dir + "/" + name + ".conmon");
  if (pid > 0) {
    c.conmon.Reset(::pidfd_open(pid, 0));
    std::ifstream cmdline("/proc/" + std::to_string(pid) + "/cmdline");
    const std::string args((std::istreambuf_iterator<char>(cmdline)), {});
    if (c.conmon.valid() && args.find(std::string("-n") + '\0' + ContainerName(task_id, name) + '\0') != std::string::npos) {
      if (std::string signal = ReadStopSignal(ContainerName(task_id, name)); !signal.empty()) c.stop_signal = signal;
      return Adoption::kAdopted;
    }
    c.conmon.Reset();
  }
  if (!listed_) ListContainers();
  auto it = found_.find(task_id + "/" + name);
  if (it == found_.end()) {
    tasks_[task_id].containers.erase(name);
    return Adoption::kNotStarted;
  }
  if (it->second.state == "created") {
    // Created but never started: start afresh.
    (void)RunCommand(Podman({"rm", "-f", ContainerName(task_id, name)}), network_.Env());
    tasks_[task_id].containers.erase(name);
    return Adoption::kNotStarted;
  }
  c.ending = true;
  control_.jobs.push_back([this, task_id, name] { ReadExit(task_id, name); });
  cv_.notify_all();
  return Adoption::kEnded;
}

void PodmanRuntime::Signal(const std::string& task_id, int sig) {
  std::lock_guard lock(mu_);
  auto it = tasks_.find(task_id);
  if (it == tasks_.end()) return;
  if (sig == SIGKILL) it->second.stopped = true;
  for (const auto& [name, c] : it->second.containers) QueueKill(task_id, name, c, sig);
  cv_.notify_all();
}

void PodmanRuntime::SignalContainer(const std::string& task_id, const std::string& name, int sig) {
  std::lock_guard lock(mu_);
  auto it = tasks_.find(task_id);
  if (it == tasks_.end()) return;
  auto c = it->second.containers.find(name);
  if (c == it->second.containers.end()) return;
  QueueKill(task_id, name, c->second, sig);
  cv_.notify_all();
}

void PodmanRuntime::CancelStarts(const std::string& task_id) {
  std::lock_guard lock(mu_);
  auto it = tasks_.find(task_id);
  if (it != tasks_.end()) it->second.stopped = true;
}

void PodmanRuntime::QueueKill(const std::string& task_id, const std::string& name, const Container& c, int sig) {
  if (!c.conmon.valid() || c.ended) return;
  // SIGTERM stands for "stop": the image's STOPSIGNAL, as `podman stop` sends it. The engine
  // sends SIGKILL itself once the container's stopTimeout has passed.
  const std::string signal = sig == SIGTERM ? c.stop_signal : std::to_string(sig);
  auto argv = Podman({"kill", "--signal", signal, ContainerName(task_id, name)});
  control_.jobs.push_back([this, argv] { (void)RunCommand(argv, network_.Env()); });
}

void PodmanRuntime::Release(const std::string& task_id) {
  std::lock_guard lock(mu_);
  if (tasks_.erase(task_id) == 0) return;
  control_.jobs.push_back([this, task_id] {
    (void)RunCommand(Podman({"pod", "rm", "-f", "-t", "0", PodName(task_id)}), network_.Env());
    janitor_.Remove(task_id, std::chrono::steady_clock::now());
  });
  cv_.notify_all();
}

std::vector<std::string> PodmanRuntime::HealthCheckArgv(const std::string& task_id, const std::string& name) const {
  return Podman({"healthcheck", "run", ContainerName(task_id, name)});
}

std::string PodmanRuntime::MemoryEnforcement() const {
  return "podman --memory (the kernel's cgroup limit; an OOM kill shows OutOfMemoryError)";
}

}  // namespace slipway::engine
