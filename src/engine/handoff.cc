// The handoff protocol over the control socket:
//   client -> engine   "handoff"
//   engine -> client   {"settings": {...}, "sockets": ["api", "8080", ...]}  + the sockets (SCM_RIGHTS)
//   client             starts `engine run --inherited-sockets api,8080,...` with them as fds 3, 4, …
//   client -> engine   "done" once the successor serves (closing without it aborts the handoff)
#include "engine/handoff.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <optional>

#include "base/child_process.h"
#include "base/strings.h"
#include "base/unix_socket.h"

extern char** environ;

namespace slipway::engine {

namespace {

constexpr int kRequestTimeoutMs = 5'000;
/// How long a successor may take to serve; connections wait in the backlog meanwhile.
constexpr int kSuccessorTimeoutMs = 15'000;
/// How long the old engine waits for the confirmation (a little longer than the client waits).
constexpr int kConfirmTimeoutMs = 20'000;

std::string SocketPath(const std::string& data_dir) { return data_dir + "/engine.sock"; }

}  // namespace

HandoffService::HandoffService(std::string data_dir, EngineInfo self, HandoffHooks hooks)
    : data_dir_(std::move(data_dir)), self_(std::move(self)), hooks_(std::move(hooks)) {}

HandoffService::~HandoffService() { Stop(); }

Result<void> HandoffService::Start() {
  auto listener = ListenUnix(SocketPath(data_dir_));
  if (!listener) return tl::unexpected(listener.error());
  listener_ = std::move(*listener);
  thread_ = std::thread([this] { Run(); });
  return {};
}

void HandoffService::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (listener_.valid() && !done_) ::unlink(SocketPath(data_dir_).c_str());
  listener_.Reset();
}

void HandoffService::Run() {
  while (!stop_ && !done_) {
    pollfd p{listener_.get(), POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    UniqueFd client(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (client.valid()) Serve(client.get());
  }
}

void HandoffService::Serve(int client) {
  auto request = ReceiveLine(client, kRequestTimeoutMs);
  if (!request || request->line != "handoff") {
    (void)SendLine(client, R"({"error": "unknown request"})");
    return;
  }
  std::fprintf(stderr, "slipway engine: handing over to a new engine process\n");
  HandedSockets sockets = hooks_.begin();
  std::vector<int> fds;
  for (const auto& fd : sockets.fds) fds.push_back(fd.get());
  nlohmann::json reply{{"settings", sockets.settings}, {"sockets", sockets.names}};
  bool confirmed = false;
  if (SendLine(client, reply.dump(), fds)) {
    auto done = ReceiveLine(client, kConfirmTimeoutMs);
    confirmed = done && done->line == "done";
  }
  // Without a confirmation the successor may still have come up. Once it has served (engine.json
  // names it), it may have changed the state and started tasks this engine knows nothing of: this
  // engine must not go on from what it had in memory, alive successor or not.
  auto now = ReadEngineInfo(data_dir_);
  const bool successor_served = now && now->pid != self_.pid;
  if (confirmed || successor_served) {
    if (!confirmed && !EngineAlive(*now)) {
      std::fprintf(stderr, "slipway engine: the new engine served and then exited; this one stops too, leaving the "
                           "tasks running: `slipway engine start` adopts them\n");
    }
    done_ = true;
    return;
  }
  if (!hooks_.abort()) {
    std::fprintf(stderr, "slipway engine: the new engine wrote the state before it exited; this one stops too, "
                         "leaving the tasks running: `slipway engine start` adopts them\n");
    done_ = true;
    return;
  }
  std::fprintf(stderr, "slipway engine: the handoff did not complete; serving on\n");
}

Result<EngineInfo> Restart(const std::string& program, EngineOptions options) {
  auto old = ReadEngineInfo(options.data_dir);
  if (!old || !EngineAlive(*old)) {
    return Fail("no engine is running with data dir " + options.data_dir + "; start one with: slipway engine start");
  }
  auto sock = ConnectUnix(SocketPath(options.data_dir));
  if (!sock) return Fail("the engine (pid " + std::to_string(old->pid) + ") takes no restart request: " + sock.error().message);
  if (auto s = SendLine(sock->get(), "handoff"); !s) return tl::unexpected(s.error());
  auto reply = ReceiveLine(sock->get(), 30'000);
  if (!reply) return Fail("the engine did not hand over its sockets: " + reply.error().message);
  auto j = nlohmann::json::parse(reply->line, nullptr, false);
  if (j.is_discarded() || !j.contains("sockets") || j["sockets"].size() != reply->fds.size()) {
    return Fail("the engine's handoff reply is malformed: " + reply->line);
  }
  const nlohmann::json& settings = j["settings"];
  std::vector<std::string> names = j["sockets"].get<std::vector<std::string>>();
  if (options.region.empty()) options.region = settings.value("region", "us-east-1");
  if (options.max_tasks <= 0) options.max_tasks = settings.value("maxTasks", 0);
  if (options.runtime.empty() || options.runtime == "auto") options.runtime = settings.value("runtime", "auto");
  if (options.proxy_header_timeout_s <= 0) options.proxy_header_timeout_s = settings.value("proxyHeaderTimeout", 0);
  if (options.proxy_idle_timeout_s <= 0) options.proxy_idle_timeout_s = settings.value("proxyIdleTimeout", 0);
  if (options.proxy_max_connections <= 0) options.proxy_max_connections = settings.value("proxyMaxConnections", 0);

  std::map<std::string, std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    env[kv.substr(0, kv.find('='))] = kv.substr(kv.find('=') + 1);
  }
  std::vector<int> fds;
  for (const auto& fd : reply->fds) fds.push_back(fd.get());
  const std::string listen = settings.value("host", "127.0.0.1") + ":" + std::to_string(settings.value("port", 0));
  std::vector<std::string> argv = {program, "engine", "run", "--data-dir", options.data_dir, "--listen", listen,
                                   "--region", options.region, "--max-tasks", std::to_string(options.max_tasks),
                                   "--runtime", options.runtime, "--inherited-sockets", Join(names, ",")};
  for (auto [flag, value] : {std::pair{"--proxy-header-timeout", options.proxy_header_timeout_s},
                             std::pair{"--proxy-idle-timeout", options.proxy_idle_timeout_s},
                             std::pair{"--proxy-max-connections", options.proxy_max_connections}}) {
    if (value > 0) argv.insert(argv.end(), {flag, std::to_string(value)});
  }
  auto child = ChildProcess::Spawn({.argv = argv,
                                    .env = env,
                                    .output_path = options.data_dir + "/engine.log",
                                    .pass_fds = fds});
  if (!child) return tl::unexpected(child.error());
  // The new engine serves once engine.json names it; it runs on after this command.
  auto serving = [&]() -> std::optional<EngineInfo> {
    auto info = ReadEngineInfo(options.data_dir);
    if (!info || info->pid != child->pid()) return std::nullopt;
    child->Release();
    // The old engine may already be gone (it would stop anyway): the new one serves either way.
    if (auto d = SendLine(sock->get(), "done"); !d) {
      std::fprintf(stderr, "note: the old engine did not take the confirmation (%s); it stops on its own\n",
                   d.error().message.c_str());
    }
    return *info;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kSuccessorTimeoutMs);
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto st = child->Poll()) {
      auto info = ReadEngineInfo(options.data_dir);
      if (info && info->pid == child->pid()) {
        return Fail("the new engine served and then exited with code " + std::to_string(st->code) +
                    "; the old one has stopped too (the tasks run on): start an engine with `slipway engine start`, "
                    "which adopts them. From " + options.data_dir + "/engine.log:\n" +
                    EngineLogTail(options.data_dir, 5));
      }
      // Closing the control socket without "done" makes the old engine serve on.
      return Fail("the new engine exited with code " + std::to_string(st->code) +
                  "; the old one serves on. From " + options.data_dir + "/engine.log:\n" +
                  EngineLogTail(options.data_dir, 5));
    }
    if (auto info = serving()) return *info;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (auto info = serving()) return *info;  // it came up in the last moment
  child->Signal(SIGKILL);
  return Fail("the new engine did not come up within 15 s; the old one serves on. From engine.log:\n" +
              EngineLogTail(options.data_dir, 5));
}

}  // namespace slipway::engine
