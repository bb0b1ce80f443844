// How a plan reads: text for people, JSON for machines.
#include "deploy/plan.h"

namespace slipway::deploy {

using nlohmann::json;

namespace {

json ChangesJson(const std::vector<FieldChange>& changes) {
  json out = json::array();
  for (const auto& c : changes) out.push_back({{"path", c.path}, {"before", c.before}, {"after", c.after}});
  return out;
}

std::string Value(const json& v) { return v.is_null() ? "(none)" : v.dump(); }

std::string FormatChanges(const std::vector<FieldChange>& changes) {
  std::string out;
  for (const auto& c : changes) {
    const std::string path = c.path.empty() ? "(whole definition)" : c.path;
    if (c.before.is_null()) {
      out += "      + " + path + ": " + Value(c.after) + "\n";
    } else if (c.after.is_null()) {
      out += "      - " + path + ": " + Value(c.before) + "\n";
    } else {
      out += "      ~ " + path + ": " + Value(c.before) + " -> " + Value(c.after) + "\n";
    }
  }
  return out;
}

std::string FormatService(const ServicePlan& s) {
  std::string out = "  service " + s.service_name + " (" + s.name + "): ";
  if (s.create) {
    out += "would be created, running a new revision of " + s.family + "\n";
  } else if (!s.Changes()) {
    out += "no changes (runs " + s.running_revision + ")\n";
  } else {
    out += "would change (runs " + s.running_revision + ")\n";
  }
  if (!s.definition.empty()) out += "    task definition:\n" + FormatChanges(s.definition);
  if (!s.settings.empty()) out += "    service settings:\n" + FormatChanges(s.settings);
  for (const auto& b : s.builds) out += "    image built at release: " + b + "\n";
  if (!s.migration.empty()) out += "    migration run before the rollout (every release): " + s.migration + "\n";
  if (s.override_ && s.on_demand && s.override_->count > 0) {
    out += "    on demand and started: desiredCount " + s.override_->description +
           "; a release keeps it until `slipway service stop`\n";
  } else if (s.override_) {
    out += "    desiredCount override: " + s.override_->description + "; the config says " +
           std::to_string(s.override_->configured) +
           "; a release keeps the override (`slipway env up` or `slipway scale --reset` removes it)\n";
  } else if (s.on_demand) {
    out += "    on demand: stopped unless started (`slipway service start`); a release keeps 0 tasks\n";
  }
  if (s.drift) {
    out += "    scale drift: desired " + std::to_string(s.drift->desired) + ", running " +
           std::to_string(s.drift->running) + "; " + (s.override_ ? "the override says " : "the config says ") +
           std::to_string(s.drift->configured) + " (a release sets " + std::to_string(s.drift->configured) + ")\n";
  }
  for (const auto& n : s.notes) out += "    note: " + n + "\n";
  return out;
}

}  // namespace

json PlanJson(const Plan& plan) {
  json j{{"changes", plan.Changes()}, {"create", plan.create},          {"services", json::array()},
         {"listenerRules", plan.listener_rules}, {"allowlist", plan.allowlist}, {"warnings", plan.warnings}};
  for (const auto& s : plan.services) {
    json sj{{"service", s.name},
            {"serviceName", s.service_name},
            {"create", s.create},
            {"changes", s.Changes()},
            {"family", s.family},
            {"runningRevision", s.running_revision},
            {"taskDefinition", ChangesJson(s.definition)},
            {"settings", ChangesJson(s.settings)},
            {"builds", s.builds},
            {"migration", s.migration.empty() ? json() : json(s.migration)},
            {"notes", s.notes}};
    sj["scaleDrift"] = s.drift ? json{{"configured", s.drift->configured}, {"desired", s.drift->desired},
                                      {"running", s.drift->running}}
                               : json();
    sj["desiredCountOverride"] =
        s.override_ ? json{{"count", s.override_->count}, {"configured", s.override_->configured},
                           {"description", s.override_->description}}
                    : json();
    sj["onDemand"] = s.on_demand;
    j["services"].push_back(sj);
  }
  return j;
}

std::string FormatPlan(const Plan& plan, const std::string& environment) {
  std::string out;
  for (const auto& w : plan.warnings) out += "warning: " + w + "\n";
  out += "plan for " + environment + ":\n";
  if (!plan.create.empty()) {
    out += "  infrastructure to create:\n";
    for (const auto& c : plan.create) out += "    + " + c + "\n";
  }
  if (!plan.listener_rules.empty()) {
    out += "  listener rules (allowlist drift; `slipway allowlist sync " + environment + "` or a release applies it):\n";
    for (const auto& line : plan.listener_rules) out += "    " + line + "\n";
  }
  for (const auto& s : plan.services) out += FormatService(s);
  out += plan.Changes() ? "a release would change the above\n" : "nothing would change\n";
  return out;
}

}  // namespace slipway::deploy
