// `slipway cleanup ENV`: deregisters task-definition revisions and deletes ECR images beyond the
// newest releases, keeping whatever runs, is in flight, or is known-good.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "cli/commands.h"
#include "cli/session.h"
#include "deploy/cleanup.h"
#include "deploy/records.h"
#include "deploy/release.h"

namespace slipway::cli {

namespace {

using nlohmann::json;

struct CleanupFlags {
  EnvFlags env;
  int keep = 5;
  std::string older_than;
  bool dry_run = false;
};

json RevisionJson(const deploy::RevisionVerdict& v) {
  return {{"taskDefinitionArn", v.record.arn}, {"revision", deploy::FamilyRevision(v.record.arn)},
          {"release", v.record.Tag("slipway:release")}, {"result", v.record.Tag("slipway:result")},
          {"registeredAt", v.record.registered_at}, {"images", v.record.images}, {"reason", v.reason}};
}

json ImageJson(const deploy::EcrImage& i, const std::string& registry) {
  json j{{"repository", i.repository}, {"imageDigest", i.digest}, {"image", registry + "/" + i.repository + "@" + i.digest}};
  if (!i.used_by.empty()) j["usedBy"] = i.used_by;
  return j;
}

bool Deleted(const deploy::CleanupReport& r, const deploy::EcrImage& i) {
  return r.dry_run || std::any_of(r.deleted_images.begin(), r.deleted_images.end(), [&](const deploy::EcrImage& d) {
           return d.repository == i.repository && d.digest == i.digest;
         });
}

bool Deregistered(const deploy::CleanupReport& r, const std::string& arn) {
  return r.dry_run || std::find(r.deregistered.begin(), r.deregistered.end(), arn) != r.deregistered.end();
}

// What was done (or, on a dry run, would be), then what stays and why.
void PrintText(const CleanupFlags& f, const std::string& env, const deploy::CleanupReport& r) {
  size_t revisions = 0, images = 0;
  for (const auto& v : r.plan.deregister) {
    if (!Deregistered(r, v.record.arn)) continue;
    ++revisions;
    std::printf("%s %s  %s\n", r.dry_run ? "would deregister" : "deregistered", deploy::FamilyRevision(v.record.arn).c_str(),
                v.reason.c_str());
  }
  for (const auto& i : r.plan.delete_images) {
    if (!Deleted(r, i)) continue;
    ++images;
    std::printf("%s image %s/%s@%s\n", r.dry_run ? "would delete" : "deleted", r.registry.c_str(), i.repository.c_str(),
                i.digest.c_str());
  }
  for (const auto& v : r.plan.keep) std::printf("kept %s  %s\n", deploy::FamilyRevision(v.record.arn).c_str(), v.reason.c_str());
  for (const auto& i : r.plan.keep_images) {
    std::string users;
    for (const auto& u : i.used_by) users += (users.empty() ? "" : ", ") + u;
    std::printf("kept image %s/%s@%s  still named by %s\n", r.registry.c_str(), i.repository.c_str(), i.digest.c_str(),
                users.c_str());
  }
  if (!r.note.empty()) std::printf("note: %s\n", r.note.c_str());
  std::printf("%s: %zu revision(s) and %zu image(s) %s; %zu revision(s) kept (--keep %d%s)\n", env.c_str(), revisions,
              images, r.dry_run ? "would go" : "removed", r.plan.keep.size(), f.keep,
              f.older_than.empty() ? "" : (", --older-than " + f.older_than).c_str());
}


int RunCleanup(const CleanupFlags& f) {
  const long older_than = f.older_than.empty() ? 0 : ParseDuration(f.older_than);
  if (older_than < 0) {
    return PrintError(f.env, f.env.env, kExitUsage, "--older-than " + f.older_than + ": expected a number and a unit, such as 90s, 10m, 12h or 7d");
  }
  Session s;
  if (auto rc = OpenSession(s, f.env)) return *rc;
  deploy::CleanupOptions options;
  options.keep = f.keep;
  options.older_than_seconds = static_cast<double>(older_than);
  options.dry_run = f.dry_run;
  options.actor = deploy::Actor();
  // On stderr in both modes: stdout carries the report.
  options.progress = [](const std::string& line) { std::fprintf(stderr, "%s %s\n", Stamp().c_str(), line.c_str()); };
  // Every environment on the same endpoint may share repositories with this one: the families
  // their templates register, and what their services run, keep the images they name.
  for (const auto& [env_name, other] : s.cfg.environments) {
    if (other.provider != s.env.provider || other.region != s.env.region) continue;
    if (env_name != s.env.name) options.neighbours.push_back(other);
    for (const auto& [name, se] : other.services) {
      auto family = deploy::TemplateFamily(s.cfg.services.at(name), se, TemplateVars(s.cfg));
      if (family) {
        options.families.push_back(*family);
      } else {
        options.progress("note: the family of " + env_name + "/" + name + " is not known (" + family.error().message +
                         "); only what its service runs is read");
      }
    }
  }
  auto r = deploy::Cleanup(*s.client, s.env, options);
  if (!r) return PrintError(f.env, f.env.env, kExitReleaseFailed, r.error().message + "; nothing was changed");
  if (!r->locked_by.empty()) {
    return PrintError(f.env, f.env.env, kExitLocked, "not cleaning up " + s.env.name + " while a release is in flight: " + r->locked_by +
                                  "; nothing was changed");
  }
  if (f.env.output == "json") {
    json j{{"environment", s.env.name}, {"dryRun", r->dry_run}, {"keep", f.keep}, {"olderThanSeconds", older_than},
           {"registry", r->registry}, {"deregistered", json::array()}, {"kept", json::array()},
           {"deletedImages", json::array()}, {"keptImages", json::array()}, {"deletedRevisions", r->deleted_revisions},
           {"errors", r->errors}};
    for (const auto& v : r->plan.deregister) {
      if (Deregistered(*r, v.record.arn)) j["deregistered"].push_back(RevisionJson(v));
    }
    for (const auto& v : r->plan.keep) j["kept"].push_back(RevisionJson(v));
    for (const auto& i : r->plan.delete_images) {
      if (Deleted(*r, i)) j["deletedImages"].push_back(ImageJson(i, r->registry));
    }
    for (const auto& i : r->plan.keep_images) j["keptImages"].push_back(ImageJson(i, r->registry));
    if (!r->note.empty()) j["note"] = r->note;
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    PrintText(f, s.env.name, *r);
  }
  for (const auto& e : r->errors) std::fprintf(stderr, "error: %s\n", e.c_str());
  return r->errors.empty() ? kExitReleased : kExitReleaseFailed;
}

}  // namespace

void AddCleanupCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<CleanupFlags>();
  CLI::App* cleanup = app.add_subcommand(
      "cleanup",
      "Deregister and delete the environment's task-definition revisions beyond its newest --keep releases, and "
      "delete the ECR images (by digest) that only those revisions name. Never touches a revision a service, "
      "deployment or task uses, a release still in flight, or a service's known-good revision, nor an image any "
      "remaining revision names (another environment's included). Holds the release lock while it works.\n"
      "  slipway cleanup dev --keep 3 --dry-run\n"
      "  slipway cleanup prod --older-than 30d --output json\n"
      "Exit: 0 done (or nothing to do); 1 an API error (what is listed as done was done); 2 usage or config "
      "error; 5 a release is in flight, nothing was done.");
  AddEnvFlags(cleanup, flags->env);
  cleanup->add_option("--keep", flags->keep, "Releases to keep, newest first")->capture_default_str()->check(CLI::Range(0, 1000));
  cleanup->add_option("--older-than", flags->older_than,
                      "Only remove what was registered at least this long ago: 90s, 10m, 12h, 7d");
  cleanup->add_flag("--dry-run", flags->dry_run, "Print what would go, and change nothing");
  cleanup->callback([flags, &exit_code] { exit_code = RunCleanup(*flags); });
}

}  // namespace slipway::cli
