// Wires the engine together: store, runtime, proxy, control plane, API server, reconciler loop.
#include "engine/engine.h"

#include <signal.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "aws/credentials.h"
#include "base/strings.h"
#include "engine/api.h"
#include "engine/http_server.h"
#include "engine/proxy.h"

namespace slipway::engine {

namespace fs = std::filesystem;

namespace {
constexpr Millis kTickInterval{100};
constexpr Millis kShutdownGrace{10'000};
constexpr int kIoThreads = 2;
}  // namespace

Result<aws::Credentials> EnsureCredentials(const std::string& data_dir) {
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (ec) return Fail("create data dir " + data_dir + ": " + ec.message());
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
  if (j.is_discarded()) return Fail(data_dir + "/engine.json is not JSON");
  return EngineInfo{j.value("pid", 0), j.value("endpoint", ""), j.value("credentialsFile", ""),
                    j.value("profile", kProfile), j.value("region", kDefaultRegion)};
}

bool EngineAlive(const EngineInfo& info) { return info.pid > 0 && ::kill(info.pid, 0) == 0; }

namespace {
Result<void> WriteEngineInfo(const std::string& data_dir, const EngineInfo& info) {
  nlohmann::json j{{"pid", info.pid},
                   {"endpoint", info.endpoint},
                   {"credentialsFile", info.credentials_file},
                   {"profile", info.profile},
                   {"region", info.region}};
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
}  // namespace

Result<void> RunEngine(const EngineOptions& options) {
  auto creds = EnsureCredentials(options.data_dir);
  if (!creds) return tl::unexpected(creds.error());
  auto store = Store::Open(options.data_dir + "/engine.db");
  if (!store) return tl::unexpected(store.error());
  auto logs = LogService::Open(options.data_dir + "/logs.db");
  if (!logs) return tl::unexpected(logs.error());

  boost::asio::io_context io;
  RealClock clock;
  ExecRuntime runtime;
  auto proxy = MakeProxy(io);
  ControlPlane control(clock, runtime, *proxy, **store, **logs,
                       {options.data_dir, options.listen_host, BaseEnv()});
  if (auto loaded = control.Load(); !loaded) return loaded;
  ApiFront front(control, **logs, clock, *creds, options.region);
  auto port = ServeApi(io, options.listen_host, options.listen_port,
                       [&front](const ApiHttpRequest& r) { return front.Handle(r); });
  if (!port) return tl::unexpected(port.error());

  EngineInfo info{
      static_cast<int>(::getpid()), "http://" + options.listen_host + ":" + std::to_string(*port),
      fs::absolute(options.data_dir + "/credentials").string(), kProfile, options.region};
  if (auto w = WriteEngineInfo(options.data_dir, info); !w) return w;

  std::atomic<bool> stopping{false};
  boost::asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code&, int) { stopping = true; });
  std::vector<std::thread> threads;
  auto work = boost::asio::make_work_guard(io);
  for (int i = 0; i < kIoThreads; ++i) threads.emplace_back([&io] { io.run(); });
  std::fprintf(stderr, "slipway engine serving %s in region %s (data dir %s; memory limits: %s)\n",
               info.endpoint.c_str(), info.region.c_str(), options.data_dir.c_str(),
               runtime.MemoryEnforcement().c_str());

  while (!stopping) {
    control.Tick();
    clock.SleepFor(kTickInterval);
  }
  std::fprintf(stderr, "slipway engine stopping: stopping tasks\n");
  control.Shutdown(kShutdownGrace);
  work.reset();
  io.stop();
  for (auto& t : threads) t.join();
  std::error_code ec;
  fs::remove(options.data_dir + "/engine.json", ec);
  return {};
}

}  // namespace slipway::engine
