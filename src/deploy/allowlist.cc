// The allowlist's rules, decided from the config and compared with what the listener holds.
#include "deploy/allowlist.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "base/cidr.h"

namespace slipway::deploy {

using nlohmann::json;

namespace {

constexpr const char* kNoTargetGroupYet = "(created at release)";
constexpr const char* kForbiddenBody = "Forbidden: this source is not on the allowlist\n";

aws::Action Forbidden() { return {"fixed-response", "", {kForbiddenStatus, "text/plain", kForbiddenBody}, {}}; }

std::string TargetGroupOf(const std::map<std::string, std::string>& tgs, const std::string& service) {
  auto it = tgs.find(service);
  return it == tgs.end() ? kNoTargetGroupYet : it->second;
}

// Services with a pathPattern in the order the listener should match them (lowest priority first,
// as ServiceForPath decides), then the one without (the default action's).
std::vector<std::string> MatchOrder(const config::Environment& env, std::string& fallback) {
  std::vector<std::pair<int, std::string>> routed;
  for (const auto& [name, se] : env.services) {
    if (se.path_pattern.empty()) {
      if (fallback.empty()) fallback = name;
    } else {
      routed.emplace_back(se.priority, name);
    }
  }
  std::sort(routed.begin(), routed.end());
  std::vector<std::string> out;
  for (const auto& [priority, name] : routed) out.push_back(name);
  return out;
}

// The block of rules for one service starting at `base`.
Result<void> AddBlock(std::vector<WantedRule>& out, int base, const std::string& name, const config::ServiceEnv& se,
                      const std::optional<std::vector<std::string>>& allow, const std::string& tg) {
  std::vector<aws::RuleCondition> path;
  if (!se.path_pattern.empty()) path.push_back({"path-pattern", {se.path_pattern}, "", {}});
  if (!allow) {
    // Open: the default service needs nothing (the listener's default action forwards to it).
    if (!path.empty()) out.push_back({base, name, "open", path, aws::ForwardTo(tg)});
    return {};
  }
  const size_t per_rule = kConditionValuesPerRule - path.size();
  const size_t rules = (allow->size() + per_rule - 1) / per_rule;
  if (rules > kAllowlistBlock - 1) {
    return Fail("allow: of " + name + " needs " + std::to_string(rules) + " rules of " + std::to_string(per_rule) +
                " blocks each; slipway keeps at most " + std::to_string(kAllowlistBlock - 1) + " per service");
  }
  for (size_t i = 0; i < rules; ++i) {
    auto conditions = path;
    const auto first = allow->begin() + static_cast<long>(i * per_rule);
    const auto last = allow->begin() + static_cast<long>(std::min(allow->size(), (i + 1) * per_rule));
    conditions.push_back({"source-ip", std::vector<std::string>(first, last), "", {}});
    out.push_back({base + static_cast<int>(i), name, "allow", conditions, aws::ForwardTo(tg)});
  }
  auto deny = path.empty() ? std::vector<aws::RuleCondition>{{"source-ip", {"0.0.0.0/0", "::/0"}, "", {}}} : path;
  out.push_back({base + kAllowlistBlock - 1, name, "deny", deny, Forbidden()});
  return {};
}

std::string ConditionsText(const std::vector<aws::RuleCondition>& conditions) {
  std::string out;
  for (const auto& c : conditions) {
    out += (out.empty() ? "" : " + ") + c.field + (c.http_header_name.empty() ? "" : "[" + c.http_header_name + "]") + " ";
    for (size_t i = 0; i < c.values.size(); ++i) out += (i ? "," : "") + c.values[i];
  }
  return out;
}

std::string ActionText(const std::vector<aws::Action>& actions, const std::map<std::string, std::string>* names) {
  if (actions.empty()) return "(no action)";
  const aws::Action& a = actions.front();
  if (a.type == "fixed-response") return a.fixed_response.status_code;
  if (a.type != "forward") return a.type;
  if (names) {
    for (const auto& [service, arn] : *names) {
      if (a.ForwardsTo(arn)) return "forward to " + service;
    }
  }
  return "forward";
}

int PriorityNumber(const aws::Rule& r) {
  if (r.priority.empty() || r.priority.find_first_not_of("0123456789") != std::string::npos || r.priority.size() > 6) {
    return -1;  // "default"
  }
  return std::stoi(r.priority);
}

// Whether `r` is the path rule open routing gives `name`.
bool IsPathRule(const aws::Rule& r, const config::ServiceEnv& se, const std::string& tg) {
  return !se.path_pattern.empty() && PriorityNumber(r) == se.priority && r.conditions.size() == 1 &&
         r.conditions[0].field == "path-pattern" && r.actions.size() == 1 && r.actions[0].ForwardsTo(tg);
}

}  // namespace

std::string RuleShape(const std::vector<aws::RuleCondition>& conditions, const std::vector<aws::Action>& actions) {
  std::vector<std::string> parts;
  for (const auto& c : conditions) {
    std::vector<std::string> values;
    for (const auto& v : c.values) values.push_back(c.field == "source-ip" ? CanonicalCidr(v) : v);
    std::sort(values.begin(), values.end());
    std::string part = c.field + "|" + c.http_header_name + "|";
    for (const auto& v : values) part += v + ",";
    for (const auto& q : c.query_strings) part += q.key + "=" + q.value + ",";
    parts.push_back(part);
  }
  std::sort(parts.begin(), parts.end());
  std::string out;
  for (const auto& p : parts) out += p + ";";
  out += " -> ";
  for (const auto& a : actions) {
    out += a.type + " " +
           (a.type == "forward" ? (a.target_group_arn.empty() && !a.forward_target_groups.empty()
                                       ? a.forward_target_groups[0].arn
                                       : a.target_group_arn)
                                : a.fixed_response.status_code) +
           ";";
  }
  return out;
}

bool HasAllowlist(const config::Environment& env) {
  if (env.allow) return true;
  for (const auto& [name, se] : env.services) {
    if (se.allow) return true;
  }
  return false;
}

Result<std::vector<WantedRule>> WantedRules(const config::Environment& env,
                                            const std::map<std::string, std::string>& target_groups) {
  std::vector<WantedRule> out;
  std::string fallback;
  const std::vector<std::string> routed = MatchOrder(env, fallback);
  if (!HasAllowlist(env)) {
    for (const auto& name : routed) {
      const auto& se = env.services.at(name);
      out.push_back({se.priority, name, "path", {{"path-pattern", {se.path_pattern}, "", {}}},
                     aws::ForwardTo(TargetGroupOf(target_groups, name))});
    }
    return out;
  }
  const int blocks = (config::kAllowlistLastPriority - config::kAllowlistFirstPriority + 1) / kAllowlistBlock;
  if (static_cast<int>(routed.size()) > blocks - 1) {
    return Fail("an environment with allow: routes at most " + std::to_string(blocks - 1) +
                " services by pathPattern (slipway keeps " + std::to_string(kAllowlistBlock) + " rule priorities for each)");
  }
  for (size_t i = 0; i < routed.size(); ++i) {
    const int base = config::kAllowlistFirstPriority + static_cast<int>(i) * kAllowlistBlock;
    if (auto r = AddBlock(out, base, routed[i], env.services.at(routed[i]), config::AllowFor(env, routed[i]),
                          TargetGroupOf(target_groups, routed[i]));
        !r) {
      return tl::unexpected(r.error());
    }
  }
  if (!fallback.empty()) {
    const int base = config::kAllowlistLastPriority - kAllowlistBlock + 1;
    if (auto r = AddBlock(out, base, fallback, env.services.at(fallback), config::AllowFor(env, fallback),
                          TargetGroupOf(target_groups, fallback));
        !r) {
      return tl::unexpected(r.error());
    }
  }
  return out;
}

bool OwnedRule(const aws::Rule& rule, const config::Environment& env,
               const std::map<std::string, std::string>& target_groups) {
  const int p = PriorityNumber(rule);
  if (p >= config::kAllowlistFirstPriority && p <= config::kAllowlistLastPriority) {
    // In the band, and doing what slipway's rules do: forward to one of the environment's target
    // groups, or answer slipway's 403. Someone else's rule there is left alone.
    for (const aws::Action& a : rule.actions) {
      if (a.type == "fixed-response" && a.fixed_response.status_code == kForbiddenStatus &&
          a.fixed_response.message_body == kForbiddenBody) {
        return true;
      }
      for (const auto& [name, arn] : target_groups) {
        if (env.services.count(name) && a.ForwardsTo(arn)) return true;
      }
    }
    return false;
  }
  for (const auto& [name, se] : env.services) {
    auto tg = target_groups.find(name);
    if (tg != target_groups.end() && IsPathRule(rule, se, tg->second)) return true;
  }
  return false;
}

RuleDrift DiffRules(const std::vector<WantedRule>& wanted, const std::vector<aws::Rule>& live,
                    const config::Environment& env, const std::map<std::string, std::string>& target_groups) {
  RuleDrift d;
  std::map<int, const aws::Rule*> by_priority;
  for (const aws::Rule& r : live) {
    if (PriorityNumber(r) >= 0) by_priority[PriorityNumber(r)] = &r;
  }
  std::set<int> wanted_priorities;
  for (const WantedRule& w : wanted) {
    wanted_priorities.insert(w.priority);
    auto it = by_priority.find(w.priority);
    if (it == by_priority.end()) {
      d.missing.push_back(w);
    } else if (!OwnedRule(*it->second, env, target_groups) &&
               !(w.role == "path" && it->second->actions.size() == 1 &&
                 it->second->actions[0].ForwardsTo(TargetGroupOf(target_groups, w.service)))) {
      d.blocked.push_back(w);
    } else if (RuleShape(it->second->conditions, it->second->actions) != RuleShape(w.conditions, {w.action})) {
      d.changed.push_back({w, *it->second});
    } else {
      d.matching.push_back(w);
    }
  }
  for (const aws::Rule& r : live) {
    const int p = PriorityNumber(r);
    if (p < 0) continue;  // the default rule: the listener's own
    const bool owned = OwnedRule(r, env, target_groups);
    if (wanted_priorities.count(p)) {
      if (!owned) {
        bool changed_path = false;  // a path rule whose pattern changed counts as slipway's
        for (const auto& c : d.changed) changed_path = changed_path || c.live.arn == r.arn;
        if (!changed_path) d.foreign.push_back(r);
      }
      continue;
    }
    (owned ? d.extra : d.foreign).push_back(r);
  }
  return d;
}

std::string DescribeWanted(const WantedRule& rule) {
  return std::to_string(rule.priority) + " " + rule.service + " (" + rule.role + "): " + ConditionsText(rule.conditions) +
         " -> " + (rule.action.type == "forward" ? "forward" : rule.action.fixed_response.status_code);
}

std::string DescribeLive(const aws::Rule& rule) {
  return rule.priority + ": " + ConditionsText(rule.conditions) + " -> " + ActionText(rule.actions, nullptr);
}

std::vector<std::string> DriftLines(const RuleDrift& d) {
  std::vector<std::string> out;
  for (const auto& w : d.matching) out.push_back("= " + DescribeWanted(w));
  for (const auto& w : d.missing) out.push_back("+ " + DescribeWanted(w) + "   (missing: to create)");
  for (const auto& c : d.changed) {
    out.push_back("~ " + DescribeWanted(c.wanted) + "   (differs: live " + DescribeLive(c.live) + ")");
  }
  for (const auto& r : d.extra) out.push_back("- " + DescribeLive(r) + "   (slipway's, not in the config: to delete)");
  for (const auto& w : d.blocked) {
    out.push_back("! " + DescribeWanted(w) + "   (priority held by a rule slipway does not own: cannot create)");
  }
  if (!d.foreign.empty()) {
    out.push_back(std::to_string(d.foreign.size()) + " rule(s) slipway does not own, left alone");
  }
  return out;
}

json DriftJson(const RuleDrift& d) {
  auto wanted = [](const std::vector<WantedRule>& rules) {
    json a = json::array();
    for (const auto& w : rules) {
      json conditions = json::array();
      for (const auto& c : w.conditions) conditions.push_back({{"field", c.field}, {"values", c.values}});
      a.push_back({{"priority", w.priority},
                   {"service", w.service},
                   {"role", w.role},
                   {"conditions", conditions},
                   {"action", w.action.type == "forward" ? "forward" : w.action.fixed_response.status_code}});
    }
    return a;
  };
  auto live = [](const std::vector<aws::Rule>& rules) {
    json a = json::array();
    for (const auto& r : rules) a.push_back({{"priority", r.priority}, {"ruleArn", r.arn}, {"rule", DescribeLive(r)}});
    return a;
  };
  json changed = json::array();
  for (const auto& c : d.changed) {
    json w = wanted({c.wanted})[0];
    w["ruleArn"] = c.live.arn;
    w["live"] = DescribeLive(c.live);
    changed.push_back(w);
  }
  return {{"drift", d.Any()},       {"matching", wanted(d.matching)}, {"missing", wanted(d.missing)},
          {"changed", changed},     {"extra", live(d.extra)},         {"blocked", wanted(d.blocked)},
          {"notOwned", live(d.foreign)}};
}

VerifyAccess VerifyAccessFor(const config::Environment& env) {
  VerifyAccess out;
  // The lists the checks meet, with the first check meeting each (for the message).
  std::vector<std::pair<std::string, std::vector<std::string>>> lists;
  for (const auto& check : env.verify) {
    const std::string service = config::ServiceForPath(env, check.path);
    if (service.empty() || env.services.at(service).desired_count == 0) continue;
    auto allow = config::AllowFor(env, service);
    if (allow) lists.emplace_back("GET " + check.path + " (" + service + ")", *allow);
  }
  if (lists.empty()) return out;
  auto admitted_by_all = [&](const std::string& ip) {
    for (const auto& [what, list] : lists) {
      bool in = false;
      for (const auto& cidr : list) {
        auto block = ParseCidrBlock(cidr);
        in = in || (block && CidrContains(*block, ip));
      }
      if (!in) return false;
    }
    return true;
  };
  if (env.provider == "aws") {
    if (!admitted_by_all("0.0.0.0") || !admitted_by_all("255.255.255.255")) {
      out.warnings.push_back("verify goes through the allowlist, and slipway cannot know this machine's public "
                             "address: unless " + lists.front().first +
                             " comes from a listed address, verify will get 403 and the release will fail");
    }
    return out;
  }
  // Candidates inside 127.0.0.0/8, 127.0.0.1 first: what a loopback client can bind to.
  std::vector<std::string> candidates{"127.0.0.1"};
  for (const auto& [what, list] : lists) {
    for (const auto& cidr : list) {
      auto block = ParseCidrBlock(cidr);
      if (!block || block->v6 || block->network[0] != 127 || block->prefix < 8) continue;
      auto net = *block;
      if (net.prefix < 32) net.network[3] |= 1;  // the first host of the block, never its network address
      char buf[16];
      std::snprintf(buf, sizeof buf, "%d.%d.%d.%d", net.network[0], net.network[1], net.network[2], net.network[3]);
      candidates.push_back(buf);
    }
  }
  for (const auto& ip : candidates) {
    if (admitted_by_all(ip)) {
      if (ip != "127.0.0.1") out.source = ip;
      return out;
    }
  }
  std::string which;
  for (const auto& [what, list] : lists) {
    std::string joined;
    for (const auto& c : list) joined += (joined.empty() ? "" : ", ") + c;
    which += (which.empty() ? "" : "; ") + what + " meets allow: [" + joined + "]";
  }
  out.warnings.push_back("the allowlist blocks verify: no loopback address (127.0.0.0/8) that this machine can send "
                         "from is admitted by every list the checks meet (" + which +
                         "); verify will get 403 and the release will fail. Add e.g. 127.0.0.2/32 to the list");
  return out;
}

}  // namespace slipway::deploy
