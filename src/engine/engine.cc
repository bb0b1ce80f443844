// Wires the engine together: store, runtime, proxy, control plane, API server, reconciler loop,
// and the control socket through which a planned restart hands everything to a new process.
#include "engine/engine.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "aws/credentials.h"
#include "base/proc.h"
#include "base/strings.h"
#include "base/unix_socket.h"
#include "engine/api.h"
#include "engine/console/console.h"
#include "engine/console/console_metrics.h"
#include "engine/handoff.h"
#include "engine/http_server.h"
#include "engine/metrics/cloudwatch_api.h"
#include "engine/metrics/collector.h"
#include "engine/proxy.h"
#include "engine/registry/ecr_api.h"
#include "engine/runtime/podman_runtime.h"
#include "engine/runtime/task_network.h"

namespace slipway::engine {

namespace fs = std::filesystem;

namespace {
constexpr Millis kTickInterval{100};
constexpr Millis kLogSweepInterval{60'000};
constexpr Millis kShutdownGrace{10'000};
constexpr int kIoThreads = 2;  ///< the API server's; the proxy runs its own loops
/// How long a handed-over engine keeps finishing its connections' requests.
constexpr Millis kWindDownLimit{10'000};
}  // namespace

int DefaultMaxTasks() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  const long long memory_mib = pages > 0 && page > 0 ? static_cast<long long>(pages) * page / (1 << 20) : 4096;
  const long cores = std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN));
  return static_cast<int>(std::clamp<long long>(std::min<long long>(memory_mib / 64, cores * 64), 8, 1024));
}

Result<void> MakePrivate(const std::string& data_dir) {
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (ec) return Fail("create data dir " + data_dir + ": " + ec.message());
  if (::chmod(data_dir.c_str(), 0700) != 0) return Fail("chmod " + data_dir + ": " + std::strerror(errno));
  for (auto it = fs::recursive_directory_iterator(data_dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    const auto type = it->symlink_status(ec).type();
    if (type == fs::file_type::directory) ::chmod(it->path().c_str(), 0700);
    if (type == fs::file_type::regular) ::chmod(it->path().c_str(), 0600);
  }
  return {};
}

Result<aws::Credentials> EnsureCredentials(const std::string& data_dir) {
  if (auto p = MakePrivate(data_dir); !p) return tl::unexpected(p.error());
  const std::string path = data_dir + "/credentials";
  if (fs::exists(path)) return aws::LoadCredentialsFile(path, kProfile);
  aws::Credentials creds{"AKIA" + RandomFrom("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16),
                         RandomFrom("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40), ""};
  if (auto w = aws::WriteCredentialsFile(path, kProfile, creds); !w) return tl::unexpected(w.error());
  return creds;
}

Result<EngineInfo> ReadEngineInfo(const std::string& data_dir) {
  std::ifstream in(data_dir + "/engine.json");
  if (!in) return Fail("no engine has run with data dir " + data_dir);
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = nlohmann::json::parse(ss.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Fail(data_dir + "/engine.json is not JSON");
  EngineInfo info;
  info.pid = j.value("pid", 0);
  info.start_time = j.value("startTime", 0ULL);
  info.endpoint = j.value("endpoint", "");
  info.credentials_file = j.value("credentialsFile", "");
  info.profile = j.value("profile", kProfile);
  info.region = j.value("region", kDefaultRegion);
  info.max_tasks = j.value("maxTasks", 0);
  info.runtime = j.value("runtime", "exec");
  info.memory_limits = j.value("memoryLimits", "");
  info.ready_ms = j.value("readyMillis", 0L);
  return info;
}

std::string EngineLogTail(const std::string& data_dir, size_t lines) {
  std::ifstream in(data_dir + "/engine.log");
  std::vector<std::string> all;
  std::string line;
  while (std::getline(in, line)) all.push_back(line);
  std::string out;
  for (size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) out += "  | " + all[i] + "\n";
  return out;
}

bool EngineAlive(const EngineInfo& info) {
  const unsigned long long start = ProcessStartTime(info.pid);
  return start != 0 && (info.start_time == 0 || start == info.start_time);
}

namespace {

Result<void> WriteEngineInfo(const std::string& data_dir, const EngineInfo& info) {
  nlohmann::json j{{"pid", info.pid},           {"startTime", info.start_time},
                   {"endpoint", info.endpoint}, {"credentialsFile", info.credentials_file},
                   {"profile", info.profile},   {"region", info.region},
                   {"maxTasks", info.max_tasks}, {"memoryLimits", info.memory_limits},
                   {"runtime", info.runtime},
                   {"readyMillis", info.ready_ms}};
  std::string tmp = data_dir + "/engine.json.tmp";
  {
    std::ofstream out(tmp);
    out << j.dump(2) << "\n";
    if (!out) return Fail("write " + tmp);
  }
  std::error_code ec;
  fs::rename(tmp, data_dir + "/engine.json", ec);
  if (ec) return Fail("write engine.json: " + ec.message());
  return {};
}

std::map<std::string, std::string> BaseEnv() {
  std::map<std::string, std::string> env;
  for (const char* name : {"PATH", "LANG", "TZ"}) {
    if (const char* v = std::getenv(name)) env[name] = v;
  }
  if (!env.count("PATH")) env["PATH"] = "/usr/local/bin:/usr/bin:/bin";
  return env;
}

// A task per descriptor at least, and the proxy's connections besides.
void RaiseDescriptorLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// Descriptors 3, 4, … by the name the old engine gave each ("api" or a listener port).
std::map<std::string, UniqueFd> InheritedSockets(const std::vector<std::string>& names) {
  std::map<std::string, UniqueFd> out;
  for (size_t i = 0; i < names.size(); ++i) out[names[i]] = UniqueFd(3 + static_cast<int>(i));
  return out;
}

}  // namespace

namespace {

struct ChosenRuntime {
  std::string name;
  std::unique_ptr<TaskNetwork> network;  ///< podman's task network; null for exec
  std::unique_ptr<TaskRuntime> runtime;
};

// Whether podman can run tasks here: the tools exist, and the task network can be made.
Result<ChosenRuntime> TryPodman(const std::string& data_dir) {
  for (const char* tool : {"podman", "runc", "nsenter", "unshare"}) {
    auto found = RunCommand({"sh", "-c", std::string("command -v ") + tool});
    if (!found || found->status.code != 0) return Fail(std::string(tool) + " is not installed (scripts/install-deps.sh installs it)");
  }
  if (::geteuid() != 0) return Fail("the container runtime needs root (rootful podman)");
  auto network = TaskNetwork::Open(data_dir);
  if (!network) return tl::unexpected(network.error());
  ChosenRuntime c{"podman", std::move(*network), nullptr};
  c.runtime = std::make_unique<PodmanRuntime>(*c.network);
  return c;
}

Result<ChosenRuntime> ChooseRuntime(const EngineOptions& options) {
  if (options.runtime == "podman" || options.runtime == "auto") {
    auto podman = TryPodman(options.data_dir);
    if (podman || options.runtime == "podman") {
      if (!podman) return Fail("the podman runtime cannot run here: " + podman.error().message);
      return podman;
    }
    std::fprintf(stderr, "slipway engine: podman cannot run here (%s); tasks run with the exec runtime\n",
                 podman.error().message.c_str());
  } else if (options.runtime != "exec") {
    return Fail("unknown runtime '" + options.runtime + "': want podman, exec or auto");
  }
  // The exec runtime's cgroup is the data dir's, so that engines on other data dirs never touch it.
  auto id = DataDirEngineId(options.data_dir);
  if (!id) return tl::unexpected(id.error());
  auto exec = std::make_unique<ExecRuntime>(true, "", "slipway-exec-" + *id);
  if (int removed = exec->RemoveStaleCgroups(); removed > 0) {
    std::fprintf(stderr, "slipway engine: removed %d empty cgroups that stopped engines left\n", removed);
  }
  return ChosenRuntime{"exec", nullptr, std::move(exec)};
}

}  // namespace

Result<void> RunEngine(const EngineOptions& options) {
  const SteadyTime began = std::chrono::steady_clock::now();
  ::umask(077);  // everything the engine writes in its data dir is private
  ::signal(SIGPIPE, SIG_IGN);
  RaiseDescriptorLimit();
  auto inherited = InheritedSockets(options.inherited_sockets);
  auto creds = EnsureCredentials(options.data_dir);
  if (!creds) return tl::unexpected(creds.error());
  auto store = Store::Open(options.data_dir + "/engine.db");
  if (!store) return tl::unexpected(store.error());
  auto logs = LogService::Open(options.data_dir + "/logs.db", options.region);
  if (!logs) return tl::unexpected(logs.error());
  auto dashboards = DashboardStore::Open(options.data_dir + "/cloudwatch.db");
  if (!dashboards) return tl::unexpected(dashboards.error());
  MetricStore metrics;
  RequestMeter meter;
  CloudWatchService cloudwatch(**dashboards, metrics);

  // The image registry: started here, or adopted from the engine this one replaces (or that died).
  // Without docker-registry the engine serves on, and ECR requests say what to install.
  const auto env = BaseEnv();
  std::unique_ptr<Registry> registry = Registry::Open({.data_dir = options.data_dir, .path = env.at("PATH")});
  if (auto up = registry->Available(); !up) std::fprintf(stderr, "slipway engine: %s\n", up.error().message.c_str());
  auto ecr = EcrService::Open(options.data_dir + "/ecr.db", *registry, options.region, kAccount);
  if (!ecr) return tl::unexpected(ecr.error());

  boost::asio::io_context io;
  RealClock clock;
  // Secret and parameter values are sealed under secrets.key; secrets.db never holds them in clear.
  auto secrets = SecretStore::Open(options.data_dir + "/secrets.db", options.data_dir + "/secrets.key",
                                   options.region, clock);
  if (!secrets) return tl::unexpected(secrets.error());
  auto chosen = ChooseRuntime(options);
  if (!chosen) return tl::unexpected(chosen.error());
  TaskRuntime& runtime = *chosen->runtime;
  if (auto* podman = dynamic_cast<PodmanRuntime*>(&runtime); podman && registry->Available()) {
    // Tasks pull from the engine's ECR with its one stable password, as ECS pulls with the task's
    // execution role.
    podman->SetRegistryCredentials(registry->Endpoint(), "AWS", registry->Password());
  }
  ProxyOptions proxy_options;
  proxy_options.meter = &meter;
  if (options.proxy_header_timeout_s > 0) proxy_options.header_timeout_ms = options.proxy_header_timeout_s * 1000;
  if (options.proxy_idle_timeout_s > 0) proxy_options.idle_timeout_ms = options.proxy_idle_timeout_s * 1000;
  proxy_options.max_connections_per_listener = options.proxy_max_connections;
  if (chosen->network) proxy_options.task_namespace = &chosen->network->Namespace();
  auto proxy = MakeProxy(proxy_options);  // on event loops of its own, one per core
  std::map<int, UniqueFd> listeners;
  for (auto& [name, fd] : inherited) {
    if (name != "api") listeners[std::atoi(name.c_str())] = std::move(fd);
  }
  proxy->Inherit(std::move(listeners));
  const int max_tasks = options.max_tasks > 0 ? options.max_tasks : DefaultMaxTasks();
  ControlPlaneOptions cp{options.data_dir, options.listen_host, env};
  cp.region = options.region;
  cp.max_tasks = max_tasks;
  cp.resolve_secret = [&store = **secrets](const std::string& value_from) { return store.Resolve(value_from); };
  ControlPlane control(clock, runtime, *proxy, **store, **logs, cp);
  auto loaded = control.Load();
  if (!loaded) return tl::unexpected(loaded.error());
  ApiFront front(control, **logs, **secrets, clock, *creds, options.region, ecr->get(), &cloudwatch);
  MetricCollector collector(metrics, meter, control, clock);
  // The console's token is new at every start; a planned restart keeps the one open pages hold.
  auto console_token = IssueConsoleToken(options.data_dir, !options.inherited_sockets.empty());
  if (!console_token) return tl::unexpected(console_token.error());
  Console console(*console_token,
                  {.state = [&control] { return control.ConsoleSnapshot({}); },
                   .metrics = [&cloudwatch, &clock](int minutes) {
                     return ConsoleMetrics(cloudwatch, static_cast<int64_t>(EpochSeconds(clock.WallNow()) * 1000),
                                           minutes);
                   }});
  ApiServer api(io, [&front, &console](const ApiHttpRequest& r) {
    return Console::Serves(r.target) ? console.Handle(r) : front.Handle(r);
  });
  auto port = api.Listen(options.listen_host, options.listen_port,
                         inherited.count("api") ? std::move(inherited["api"]) : UniqueFd());
  if (!port) return tl::unexpected(port.error());

  std::atomic<bool> stopping{false};
  boost::asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code&, int) { stopping = true; });
  std::vector<std::thread> threads;
  auto work = boost::asio::make_work_guard(io);
  for (int i = 0; i < kIoThreads; ++i) threads.emplace_back([&io] { io.run(); });
  control.Tick();  // publishes the restored routing: adopted targets serve again from here

  EngineInfo info;
  info.pid = static_cast<int>(::getpid());
  info.start_time = ProcessStartTime(::getpid());
  info.endpoint = "http://" + options.listen_host + ":" + std::to_string(*port);
  info.credentials_file = fs::absolute(options.data_dir + "/credentials").string();
  info.region = options.region;
  info.max_tasks = max_tasks;
  info.memory_limits = runtime.MemoryEnforcement();
  info.runtime = chosen->name;
  info.ready_ms = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - began).count();
  if (auto w = WriteEngineInfo(options.data_dir, info); !w) return w;

  HandoffHooks hooks;
  hooks.begin = [&]() {
    registry->PauseMaintenance();  // the successor adopts a registry that is serving read-write
    api.StopAccepting();
    proxy->StopAccepting();
    control.Freeze();
    HandedSockets out;
    out.settings = {{"host", options.listen_host}, {"port", *port}, {"region", options.region},
                    {"maxTasks", max_tasks}, {"runtime", chosen->name},
                    {"proxyHeaderTimeout", options.proxy_header_timeout_s},
                    {"proxyIdleTimeout", options.proxy_idle_timeout_s},
                    {"proxyMaxConnections", options.proxy_max_connections}};
    out.names.push_back("api");
    out.fds.push_back(api.DuplicateListener());
    for (auto& [p, fd] : proxy->DuplicateListeners()) {
      out.names.push_back(std::to_string(p));
      out.fds.push_back(std::move(fd));
    }
    return out;
  };
  hooks.abort = [&]() {
    if (!control.Unfreeze()) return false;
    registry->ResumeMaintenance();
    api.ResumeAccepting();
    proxy->ResumeAccepting();
    return true;
  };
  HandoffService handoff(options.data_dir, info, std::move(hooks));
  if (auto h = handoff.Start(); !h) return h;

  std::fprintf(stderr,
               "slipway engine serving %s (data dir %s; region %s; %s runtime; up to %d tasks; memory limits: %s); "
               "listeners ready %ld ms after start; adopted %d running tasks, %d had ended%s; image registry "
               "%s %s (%ld ms)\n",
               info.endpoint.c_str(), options.data_dir.c_str(), options.region.c_str(), chosen->name.c_str(),
               max_tasks, info.memory_limits.c_str(), info.ready_ms, loaded->adopted_tasks, loaded->ended_tasks,
               loaded->migrated ? "; state converted from an older engine's format" : "",
               registry->Endpoint().c_str(),
               !registry->Available() ? "unavailable" : registry->adopted() ? "adopted" : "started",
               registry->start_ms());

  SteadyTime next_sweep = clock.Now();
  while (!stopping && !handoff.done()) {
    control.Tick();
    collector.Tick();
    if (clock.Now() >= next_sweep) {
      // Log events past retention go, so logs.db does not grow without bound.
      if (auto r = (*logs)->Sweep(static_cast<int64_t>(EpochSeconds(clock.WallNow()) * 1000)); !r) {
        std::fprintf(stderr, "slipway engine: %s\n", r.error().message.c_str());
      }
      next_sweep = clock.Now() + kLogSweepInterval;
    }
    clock.SleepFor(kTickInterval);
  }
  handoff.Stop();
  if (handoff.done()) {
    // The new engine owns the tasks, the state and the sockets; finish what is in flight here.
    std::fprintf(stderr, "slipway engine handed over; finishing %d connections\n",
                 proxy->OpenConnections() + api.OpenConnections());
    api.WindDown();
    proxy->WindDown();
    const SteadyTime limit = clock.Now() + kWindDownLimit;
    while (proxy->OpenConnections() + api.OpenConnections() > 0 && clock.Now() < limit) clock.SleepFor(Millis(50));
    registry->Release();  // the new engine adopted it
  } else {
    std::fprintf(stderr, "slipway engine stopping: stopping tasks\n");
    control.Shutdown(kShutdownGrace);
    registry->Stop();  // after the tasks, which may still pull from it
  }
  work.reset();
  io.stop();
  for (auto& t : threads) t.join();
  proxy->Stop();
  if (!handoff.done() && chosen->network) {
    // Every task has stopped: the pods, the bridge and the namespaces go too, so the engine leaves
    // nothing behind on the host.
    chosen->runtime.reset();
    if (auto r = chosen->network->Remove(); !r) {
      std::fprintf(stderr, "slipway engine: removing the task network: %s\n", r.error().message.c_str());
    }
  } else if (!handoff.done()) {
    // Every task has stopped: their cgroups go, and the engine's own.
    if (auto left = chosen->runtime->RemoveAllCgroups(); !left.empty()) {
      std::fprintf(stderr, "slipway engine: removing cgroups: %s\n", left.c_str());
    }
  }
  // engine.json is this engine's only while it names this process (a successor rewrote it).
  if (auto now = ReadEngineInfo(options.data_dir); now && now->pid == info.pid) {
    std::error_code ec;
    fs::remove(options.data_dir + "/engine.json", ec);
  }
  return {};
}

}  // namespace slipway::engine
