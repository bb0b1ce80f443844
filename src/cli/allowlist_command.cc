// `slipway allowlist show|sync ENV`: the listener's allowlist rules against slipway.yaml's
// `allow:`, and applying them without a release.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/session.h"
#include "deploy/allowlist_sync.h"
#include "deploy/lock.h"
#include "deploy/records.h"
#include "deploy/run.h"

namespace slipway::cli {

namespace {

using nlohmann::json;

struct AllowlistFlags {
  EnvFlags env;
  bool detailed_exitcode = false;  ///< show: exit 10 on drift
  std::string confirm;             ///< sync: the approval phrase
};

// What the config admits, per service: "web: 127.0.0.2/32", "api: everyone (no allow:)".
std::vector<std::string> ConfiguredLines(const config::Environment& env) {
  std::vector<std::string> out;
  for (const auto& [name, se] : env.services) {
    auto allow = config::AllowFor(env, name);
    std::string list;
    if (allow) {
      for (const auto& c : *allow) list += (list.empty() ? "" : ", ") + c;
    }
    out.push_back(name + ": " + (!allow ? "everyone (no allow:)" : allow->empty() ? "no one (allow: [])" : list));
  }
  return out;
}

json ConfiguredJson(const config::Environment& env) {
  json out = json::object();
  for (const auto& [name, se] : env.services) {
    auto allow = config::AllowFor(env, name);
    out[name] = allow ? json(*allow) : json();
  }
  return out;
}

std::string NeverReleased(const config::Environment& env) {
  return "environment " + env.name + " has no listener on port " + std::to_string(env.listener_port) +
         " yet (never released); `slipway deploy " + env.name + "` creates it with its allowlist";
}

int Show(const AllowlistFlags& f) {
  Session s;
  if (auto rc = OpenSession(s, f.env, EngineStart::kNever)) return *rc;
  auto read = deploy::ReadListenerRules(*s.client, s.env);
  if (!read) return PrintError(f.env, s.env.name, kExitReleaseFailed, read.error().message);
  const bool exists = !read->listener_arn.empty();
  std::optional<deploy::RuleDrift> drift;
  if (exists) {
    auto d = deploy::RuleDriftOf(s.env, *read);
    if (!d) return PrintError(f.env, s.env.name, kExitUsage, d.error().message);
    drift = std::move(*d);
  }
  const bool drifted = !exists || drift->Any();
  const auto warnings = deploy::VerifyAccessFor(s.env).warnings;
  if (f.env.output == "json") {
    json j{{"environment", s.env.name}, {"exists", exists},     {"configured", ConfiguredJson(s.env)},
           {"drift", drifted},          {"warnings", warnings}, {"exitCode", kExitReleased}};
    if (drift) j["rules"] = deploy::DriftJson(*drift);
    if (f.detailed_exitcode && drifted) j["exitCode"] = kExitPlanChanges;
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("allowlist of %s (listener port %d of %s):\n", s.env.name.c_str(), s.env.listener_port,
                s.env.load_balancer_name.c_str());
    for (const auto& line : ConfiguredLines(s.env)) std::printf("  %s\n", line.c_str());
    if (!exists) {
      std::printf("%s\n", NeverReleased(s.env).c_str());
    } else {
      std::printf("listener rules (= matching, + missing, ~ differs, - extra, ! blocked):\n");
      for (const auto& line : deploy::DriftLines(*drift)) std::printf("  %s\n", line.c_str());
      if (drift->Any()) {
        std::printf("drift: the listener differs from slipway.yaml; `slipway allowlist sync %s` applies it\n",
                    s.env.name.c_str());
      } else {
        std::printf("no drift: the listener holds what slipway.yaml says\n");
      }
    }
    for (const auto& w : warnings) std::printf("warning: %s\n", w.c_str());
  }
  return f.detailed_exitcode && drifted ? kExitPlanChanges : kExitReleased;
}

int Sync(const AllowlistFlags& f) {
  Session s;
  auto loaded = LoadEnvironment(f.env);
  if (!loaded) return PrintError(f.env, f.env.env, kExitUsage, loaded.error().message);
  std::tie(s.cfg, s.env) = *loaded;
  if (!Approved(s.env, f.confirm, "syncing the allowlist of " + s.env.name)) {
    if (f.env.output == "json") PrintError(f.env, s.env.name, kExitNotApproved, "not approved; nothing was changed");
    return kExitNotApproved;
  }
  if (auto c = Connect(s, f.env); !c) return PrintError(f.env, s.env.name, kExitReleaseFailed, c.error().message);
  // Held while the rules change, so that no release provisions them meanwhile.
  std::string held_by;
  auto lock = deploy::ReleaseLock::Acquire(*s.client, s.env, deploy::NewReleaseId(), deploy::Actor(),
                                           s.env.timeout_seconds + 600L, held_by);
  if (!lock) return PrintError(f.env, s.env.name, kExitReleaseFailed, lock.error().message + "; nothing was changed");
  if (!*lock) {
    return PrintError(f.env, s.env.name, kExitLocked, "another release is in flight: " + held_by + "; nothing was changed");
  }
  auto end = [&](const std::string& message, int code) {
    if (auto removed = (*lock)->Remove(); !removed) {
      PrintProgress(f.env, "warning: the lock could not be removed (" + removed.error().message + "); it expires " +
                               (*lock)->expires() + ", or `slipway unlock " + s.env.name + "` removes it");
    }
    return message.empty() ? code : PrintError(f.env, s.env.name, code, message);
  };
  auto read = deploy::ReadListenerRules(*s.client, s.env);
  if (!read) return end(read.error().message + "; nothing was changed", kExitReleaseFailed);
  if (read->listener_arn.empty()) return end(NeverReleased(s.env), kExitReleaseFailed);
  auto drift = deploy::RuleDriftOf(s.env, *read);
  if (!drift) return end(drift.error().message + "; nothing was changed", kExitUsage);
  auto done = deploy::ApplyRuleDrift(*s.client, read->listener_arn, *drift);
  if (!done) {
    return end(done.error().message + " (`slipway allowlist show " + s.env.name + "` shows what was applied)",
               kExitReleaseFailed);
  }
  for (const auto& w : deploy::VerifyAccessFor(s.env).warnings) PrintProgress(f.env, "warning: " + w);
  if (f.env.output == "json") {
    std::printf("%s\n", json{{"environment", s.env.name}, {"changes", *done}, {"exitCode", kExitReleased}}.dump(2).c_str());
  } else {
    for (const auto& line : *done) std::printf("%s\n", line.c_str());
    std::printf(done->empty() ? "allowlist of %s: already in sync, nothing changed\n"
                              : "allowlist of %s: in sync with slipway.yaml\n",
                s.env.name.c_str());
  }
  return end("", kExitReleased);
}

}  // namespace

void AddAllowlistCommands(CLI::App& app, int& exit_code) {
  CLI::App* allowlist = app.add_subcommand(
      "allowlist",
      "The listener rules that admit only the sources slipway.yaml's `allow:` lists (others get 403).\n"
      "  slipway allowlist show dev                  live rules against the config: = + ~ - per rule\n"
      "  slipway allowlist show dev --detailed-exitcode; [ $? -eq 10 ] && echo drift\n"
      "  slipway allowlist sync dev                  apply the config now, without a release\n"
      "Every `deploy` syncs them too; `plan` shows the drift.");
  allowlist->require_subcommand(1);

  auto show_flags = std::make_shared<AllowlistFlags>();
  CLI::App* show = allowlist->add_subcommand(
      "show",
      "Print what `allow:` admits per service and each listener rule slipway owns against the config\n"
      "(= matching, + missing, ~ differs, - extra; rules slipway does not own are counted, never touched).\n"
      "Reads only; never starts the local engine.\n"
      "  slipway allowlist show dev\n"
      "  slipway allowlist show dev --output json | jq '.rules.missing'\n"
      "Exit: 0 (with --detailed-exitcode: 0 no drift, 10 drift or never released); 1 API error;\n"
      "  2 usage or config error; 7 no local engine runs.");
  AddEnvFlags(show, show_flags->env);
  show->add_flag("--detailed-exitcode", show_flags->detailed_exitcode, "Exit 10 when the listener differs from the config");
  show->callback([show_flags, &exit_code] { exit_code = Show(*show_flags); });

  auto sync_flags = std::make_shared<AllowlistFlags>();
  CLI::App* sync = allowlist->add_subcommand(
      "sync",
      "Bring the listener's rules to slipway.yaml's `allow:` now, without a release: creates and modifies\n"
      "first, deletes last, only rules slipway owns. Holds the release lock meanwhile.\n"
      "  slipway allowlist sync dev\n"
      "  slipway allowlist sync prod --confirm deploy-prod --output json\n"
      "Exit: 0 in sync; 1 failed (or never released); 2 usage or config error; 4 not approved;\n"
      "  5 a release is in flight.");
  AddEnvFlags(sync, sync_flags->env);
  sync->add_option("--confirm", sync_flags->confirm, "Approval phrase for environments with `approval:`");
  sync->callback([sync_flags, &exit_code] { exit_code = Sync(*sync_flags); });
}

}  // namespace slipway::cli
