// `slipway engine start|run|status|stop`.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/child_process.h"
#include "cli/commands.h"
#include "engine/engine.h"

namespace slipway::cli {

std::string DefaultDataDir() {
  if (const char* d = std::getenv("SLIPWAY_DATA_DIR"); d && *d) return d;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "/tmp") + "/.local/state/slipway";
}

namespace {

struct EngineFlags {
  std::string data_dir = DefaultDataDir();
  std::string listen = "127.0.0.1:4580";
  std::string region = engine::kDefaultRegion;
  std::string output = "text";
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
  return std::filesystem::read_symlink("/proc/self/exe", ec).string();
}

int Start(const EngineFlags& f) {
  if (auto info = engine::ReadEngineInfo(f.data_dir); info && engine::EngineAlive(*info)) {
    std::printf("engine already running at %s (pid %d, region %s)\n", info->endpoint.c_str(), info->pid,
                info->region.c_str());
    return 0;
  }
  std::filesystem::create_directories(f.data_dir);
  // The daemon runs `slipway engine run` in its own session, logging to <data-dir>/engine.log.
  std::map<std::string, std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    env[kv.substr(0, kv.find('='))] = kv.substr(kv.find('=') + 1);
  }
  auto child = ChildProcess::Spawn({.argv = {SelfPath(), "engine", "run", "--data-dir", f.data_dir, "--listen", f.listen,
                                             "--region", f.region},
                                    .env = env, .output_path = f.data_dir + "/engine.log"});
  if (!child) {
    std::fprintf(stderr, "error: %s\n", child.error().message.c_str());
    return 1;
  }
  const int pid = child->pid();
  for (int i = 0; i < 100; ++i) {
    if (auto st = child->Poll()) {
      std::fprintf(stderr, "error: engine exited with code %d; see %s/engine.log\n", st->code, f.data_dir.c_str());
      return 1;
    }
    auto info = engine::ReadEngineInfo(f.data_dir);
    if (info && info->pid == pid) {
      std::printf("engine started at %s (pid %d, region %s)\ncredentials: %s (profile %s)\n", info->endpoint.c_str(),
                  pid, info->region.c_str(), info->credentials_file.c_str(), info->profile.c_str());
      // Detach: the engine keeps running after this command exits.
      child->Release();
      return 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::fprintf(stderr, "error: engine did not come up within 10 s; see %s/engine.log\n", f.data_dir.c_str());
  return 1;
}

int Status(const EngineFlags& f) {
  auto info = engine::ReadEngineInfo(f.data_dir);
  bool alive = info && engine::EngineAlive(*info);
  if (f.output == "json") {
    nlohmann::json j{{"running", alive}, {"dataDir", f.data_dir}};
    if (info) j.update({{"pid", info->pid}, {"endpoint", info->endpoint}, {"credentialsFile", info->credentials_file},
                        {"profile", info->profile}, {"region", info->region}});
    std::printf("%s\n", j.dump(2).c_str());
  } else if (alive) {
    std::printf("running\nendpoint:    %s\nregion:      %s\npid:         %d\ncredentials: %s\nprofile:     %s\n",
                info->endpoint.c_str(), info->region.c_str(), info->pid, info->credentials_file.c_str(),
                info->profile.c_str());
  } else {
    std::printf("not running (data dir %s)\n", f.data_dir.c_str());
  }
  return alive ? 0 : 3;
}

int Stop(const EngineFlags& f) {
  auto info = engine::ReadEngineInfo(f.data_dir);
  if (!info || !engine::EngineAlive(*info)) {
    std::printf("engine not running\n");
    return 0;
  }
  ::kill(info->pid, SIGTERM);
  for (int i = 0; i < 300 && ::kill(info->pid, 0) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  if (::kill(info->pid, 0) == 0) {
    std::fprintf(stderr, "error: engine (pid %d) still running after 30 s\n", info->pid);
    return 1;
  }
  std::printf("engine stopped\n");
  return 0;
}

}  // namespace

void AddEngineCommands(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<EngineFlags>();
  CLI::App* eng = app.add_subcommand("engine", "Run the local engine: ECS and ELBv2 APIs on loopback that really run tasks");
  eng->require_subcommand(1);
  auto common = [flags](CLI::App* c) {
    c->add_option("--data-dir", flags->data_dir, "State, logs and credentials ($SLIPWAY_DATA_DIR)")->capture_default_str();
  };
  CLI::App* start = eng->add_subcommand("start", "Start the engine in the background");
  CLI::App* run = eng->add_subcommand("run", "Run the engine in the foreground until SIGTERM/SIGINT");
  for (CLI::App* c : {start, run}) {
    common(c);
    c->add_option("--listen", flags->listen, "API address host:port")->capture_default_str();
    c->add_option("--region", flags->region, "The one region the engine serves; requests must be signed for it")
        ->check(CLI::Validator(
            [](std::string& r) {
              bool ok = !r.empty() && r.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") == std::string::npos;
              return ok ? std::string() : "want a region name such as us-east-1";
            },
            "REGION"))
        ->capture_default_str();
  }
  CLI::App* status = eng->add_subcommand("status", "Show endpoint, region, pid and credentials (exit 3 if not running)");
  CLI::App* stop = eng->add_subcommand("stop", "Stop the engine and every task it runs");
  common(status);
  common(stop);
  status->add_option("--output", flags->output, "text or json")->check(CLI::IsMember({"text", "json"}));
  start->callback([flags, &exit_code] {
    engine::EngineOptions o;
    if (!ParseListen(flags->listen, o)) throw CLI::ValidationError("--listen", "want host:port");
    exit_code = Start(*flags);
  });
  run->callback([flags, &exit_code] {
    engine::EngineOptions o{flags->data_dir};
    if (!ParseListen(flags->listen, o)) throw CLI::ValidationError("--listen", "want host:port");
    o.region = flags->region;
    if (auto r = engine::RunEngine(o); !r) {
      std::fprintf(stderr, "error: %s\n", r.error().message.c_str());
      exit_code = 1;
    }
  });
  status->callback([flags, &exit_code] { exit_code = Status(*flags); });
  stop->callback([flags, &exit_code] { exit_code = Stop(*flags); });
}

}  // namespace slipway::cli
