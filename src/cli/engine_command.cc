// `slipway engine start|run|status|stop|restart|console`.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/child_process.h"
#include "base/proc.h"
#include "base/strings.h"
#include "cli/commands.h"
#include "config/config.h"
#include "engine/console/console.h"
#include "engine/engine.h"

namespace slipway::cli {

std::string DefaultDataDir() {
  if (const char* d = std::getenv("SLIPWAY_DATA_DIR"); d && *d) return d;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "/tmp") + "/.local/state/slipway";
}

std::string EngineListen(const std::string& configured) {
  if (const char* l = std::getenv("SLIPWAY_ENGINE_LISTEN"); l && *l) return l;
  return configured.empty() ? kDefaultEngineListen : configured;
}

namespace {

namespace fs = std::filesystem;

/// engine.log is rotated once it passes this size, at start.
constexpr std::uintmax_t kEngineLogRotateBytes = 16 << 20;

struct EngineFlags {
  std::string data_dir = DefaultDataDir();
  std::string listen = kDefaultEngineListen;
  bool listen_chosen = false;  ///< --listen or $SLIPWAY_ENGINE_LISTEN named the address
  std::string output = "text";
  std::string region;  // empty: us-east-1 (start, run) or the running engine's (restart)
  int max_tasks = 0;   // 0: from the machine (start, run) or the running engine's (restart)
  std::string runtime;  // empty: auto (start, run) or the running engine's (restart)
  int proxy_header_timeout = 0;  // seconds; 0: the proxy's default (start, run) or the running engine's (restart)
  int proxy_idle_timeout = 0;
  int proxy_max_connections = 0;
  std::string inherited_sockets;
};

bool ParseListen(const std::string& listen, engine::EngineOptions& o) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return false;
  o.listen_host = listen.substr(0, colon);
  o.listen_port = std::atoi(listen.substr(colon + 1).c_str());
  return o.listen_port > 0 && o.listen_port < 65536;
}

std::string SelfPath() {
  std::error_code ec;
  return fs::read_symlink("/proc/self/exe", ec).string();
}

std::map<std::string, std::string> Environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    env[kv.substr(0, kv.find('='))] = kv.substr(kv.find('=') + 1);
  }
  return env;
}

void PrintStarted(const engine::EngineInfo& info, const char* verb) {
  std::printf("engine %s at %s (pid %d, region %s, up to %d tasks; listeners ready %ld ms after start)\n"
              "credentials: %s (profile %s)\n",
              verb, info.endpoint.c_str(), info.pid, info.region.c_str(), info.max_tasks, info.ready_ms,
              info.credentials_file.c_str(), info.profile.c_str());
}

int Start(const EngineFlags& f) {
  if (auto info = engine::ReadEngineInfo(f.data_dir)) {
    if (engine::EngineAlive(*info)) {
      // One engine per data dir: asked for another address, say where the running one is.
      if (f.listen_chosen && info->endpoint != "http://" + f.listen) {
        std::fprintf(stderr,
                     "error: the engine of data dir %s already runs at %s (pid %d), not at %s; stop it first "
                     "(slipway engine stop), or start another with its own --data-dir\n",
                     f.data_dir.c_str(), info->endpoint.c_str(), info->pid, f.listen.c_str());
        return 1;
      }
      std::printf("engine already running at %s (pid %d)\n", info->endpoint.c_str(), info->pid);
      return 0;
    }
    // A killed engine may still be closing its sockets for a moment; its ports are free after.
    for (int i = 0; i < 100 && !ProcessGone(info->pid); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::umask(077);
  if (auto p = engine::MakePrivate(f.data_dir); !p) {
    std::fprintf(stderr, "error: %s\n", p.error().message.c_str());
    return 1;
  }
  const std::string log = f.data_dir + "/engine.log";
  std::error_code ec;
  if (fs::exists(log, ec) && fs::file_size(log, ec) > kEngineLogRotateBytes) fs::rename(log, log + ".1", ec);
  // The daemon runs `slipway engine run` in its own session, logging to <data-dir>/engine.log.
  std::vector<std::string> argv = {SelfPath(), "engine", "run", "--data-dir", f.data_dir, "--listen", f.listen};
  if (!f.region.empty()) argv.insert(argv.end(), {"--region", f.region});
  if (f.max_tasks > 0) argv.insert(argv.end(), {"--max-tasks", std::to_string(f.max_tasks)});
  if (!f.runtime.empty()) argv.insert(argv.end(), {"--runtime", f.runtime});
  for (auto [flag, value] : {std::pair{"--proxy-header-timeout", f.proxy_header_timeout},
                             std::pair{"--proxy-idle-timeout", f.proxy_idle_timeout},
                             std::pair{"--proxy-max-connections", f.proxy_max_connections}}) {
    if (value > 0) argv.insert(argv.end(), {flag, std::to_string(value)});
  }
  auto child = ChildProcess::Spawn({.argv = argv, .env = Environment(), .output_path = log});
  if (!child) {
    std::fprintf(stderr, "error: %s\n", child.error().message.c_str());
    return 1;
  }
  const int pid = child->pid();
  for (int i = 0; i < 300; ++i) {
    if (auto st = child->Poll()) {
      std::fprintf(stderr, "error: the engine exited with code %d; from %s:\n%s", st->code, log.c_str(),
                   engine::EngineLogTail(f.data_dir, 5).c_str());
      return 1;
    }
    auto info = engine::ReadEngineInfo(f.data_dir);
    if (info && info->pid == pid) {
      PrintStarted(*info, "started");
      child->Release();  // the engine keeps running after this command exits
      return 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::fprintf(stderr, "error: engine did not come up within 30 s; see %s\n", log.c_str());
  return 1;
}

int Restart(const EngineFlags& f) {
  engine::EngineOptions o{f.data_dir};
  o.region = f.region;
  o.max_tasks = f.max_tasks;
  o.runtime = f.runtime;
  o.proxy_header_timeout_s = f.proxy_header_timeout;
  o.proxy_idle_timeout_s = f.proxy_idle_timeout;
  o.proxy_max_connections = f.proxy_max_connections;
  auto info = engine::Restart(SelfPath(), o);
  if (!info) {
    std::fprintf(stderr, "error: %s\n", info.error().message.c_str());
    return 1;
  }
  PrintStarted(*info, "restarted");
  return 0;
}

int Status(const EngineFlags& f) {
  auto info = engine::ReadEngineInfo(f.data_dir);
  bool alive = info && engine::EngineAlive(*info);
  if (f.output == "json") {
    nlohmann::json j{{"running", alive}, {"dataDir", f.data_dir}};
    if (info && alive) {
      j.update({{"pid", info->pid}, {"endpoint", info->endpoint}, {"credentialsFile", info->credentials_file},
                {"profile", info->profile}, {"region", info->region}, {"maxTasks", info->max_tasks},
                {"memoryLimits", info->memory_limits}, {"readyMillis", info->ready_ms}, {"runtime", info->runtime}});
    }
    std::printf("%s\n", j.dump(2).c_str());
  } else if (alive) {
    std::printf("running\nendpoint:    %s\npid:         %d\nregion:      %s\nruntime:     %s\nmax tasks:   %d\n"
                "memory:      %s\ncredentials: %s\nprofile:     %s\n",
                info->endpoint.c_str(), info->pid, info->region.c_str(), info->runtime.c_str(), info->max_tasks,
                info->memory_limits.c_str(),
                info->credentials_file.c_str(), info->profile.c_str());
  } else {
    std::printf("not running (data dir %s)\n", f.data_dir.c_str());
  }
  return alive ? 0 : 3;
}

/// Prints the console's URL, token included, as Jupyter prints its own.
int PrintConsoleUrl(const EngineFlags& f) {
  auto info = engine::ReadEngineInfo(f.data_dir);
  if (!info || !engine::EngineAlive(*info)) {
    std::fprintf(stderr, "error: no engine runs with data dir %s; start one with `slipway engine start`\n",
                 f.data_dir.c_str());
    return kExitNoEngine;
  }
  auto token = engine::ReadConsoleToken(f.data_dir);
  if (!token) {
    std::fprintf(stderr, "error: %s; restart the engine (`slipway engine restart`) to serve the console\n",
                 token.error().message.c_str());
    return kExitNoEngine;
  }
  const std::string url = info->endpoint + "/console?token=" + *token;
  if (f.output == "json") {
    std::printf("%s\n", nlohmann::json{{"url", url}, {"endpoint", info->endpoint}, {"token", *token}}.dump(2).c_str());
  } else {
    std::printf("%s\n", url.c_str());
    std::fprintf(stderr, "Open it in a browser on this machine. The token is a secret: anyone holding it sees the "
                         "engine's services, tasks and metrics.\n");
  }
  return 0;
}

int Stop(const EngineFlags& f) {
  auto info = engine::ReadEngineInfo(f.data_dir);
  if (!info || !engine::EngineAlive(*info)) {
    std::printf("engine not running\n");
    return 0;
  }
  ::kill(info->pid, SIGTERM);
  for (int i = 0; i < 300 && engine::EngineAlive(*info); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  if (engine::EngineAlive(*info)) {
    std::fprintf(stderr, "error: engine (pid %d) still running after 30 s\n", info->pid);
    return 1;
  }
  std::printf("engine stopped\n");
  return 0;
}

}  // namespace

void AddEngineCommands(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<EngineFlags>();
  CLI::App* eng = app.add_subcommand("engine", "Run the local engine: ECS, ELBv2 and CloudWatch Logs APIs on loopback "
                                               "that really run tasks");
  eng->require_subcommand(1);
  auto common = [flags](CLI::App* c) {
    c->add_option("--data-dir", flags->data_dir, "State, logs and credentials ($SLIPWAY_DATA_DIR)")->capture_default_str();
  };
  CLI::App* start = eng->add_subcommand("start", "Start the engine in the background");
  CLI::App* run = eng->add_subcommand("run", "Run the engine in the foreground until SIGTERM/SIGINT");
  CLI::App* restart = eng->add_subcommand(
      "restart",
      "Replace the running engine with a new process (e.g. after an upgrade) without dropping a request: the "
      "listening sockets pass to the new engine, which adopts the running tasks");
  for (CLI::App* c : {start, run}) {
    common(c);
    c->add_option("--listen", flags->listen, "API address host:port (default: $SLIPWAY_ENGINE_LISTEN, else 127.0.0.1:4580)");
  }
  for (CLI::App* c : {start, run, restart}) {
    c->add_option("--region", flags->region,
                  "The one region the engine serves; requests must be signed for it (default us-east-1; restart: "
                  "the running engine's)")
        ->check(CLI::Validator(
            [](std::string& r) {
              bool ok = !r.empty() && r.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") == std::string::npos;
              return ok ? std::string() : "want a region name such as us-east-1";
            },
            "REGION"));
    c->add_option("--max-tasks", flags->max_tasks,
                  "Most tasks alive at once (default: 64 per core, at most one per 64 MiB of memory; restart: the "
                  "running engine's)")
        ->check(CLI::Range(1, 100000));
    c->add_option("--runtime", flags->runtime,
                  "How tasks run: podman (each task a pod with its own IP, containers from their images), exec "
                  "(each container's entryPoint+command as a host process), or auto: podman when it works here, "
                  "else exec (default: $SLIPWAY_RUNTIME, else auto; restart: the running engine's)")
        ->check(CLI::IsMember({"auto", "podman", "exec"}));
    c->add_option("--proxy-header-timeout", flags->proxy_header_timeout,
                  "Seconds a client has, from a request's first byte, to send its request line and headers; a "
                  "slower one gets 408 (default 60; restart: the running engine's)")
        ->check(CLI::Range(1, 3600));
    c->add_option("--proxy-idle-timeout", flags->proxy_idle_timeout,
                  "Seconds a load balancer connection may stay silent, between requests, in a body or a WebSocket, "
                  "before it closes (default 60, as ALB's idle_timeout.timeout_seconds; restart: the running "
                  "engine's)")
        ->check(CLI::Range(1, 4000));
    c->add_option("--proxy-max-connections", flags->proxy_max_connections,
                  "Client connections each listener serves at once; past it a new one is answered 503 (default: "
                  "no cap but the engine's descriptor limit; restart: the running engine's)")
        ->check(CLI::Range(1, 1000000));
  }
  run->add_option("--inherited-sockets", flags->inherited_sockets,
                  "Listening sockets handed over by `engine restart`, as descriptors 3, 4, … (api,PORT,…)")
      ->group("");  // internal: set by `engine restart`
  common(restart);
  CLI::App* status = eng->add_subcommand("status", "Show endpoint, pid, region, task limit and credentials "
                                                   "(exit 3 if not running)");
  CLI::App* stop = eng->add_subcommand("stop", "Stop every task, then the engine");
  CLI::App* console = eng->add_subcommand(
      "console",
      "Print the URL of the engine's live web console (services, tasks, targets, releases and graphs), with the "
      "token that opens it");
  console->footer(
      "Examples:\n"
      "  slipway engine console                 # http://127.0.0.1:4580/console?token=...\n"
      "  xdg-open \"$(slipway engine console)\"  # open it in the default browser\n"
      "  slipway engine console --output json   # {\"url\": ..., \"endpoint\": ..., \"token\": ...}\n"
      "\n"
      "The page reads only through the token (never the SigV4 key) and updates every second. A new token is made\n"
      "each time the engine starts; `engine restart` keeps it. Exit 7 when no engine runs.");
  common(status);
  common(stop);
  common(console);
  status->add_option("--output", flags->output, "text or json")->check(CLI::IsMember({"text", "json"}));
  console->add_option("--output", flags->output, "text or json")->check(CLI::IsMember({"text", "json"}));
  // $SLIPWAY_RUNTIME picks the runtime when --runtime does not (a test suite or a demo that runs
  // host processes sets it once).
  // $SLIPWAY_ENGINE_LISTEN likewise picks the address when --listen does not.
  for (CLI::App* c : {start, run}) {
    c->preparse_callback([flags](size_t) {
      if (const char* r = std::getenv("SLIPWAY_RUNTIME"); r && *r && flags->runtime.empty()) flags->runtime = r;
      flags->listen = EngineListen("");
      flags->listen_chosen = std::getenv("SLIPWAY_ENGINE_LISTEN") && *std::getenv("SLIPWAY_ENGINE_LISTEN");
    });
  }
  start->callback([flags, start, &exit_code] {
    engine::EngineOptions o;
    if (start->count("--listen") > 0) flags->listen_chosen = true;
    if (!config::ValidListenAddress(flags->listen) || !ParseListen(flags->listen, o)) {
      throw CLI::ValidationError("--listen", "want host:port, not '" + flags->listen +
                                                 "' (from --listen or $SLIPWAY_ENGINE_LISTEN)");
    }
    exit_code = Start(*flags);
  });
  run->callback([flags, &exit_code] {
    engine::EngineOptions o{flags->data_dir};
    if (!config::ValidListenAddress(flags->listen) || !ParseListen(flags->listen, o)) {
      throw CLI::ValidationError("--listen", "want host:port, not '" + flags->listen +
                                                 "' (from --listen or $SLIPWAY_ENGINE_LISTEN)");
    }
    if (!flags->region.empty()) o.region = flags->region;
    o.max_tasks = flags->max_tasks;
    o.proxy_header_timeout_s = flags->proxy_header_timeout;
    o.proxy_idle_timeout_s = flags->proxy_idle_timeout;
    o.proxy_max_connections = flags->proxy_max_connections;
    if (!flags->runtime.empty()) o.runtime = flags->runtime;
    if (!flags->inherited_sockets.empty()) o.inherited_sockets = Split(flags->inherited_sockets, ',');
    if (auto r = engine::RunEngine(o); !r) {
      std::fprintf(stderr, "error: %s\n", r.error().message.c_str());
      exit_code = 1;
    }
  });
  restart->callback([flags, &exit_code] { exit_code = Restart(*flags); });
  status->callback([flags, &exit_code] { exit_code = Status(*flags); });
  stop->callback([flags, &exit_code] { exit_code = Stop(*flags); });
  console->callback([flags, &exit_code] { exit_code = PrintConsoleUrl(*flags); });
}

}  // namespace slipway::cli
