// The plan's decisions: what differs between what runs and what a release would set.
#include "deploy/plan.h"

#include <algorithm>

#include <set>

#include "aws/ecs.h"
#include "deploy/desired_count.h"
#include "deploy/provision.h"
#include "deploy/records.h"
#include "deploy/service_request.h"

namespace slipway::deploy {

using nlohmann::json;

namespace {

// What ECS adds to a task definition when it registers it; never part of what a release sets.
const std::set<std::string> kRegistrationFields = {
    "revision",   "status",         "registeredAt",      "registeredBy", "deregisteredAt", "deleteRequestedAt",
    "requiresAttributes", "compatibilities", "taskDefinitionArn", "tags"};

// Defaults ECS fills in with a value other than an empty one, by key and value (null: any value,
// as the default depends on the launch type).
const std::map<std::string, json> kFilledDefaults = {
    {"networkMode", json()}, {"essential", true}, {"protocol", "tcp"}, {"hostPort", json()}};

// True for what ECS shows for a field nobody set: null, "", 0, false, [] and {}.
bool Unset(const json& v) {
  return v.is_null() || (v.is_string() && v.get<std::string>().empty()) || (v.is_number() && v == 0) ||
         (v.is_boolean() && !v.get<bool>()) || ((v.is_array() || v.is_object()) && v.empty());
}

// True when `v` is a non-empty array of objects with distinct string names.
bool NamedArray(const json& v) {
  if (!v.is_array() || v.empty()) return false;
  std::set<std::string> names;
  for (const auto& e : v) {
    if (!e.is_object() || !e.contains("name") || !e["name"].is_string()) return false;
    if (!names.insert(e["name"].get<std::string>()).second) return false;
  }
  return true;
}

const json* ByName(const json& array, const std::string& name) {
  for (const auto& e : array) {
    if (e["name"] == name) return &e;
  }
  return nullptr;
}

// Drops from `actual` what ECS filled in where `like` leaves it out, recursively; numbers and
// strings that say the same ("256" and 256, as ECS returns cpu and memory) take `like`'s form.
json DropFilled(const json& actual, const json& like) {
  if (actual.is_object() && like.is_object()) {
    json out = json::object();
    for (const auto& [k, v] : actual.items()) {
      if (!like.contains(k)) {
        auto d = kFilledDefaults.find(k);
        if (Unset(v) || (d != kFilledDefaults.end() && (d->second.is_null() || d->second == v))) continue;
        out[k] = v;
      } else {
        out[k] = DropFilled(v, like[k]);
      }
    }
    return out;
  }
  if (actual.is_array() && like.is_array()) {
    json out = json::array();
    const bool named = NamedArray(actual) && NamedArray(like);
    for (size_t i = 0; i < actual.size(); ++i) {
      const json* match = named ? ByName(like, actual[i]["name"].get<std::string>())
                                : (i < like.size() ? &like[i] : nullptr);
      out.push_back(match ? DropFilled(actual[i], *match) : actual[i]);
    }
    return out;
  }
  if (actual.is_number() && like.is_string() && actual.dump() == like.get<std::string>()) return like;
  if (actual.is_string() && like.is_number() && like.dump() == actual.get<std::string>()) return like;
  return actual;
}

// True for an empty list or object: ECS shows some left out, and some as empty.
bool Empty(const json& v) { return (v.is_array() || v.is_object()) && v.empty(); }

void Diff(const std::string& path, const json& before, const json& after, std::vector<FieldChange>& out) {
  if (before == after) return;
  if ((before.is_null() && Empty(after)) || (after.is_null() && Empty(before))) return;
  auto child = [&](const std::string& key) { return path.empty() ? key : path + "." + key; };
  if (before.is_object() && after.is_object()) {
    std::set<std::string> keys;
    for (const auto& [k, v] : before.items()) keys.insert(k);
    for (const auto& [k, v] : after.items()) keys.insert(k);
    for (const auto& k : keys) Diff(child(k), before.value(k, json()), after.value(k, json()), out);
    return;
  }
  if (NamedArray(before) && NamedArray(after)) {
    std::set<std::string> names;
    for (const auto& e : before) names.insert(e["name"].get<std::string>());
    for (const auto& e : after) names.insert(e["name"].get<std::string>());
    for (const auto& n : names) {
      const json* b = ByName(before, n);
      const json* a = ByName(after, n);
      Diff(path + "[" + n + "]", b ? *b : json(), a ? *a : json(), out);
    }
    return;
  }
  out.push_back({path, before, after});
}

// `actual` cut down to the keys `like` has, recursively: what ECS reports beyond what a request
// sets is not compared.
json Subset(const json& actual, const json& like) {
  if (!actual.is_object() || !like.is_object()) return actual;
  json out = json::object();
  for (const auto& [k, v] : like.items()) {
    if (actual.contains(k)) out[k] = Subset(actual[k], v);
  }
  return out;
}

// An awsvpcConfiguration as ECS means it: the order of subnets and groups carries no meaning,
// and a missing assignPublicIp is DISABLED.
json NormalizeNetwork(json n) {
  if (!n.is_object() || !n.contains("awsvpcConfiguration") || !n["awsvpcConfiguration"].is_object()) return n;
  json& a = n["awsvpcConfiguration"];
  for (const char* key : {"subnets", "securityGroups"}) {
    if (a.contains(key) && a[key].is_array()) std::sort(a[key].begin(), a[key].end());
  }
  if (!a.contains("assignPublicIp")) a["assignPublicIp"] = "DISABLED";
  return n;
}

std::vector<std::string> MissingInfrastructure(const config::Environment& env, const InfrastructureState& in) {
  std::vector<std::string> create;
  if (!in.cluster) create.push_back("cluster " + env.cluster);
  if (!in.security_group_to_create.empty()) create.push_back("security group " + in.security_group_to_create);
  if (!in.load_balancer) create.push_back("load balancer " + env.load_balancer_name);
  for (const auto& [name, se] : env.services) {
    if (!in.target_groups.count(name)) create.push_back("target group " + TargetGroupName(env, name) + " for " + name);
  }
  if (!in.listener) create.push_back("listener on port " + std::to_string(env.listener_port));
  if (HasAllowlist(env) && !in.listener) {
    if (auto wanted = WantedRules(env, in.target_groups); wanted) {
      create.push_back("listener rules for the allowlist: " + std::to_string(wanted->size()) + " (priorities " +
                       std::to_string(config::kAllowlistFirstPriority) + "-" +
                       std::to_string(config::kAllowlistLastPriority) + ")");
    }
  }
  for (const auto& [name, se] : env.services) {
    if (se.path_pattern.empty() || HasAllowlist(env)) continue;
    auto rule = in.rules.find(name);
    if (rule == in.rules.end() || !rule->second) {
      create.push_back("rule " + se.path_pattern + " (priority " + std::to_string(se.priority) + ") to " + name);
    }
  }
  return create;
}

ServicePlan PlanService(const config::Config& cfg, const config::Environment& env, const PlanInput& in,
                        const std::string& name, const config::ServiceEnv& se) {
  const config::ServiceSpec& svc = cfg.services.at(name);
  ServicePlan sp;
  sp.name = name;
  sp.service_name = se.service_name;
  sp.on_demand = se.on_demand;
  for (const auto& [container, build] : svc.builds) sp.builds.push_back(container + " (" + build.context + ")");
  const json rendered = NormalizeDefinition(in.definitions.at(name), json());
  auto state = in.services.find(name);
  const json& service = state == in.services.end() ? json() : state->second.service;
  auto tg = in.infrastructure.target_groups.find(name);
  const std::string tg_arn = tg == in.infrastructure.target_groups.end() ? kCreatedAtRelease : tg->second;
  const std::vector<std::string> groups = SecurityGroups(in.infrastructure);
  const std::string family = rendered.value("family", se.service_name);
  sp.family = family;
  for (const auto& arg : svc.migrate_command) sp.migration += (sp.migration.empty() ? "" : " ") + arg;
  if (auto delay = in.infrastructure.deregistration_delays.find(name);
      delay != in.infrastructure.deregistration_delays.end() && delay->second != svc.deregistration_delay_seconds) {
    Diff("targetGroup.deregistrationDelaySeconds", delay->second, svc.deregistration_delay_seconds, sp.settings);
  }
  if (service.is_null()) {
    sp.create = true;
    json req = CreateServiceInput(env, svc, se, family, tg_arn, groups);
    for (const char* key : {"desiredCount", "deploymentConfiguration", "healthCheckGracePeriodSeconds", "loadBalancers"}) {
      Diff(key, json(), req[key], sp.settings);
    }
    return sp;
  }
  sp.running_revision = FamilyRevision(service.value("taskDefinition", ""));
  const json& running = state->second.running_definition;
  Diff("", NormalizeDefinition(running, rendered), rendered, sp.definition);
  std::vector<aws::Tag> tags;
  for (const auto& t : service.value("tags", json::array())) {
    if (t.is_object() && t.value("key", json()).is_string() && t.value("value", json()).is_string()) {
      tags.push_back({t["key"].get<std::string>(), t["value"].get<std::string>()});
    }
  }
  const std::optional<CountOverride> kept = FindCountOverride(tags);
  const int release_count = ReleaseDesiredCount(se, kept);
  if (kept) sp.override_ = ScaleOverride{kept->count, DefaultDesiredCount(se), kept->Describe()};
  json update = UpdateServiceInput(env, se, family, groups, release_count);
  for (const char* key : {"deploymentConfiguration", "healthCheckGracePeriodSeconds"}) {
    json now = Subset(service.value(key, json()), update[key]);
    if (now.is_null() && std::string(key) == "healthCheckGracePeriodSeconds") now = 0;  // ECS's default
    Diff(key, now, update[key], sp.settings);
  }
  if (const json& want = update.value("networkConfiguration", json()); !want.is_null()) {
    Diff("networkConfiguration", NormalizeNetwork(Subset(service.value("networkConfiguration", json()), want)),
         NormalizeNetwork(want), sp.settings);
  }
  json wiring = CreateServiceInput(env, svc, se, family, tg_arn, groups)["loadBalancers"];
  json lbs = json::array();
  for (const auto& lb : service.value("loadBalancers", json::array())) lbs.push_back(Subset(lb, wiring[0]));
  if (lbs != wiring) {
    sp.notes.push_back("load balancer wiring is " + lbs.dump() + ", the config says " + wiring.dump() +
                       "; a release does not change it (UpdateService keeps a service's load balancers)");
  }
  const int desired = service.value("desiredCount", 0), running_count = service.value("runningCount", 0);
  // A release sets desiredCount back to the config's (or keeps the override); how many tasks run
  // is the scheduler's business (a deployment in flight, tasks failing to start) and not
  // something it changes.
  if (desired != release_count) {
    sp.drift = ScaleDrift{release_count, desired, running_count};  // its line shows the running count too
  } else if (running_count != desired) {
    sp.notes.push_back(std::to_string(running_count) + " of " + std::to_string(desired) +
                       " desired tasks are running (a deployment in flight, or tasks failing to start)");
  }
  return sp;
}

}  // namespace

std::vector<std::string> SecurityGroups(const InfrastructureState& in) {
  if (in.security_group_to_create.empty()) return in.security_groups;
  std::vector<std::string> out = in.security_groups;
  out.push_back(kCreatedAtRelease);
  return out;
}

json NormalizeDefinition(const json& td, const json& rendered) {
  if (!td.is_object()) return td;
  json out = td;
  for (const auto& key : kRegistrationFields) out.erase(key);
  if (rendered.is_object()) out = DropFilled(out, NormalizeDefinition(rendered, json()));
  return out;
}

std::vector<FieldChange> DiffJson(const json& before, const json& after) {
  std::vector<FieldChange> out;
  Diff("", before, after, out);
  return out;
}

bool Plan::Changes() const {
  if (!create.empty() || !listener_rules.empty()) return true;
  for (const auto& s : services) {
    if (s.Changes()) return true;
  }
  return false;
}

Plan PlanRelease(const config::Config& cfg, const config::Environment& env, const PlanInput& in) {
  Plan plan;
  plan.create = MissingInfrastructure(env, in.infrastructure);
  for (const auto& [name, se] : env.services) plan.services.push_back(PlanService(cfg, env, in, name, se));
  if (const auto& drift = in.infrastructure.rule_drift) {
    RuleDrift shown = *drift;
    // A missing path rule of open routing is already under "infrastructure to create".
    std::erase_if(shown.missing, [](const WantedRule& w) { return w.role == "path"; });
    shown.matching.clear();
    shown.foreign.clear();
    plan.listener_rules = DriftLines(shown);
    plan.allowlist = DriftJson(*drift);
  }
  plan.warnings = VerifyAccessFor(env).warnings;
  return plan;
}

}  // namespace slipway::deploy
