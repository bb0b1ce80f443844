// Loading an environment and connecting to it, shared by the environment commands.
#include "cli/session.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "aws/credential_chain.h"
#include "aws/credentials.h"
#include "base/child_process.h"
#include "base/strings.h"
#include "cli/commands.h"
#include "deploy/execution_role.h"
#include "deploy/release.h"
#include "engine/engine.h"
#include "registry/resolve.h"

namespace slipway::cli {

namespace {

std::string BinDir() {
  std::error_code ec;
  return std::filesystem::read_symlink("/proc/self/exe", ec).parent_path().string();
}

// How long an endpoint may stay unreachable: 60 s, or $SLIPWAY_UNREACHABLE_SECONDS (for tests).
Millis UnreachableBound() {
  if (const char* v = std::getenv("SLIPWAY_UNREACHABLE_SECONDS"); v && *v) {
    char* end = nullptr;
    long seconds = std::strtol(v, &end, 10);
    if (*end == '\0' && seconds >= 0) return Millis(seconds * 1000);
  }
  return aws::ReachPolicy{}.give_up_after;
}

// The services the deployer calls, as botocore's service ids (for AWS_ENDPOINT_URL_<ID>) and
// SigV4 signing names (as AwsClient's Endpoint::service_urls keys them).
constexpr std::pair<const char*, const char*> kDeployerServices[] = {
    {"ECS", "ecs"}, {"Elastic Load Balancing v2", "elasticloadbalancing"}, {"CloudWatch Logs", "logs"}, {"ECR", "ecr"},
    {"EC2", "ec2"}, {"CloudWatch", "monitoring"}};

// Credentials, region and endpoints for provider aws, found as the AWS SDKs find them.
Result<std::shared_ptr<aws::CredentialProvider>> ConnectAws(Session& s, const EnvFlags& f, aws::Endpoint& endpoint) {
  const aws::EnvVars env = aws::ProcessEnv();
  auto files = aws::ProfileFiles::Load(env);
  if (!files) return tl::unexpected(files.error());
  const std::string profile_name = aws::ChosenProfile(f.profile, env);
  const std::optional<aws::ProfileSettings> profile = files->Profile(profile_name);
  auto region = aws::ResolveRegion(s.env.region, f.region, env, profile, profile_name);
  if (!region) return tl::unexpected(region.error());
  endpoint.region = region->region;
  const aws::EndpointConfig endpoints(env, profile, &*files);
  for (const auto& [service_id, signing_name] : kDeployerServices) {
    if (std::string url = endpoints.UrlFor(service_id); !url.empty()) endpoint.service_urls[signing_name] = url;
  }
  // slipway's own override reaches every service at one URL, whatever the SDK settings say.
  if (const char* url = std::getenv("SLIPWAY_ENDPOINT_URL"); url && *url) endpoint.url_override = url;
  aws::ChainContext chain{env, f.profile, &*files, &endpoints, region->region, &s.transport, &s.clock};
  return aws::ResolveCredentialChain(chain);
}

}  // namespace

void ReportUnreachable(Session& s, std::function<void(const std::string&)> print, const CancelToken* cancel) {
  aws::ReachPolicy reach = s.client->reach_policy();
  const std::string what = s.env.provider == "local" ? "engine at " : "endpoint ";
  const Millis bound = reach.give_up_after;
  reach.on_waiting = [print = std::move(print), what, bound](const std::string& endpoint, WallTime since) {
    print(what + endpoint + " unreachable since " + LocalTimeOfDay(since) + "; retrying until " +
          LocalTimeOfDay(since + bound));
  };
  reach.cancel = cancel;
  s.client->set_reach_policy(std::move(reach));
}

void AddEnvFlags(CLI::App* c, EnvFlags& f) {
  f.data_dir = DefaultDataDir();
  c->add_option("env", f.env, "Environment name from slipway.yaml")->required();
  c->add_option("-c,--config", f.config, "Path to slipway.yaml")->capture_default_str();
  c->add_option("--output", f.output, "text or json")->check(CLI::IsMember({"text", "json"}))->capture_default_str();
  c->add_option("--data-dir", f.data_dir, "Local engine data dir ($SLIPWAY_DATA_DIR)")->capture_default_str();
  c->add_option("--profile", f.profile, "AWS profile for provider aws (default $AWS_PROFILE, else default)");
  c->add_option("--region", f.region, "AWS region when the environment sets none (provider aws)");
}

Result<std::pair<config::Config, config::Environment>> LoadEnvironment(const EnvFlags& f) {
  if (auto attempts = aws::MaxAttemptsFrom(std::getenv("AWS_MAX_ATTEMPTS")); !attempts) {
    return tl::unexpected(attempts.error());
  }
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

Result<void> Connect(Session& s, const EnvFlags& f, EngineStart start) {
  aws::Endpoint endpoint{s.env.region, ""};
  std::shared_ptr<aws::CredentialProvider> creds;
  if (s.env.provider == "aws") {
    auto found = ConnectAws(s, f, endpoint);
    if (!found) return tl::unexpected(found.error());
    creds = *found;
  } else {
    auto info = engine::ReadEngineInfo(f.data_dir);
    const std::string listen = EngineListen(s.cfg.engine_listen);
    if ((!info || !engine::EngineAlive(*info)) && start == EngineStart::kNever) {
      return tl::unexpected(Error{"no local engine is running (data dir " + f.data_dir + "), so environment " +
                                      s.env.name + " has nothing to show; `slipway engine start` starts one, and "
                                      "`slipway deploy " + s.env.name + "` starts one and releases",
                                  kEngineNotRunning});
    }
    if (!info || !engine::EngineAlive(*info)) {
      std::fprintf(stderr, "starting the local engine on %s (data dir %s)\n", listen.c_str(), f.data_dir.c_str());
      auto r = RunCommand({BinDir() + "/slipway", "engine", "start", "--data-dir", f.data_dir, "--listen", listen});
      if (!r || r->status.code != 0) {
        return Fail("could not start the local engine: " + (r ? r->output : r.error().message));
      }
      info = engine::ReadEngineInfo(f.data_dir);
      if (!info) return tl::unexpected(info.error());
    }
    auto loaded = aws::LoadCredentialsFile(info->credentials_file, info->profile);
    if (!loaded) return tl::unexpected(loaded.error());
    creds = std::make_shared<aws::StaticCredentialProvider>(*loaded, "the local engine's credentials file");
    if (const std::string want = "http://" + listen; info->endpoint != want && listen != kDefaultEngineListen) {
      std::fprintf(stderr, "note: the local engine of data dir %s runs at %s, not at %s as configured; stop it "
                   "(slipway engine stop) to have it start there\n", f.data_dir.c_str(), info->endpoint.c_str(),
                   listen.c_str());
    }
    // The engine serves one region and refuses signatures scoped to any other, so a local
    // environment signs for the engine's region whatever its own `region` says.
    endpoint.region = info->region;
    endpoint.url_override = info->endpoint;
    // Requests may reach the engine by another way, e.g. through a test's fault-injecting proxy.
    if (const char* url = std::getenv("SLIPWAY_ENGINE_ENDPOINT"); url && *url) endpoint.url_override = url;
  }
  s.endpoint = endpoint.url_override.empty() ? endpoint.region : endpoint.url_override;
  aws::ReachPolicy reach;
  reach.give_up_after = UnreachableBound();
  aws::RetryPolicy retry;
  retry.max_attempts = aws::MaxAttemptsFrom(std::getenv("AWS_MAX_ATTEMPTS")).value_or(aws::kDefaultMaxAttempts);
  s.client = std::make_unique<aws::AwsClient>(s.transport, s.clock, creds, endpoint, reach, retry);
  ReportUnreachable(s, [](const std::string& line) { std::fprintf(stderr, "%s  %s\n", Stamp().c_str(), line.c_str()); });
  return {};
}

void PrintProgress(const EnvFlags& f, const std::string& line) {
  std::FILE* out = f.output == "json" ? stderr : stdout;
  // Progress quotes text from elsewhere (container logs, ECS events): nothing in it may drive the
  // terminal.
  std::fprintf(out, "%s  %s\n", Stamp().c_str(), TerminalSafe(line).c_str());
  std::fflush(out);
}

bool Approved(const config::Environment& env, const std::string& confirm, const std::string& action) {
  if (!env.require_approval) return true;
  const std::string& phrase = env.approval_phrase;
  if (!confirm.empty()) {
    if (confirm == phrase) return true;
    std::fprintf(stderr, "not approved: --confirm does not match the approval phrase of %s\n", env.name.c_str());
    return false;
  }
  if (!::isatty(STDIN_FILENO)) {
    std::fprintf(stderr,
                 "not approved: %s to %s needs approval and there is no terminal to ask on.\n"
                 "Pass --confirm %s to approve it from a script.\n",
                 action.c_str(), env.name.c_str(), phrase.c_str());
    return false;
  }
  std::fprintf(stderr, "%s to %s needs approval. Type '%s' to continue: ", action.c_str(), env.name.c_str(), phrase.c_str());
  std::fflush(stderr);
  std::string typed;
  if (!std::getline(std::cin, typed) || typed != phrase) {
    std::fprintf(stderr, "not approved: the phrase did not match; nothing was changed\n");
    return false;
  }
  return true;
}

std::optional<int> OpenSession(Session& s, const EnvFlags& f, EngineStart start) {
  auto loaded = LoadEnvironment(f);
  if (!loaded) return PrintError(f, f.env, kExitUsage, loaded.error().message);
  std::tie(s.cfg, s.env) = *loaded;
  auto c = Connect(s, f, start);
  if (!c && c.error().code == kEngineNotRunning) {
    if (f.output == "json") {
      nlohmann::json j{{"environment", s.env.name}, {"engineRunning", false}, {"dataDir", f.data_dir},
                       {"error", c.error().message}, {"exitCode", kExitNoEngine}};
      std::printf("%s\n", j.dump(2).c_str());
    } else {
      std::fprintf(stderr, "%s\n", c.error().message.c_str());
    }
    return kExitNoEngine;
  }
  if (!c) return PrintError(f, f.env, kExitReleaseFailed, c.error().message);
  return std::nullopt;
}

int PrintError(const EnvFlags& f, const std::string& environment, int code, const std::string& message) {
  if (f.output == "json") {
    nlohmann::json j{{"environment", environment}, {"error", message}, {"exitCode", code}};
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::fprintf(stderr, "error: %s\n", message.c_str());
  }
  return code;
}

int ExitCodeFor(const Error& error) {
  const std::string& code = error.code;
  return code == registry::kPlatformMismatch || code == deploy::kTaskDefinitionInvalid ||
                 code == deploy::kBadRollbackTarget
             ? kExitUsage
             : kExitReleaseFailed;
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

std::string Stamp() { return LocalTimeOfDay(std::chrono::system_clock::now()); }

}  // namespace slipway::cli
