// `slipway deploy ENV` and `slipway status ENV`.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "aws/credentials.h"
#include "base/child_process.h"
#include "cli/commands.h"
#include "deploy/release.h"
#include "engine/engine.h"

namespace slipway::cli {

namespace {

struct DeployFlags {
  std::string env;
  std::string config = "slipway.yaml";
  std::string output = "text";
  std::string data_dir = DefaultDataDir();
};

std::string BinDir() {
  std::error_code ec;
  return std::filesystem::read_symlink("/proc/self/exe", ec).parent_path().string();
}

// For provider local: the running engine's endpoint and key pair, starting it when needed.
Result<std::pair<aws::Endpoint, aws::Credentials>> Connect(const config::Environment& env, const DeployFlags& f) {
  if (env.provider == "aws") {
    auto creds = aws::DefaultCredentials();
    if (!creds) return tl::unexpected(creds.error());
    const char* url = std::getenv("SLIPWAY_ENDPOINT_URL");
    return std::make_pair(aws::Endpoint{env.region, url ? url : ""}, *creds);
  }
  auto info = engine::ReadEngineInfo(f.data_dir);
  if (!info || !engine::EngineAlive(*info)) {
    std::fprintf(stderr, "starting the local engine (data dir %s)\n", f.data_dir.c_str());
    auto r = RunCommand({BinDir() + "/slipway", "engine", "start", "--data-dir", f.data_dir});
    if (!r || r->status.code != 0) {
      return Fail("could not start the local engine: " + (r ? r->output : r.error().message));
    }
    info = engine::ReadEngineInfo(f.data_dir);
    if (!info) return tl::unexpected(info.error());
  }
  auto creds = aws::LoadCredentialsFile(info->credentials_file, info->profile);
  if (!creds) return tl::unexpected(creds.error());
  return std::make_pair(aws::Endpoint{env.region, info->endpoint}, *creds);
}

Result<std::pair<config::Config, config::Environment>> LoadEnv(const DeployFlags& f) {
  auto cfg = config::LoadConfig(f.config);
  if (!cfg) return tl::unexpected(cfg.error());
  auto it = cfg->environments.find(f.env);
  if (it == cfg->environments.end()) {
    std::string known;
    for (const auto& [name, e] : cfg->environments) known += (known.empty() ? "" : ", ") + name;
    return Fail(f.config + ": no environment '" + f.env + "' (known: " + known + ")");
  }
  return std::make_pair(*cfg, it->second);
}

std::map<std::string, std::string> TemplateVars(const config::Config& cfg) {
  std::map<std::string, std::string> vars;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    vars[kv.substr(0, kv.find('='))] = kv.substr(kv.find('=') + 1);
  }
  vars["SLIPWAY_BIN_DIR"] = BinDir();
  vars["SLIPWAY_CONFIG_DIR"] = std::filesystem::absolute(cfg.path).parent_path().string();
  return vars;
}

std::string Stamp() {
  auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char buf[16];
  std::strftime(buf, sizeof buf, "%H:%M:%S", std::localtime(&now));
  return buf;
}

int Deploy(const DeployFlags& f) {
  auto loaded = LoadEnv(f);
  if (!loaded) {
    std::fprintf(stderr, "error: %s\n", loaded.error().message.c_str());
    return kExitUsage;
  }
  auto& [cfg, env] = *loaded;
  auto conn = Connect(env, f);
  if (!conn) {
    std::fprintf(stderr, "error: %s\n", conn.error().message.c_str());
    return kExitReleaseFailed;
  }
  aws::CurlTransport transport, verify_http;
  RealClock clock;
  aws::AwsClient client(transport, clock, conn->second, conn->first);
  const bool json_out = f.output == "json";
  deploy::ReleaseOptions options{TemplateVars(cfg), [json_out](const std::string& line) {
                                   if (!json_out) std::printf("%s  %s\n", Stamp().c_str(), line.c_str());
                                   std::fflush(stdout);
                                 }};
  options.progress("releasing " + cfg.app + " to " + env.name + " (" + env.provider + ", " +
                   (conn->first.url_override.empty() ? env.region : conn->first.url_override) + ")");
  auto report = deploy::Release(client, verify_http, clock, cfg, env, options);
  if (!report) {
    std::fprintf(stderr, "error: %s\n", report.error().message.c_str());
    return kExitReleaseFailed;
  }
  const bool ok = report->failure.empty();
  if (json_out) {
    nlohmann::json j{{"environment", env.name}, {"result", ok ? "released" : "failed"},
                     {"seconds", report->seconds}, {"services", nlohmann::json::array()}};
    if (!ok) j["failure"] = report->failure;
    for (const auto& s : report->services) {
      j["services"].push_back({{"service", s.service_name}, {"taskDefinition", s.task_definition_arn},
                               {"deployment", s.deployment_id}, {"runningCount", s.running_count}});
    }
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    for (const auto& s : report->services) {
      std::printf("  %-24s %s  %d running\n", s.service_name.c_str(), s.task_definition_arn.c_str(), s.running_count);
    }
    if (ok) std::printf("released %s in %.1f s\n", env.name.c_str(), report->seconds);
    else std::fprintf(stderr, "release failed: %s\n", report->failure.c_str());
  }
  return ok ? kExitReleased : kExitReleaseFailed;
}

int ShowStatus(const DeployFlags& f) {
  auto loaded = LoadEnv(f);
  if (!loaded) {
    std::fprintf(stderr, "error: %s\n", loaded.error().message.c_str());
    return kExitUsage;
  }
  auto& [cfg, env] = *loaded;
  auto conn = Connect(env, f);
  if (!conn) {
    std::fprintf(stderr, "error: %s\n", conn.error().message.c_str());
    return 1;
  }
  aws::CurlTransport transport;
  RealClock clock;
  aws::AwsClient client(transport, clock, conn->second, conn->first);
  auto st = deploy::Status(client, env);
  if (!st) {
    std::fprintf(stderr, "error: %s\n", st.error().message.c_str());
    return 1;
  }
  if (f.output == "json") {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& s : *st) {
      j.push_back({{"service", s.service_name}, {"status", s.status}, {"taskDefinition", s.task_definition},
                   {"desiredCount", s.desired}, {"runningCount", s.running}, {"pendingCount", s.pending},
                   {"deployments", s.deployments}, {"rolloutState", s.rollout_state}});
    }
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("%-24s %-8s %-8s %-12s %s\n", "SERVICE", "STATUS", "RUNNING", "ROLLOUT", "TASK DEFINITION");
    for (const auto& s : *st) {
      std::printf("%-24s %-8s %d/%-6d %-12s %s\n", s.service_name.c_str(), s.status.c_str(), s.running, s.desired,
                  s.rollout_state.c_str(), s.task_definition.c_str());
    }
  }
  return 0;
}

void Common(CLI::App* c, DeployFlags& f) {
  c->add_option("env", f.env, "Environment name from slipway.yaml")->required();
  c->add_option("-c,--config", f.config, "Path to slipway.yaml")->capture_default_str();
  c->add_option("--output", f.output, "text or json")->check(CLI::IsMember({"text", "json"}))->capture_default_str();
  c->add_option("--data-dir", f.data_dir, "Local engine data dir ($SLIPWAY_DATA_DIR)")->capture_default_str();
}

}  // namespace

void AddDeployCommands(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<DeployFlags>();
  CLI::App* deploy = app.add_subcommand(
      "deploy", "Release an environment: provision what is missing, register task definitions, roll out, "
                "watch until ECS reports COMPLETED, verify over HTTP.\nExit: 0 released, 1 failed, 2 usage/config error.");
  Common(deploy, *flags);
  deploy->callback([flags, &exit_code] { exit_code = Deploy(*flags); });
  CLI::App* status = app.add_subcommand("status", "Show each service's running/desired count and rollout state");
  Common(status, *flags);
  status->callback([flags, &exit_code] { exit_code = ShowStatus(*flags); });
}

}  // namespace slipway::cli
