// `slipway unlock ENV`: removes a release lock that a release which did not end left behind.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/session.h"
#include "deploy/lock.h"

namespace slipway::cli {

namespace {

struct UnlockFlags {
  EnvFlags env;
  bool force = false;
};

std::string Holder(const deploy::ServiceLock& lock) {
  if (!lock.holder) return "a tag that is not a slipway lock (\"" + lock.value + "\")";
  return lock.holder->Describe() + (lock.expired ? ", already expired" : "");
}

nlohmann::json LockJson(const deploy::ServiceLock& lock) {
  nlohmann::json j{{lock.on_cluster ? "cluster" : "service", lock.service_name}, {"value", lock.value},
                   {"expired", lock.expired}};
  if (lock.holder) {
    j.update({{"release", lock.holder->release_id}, {"by", lock.holder->actor}, {"started", lock.holder->started},
              {"expires", static_cast<long>(lock.holder->expires)}});
  }
  return j;
}

int Unlock(const UnlockFlags& f) {
  Session s;
  if (auto rc = OpenSession(s, f.env)) return *rc;
  auto r = deploy::Unlock(*s.client, s.env, f.force);
  if (!r) {
    return PrintError(f.env, f.env.env, kExitReleaseFailed, r.error().message);
  }
  const char* result = r->locks.empty() ? "none" : r->refused ? "refused" : "unlocked";
  if (f.env.output == "json") {
    nlohmann::json j{{"environment", s.env.name}, {"result", result}, {"locks", nlohmann::json::array()}};
    for (const auto& lock : r->locks) j["locks"].push_back(LockJson(lock));
    if (!r->in_flight.empty()) j["inFlight"] = r->in_flight;
    std::printf("%s\n", j.dump(2).c_str());
  } else if (r->locks.empty()) {
    std::printf("no release lock on the services of %s\n", s.env.name.c_str());
  } else {
    for (const auto& lock : r->locks) {
      std::printf("%s %s%s: locked by %s\n", r->refused ? "kept" : "removed the lock on",
                  lock.on_cluster ? "cluster " : "", lock.service_name.c_str(), Holder(lock).c_str());
    }
    if (r->refused) {
      std::fprintf(stderr,
                   "not unlocked: %s, so the release holding the lock is probably still running.\n"
                   "Wait for it to end (slipway status %s), or pass --force to remove the lock anyway.\n",
                   r->in_flight.c_str(), s.env.name.c_str());
    } else if (!r->in_flight.empty()) {
      std::printf("note: %s\n", r->in_flight.c_str());
    }
  }
  return r->refused ? kExitLocked : kExitReleased;
}

}  // namespace

void AddUnlockCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<UnlockFlags>();
  CLI::App* unlock = app.add_subcommand(
      "unlock",
      "Remove the release lock (the slipway:lock tag on the environment's services, and its slipway:lock:… tag "
      "on the cluster) that a release which did not "
      "end left behind, and say whose it was: release id, who, when it started and when it expires. Refuses while "
      "a deployment of a service is in progress or a migration task runs, as the release may still be alive, "
      "unless --force.\n"
      "Exit: 0 removed, or there was none; 1 API error; 2 usage; 5 refused: something is still in flight.");
  AddEnvFlags(unlock, flags->env);
  unlock->add_flag("--force", flags->force, "Remove the lock even while a deployment or migration is in flight");
  unlock->callback([flags, &exit_code] { exit_code = Unlock(*flags); });
}

}  // namespace slipway::cli
