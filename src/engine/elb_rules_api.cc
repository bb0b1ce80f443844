// ELBv2 listener rules: CreateRule, ModifyRule, DeleteRule, DescribeRules and SetRulePriorities.
// A listener's default rule is not stored as a rule: it is the listener's default actions, shown
// under an ARN derived from the listener's.
#include <algorithm>
#include <charconv>
#include <set>

#include "base/strings.h"
#include "engine/elb_wire.h"
#include "engine/load_balancing.h"
#include "engine/rule_conditions.h"

namespace slipway::engine {

namespace {

ApiError ListenerNotFound() { return {"ListenerNotFound", "One or more listeners not found", 400}; }
ApiError RuleNotFound() { return {"RuleNotFound", "One or more rules not found", 400}; }
ApiError PriorityInUse(int priority) {
  return {"PriorityInUse", "Priority '" + std::to_string(priority) + "' is currently in use", 400};
}
/// The rules a load balancer's listeners hold besides their default ones, as an ALB's quota
/// allows.
constexpr size_t kMaxRulesPerLoadBalancer = 100;

ApiError TooManyRules(const std::string& load_balancer_arn) {
  return {
      "TooManyRules",
      "The maximum number of rules on load balancer '" + load_balancer_arn + "' has been reached",
      400};
}
ApiError DefaultRuleNotPermitted(const std::string& what) {
  return {"OperationNotPermitted", what, 400};
}

/// The rule-ARN form of a listener ARN's resource part: "…:listener-rule/app/<lb>/<id>/<listener>".
std::string RuleArnBase(const std::string& listener_arn) {
  const size_t at = listener_arn.find(":listener/");
  if (at == std::string::npos) return listener_arn;
  return listener_arn.substr(0, at) + ":listener-rule/" + listener_arn.substr(at + 10);
}

/// The ARN under which a listener's default rule is shown.
std::string DefaultRuleArn(const std::string& listener_arn) {
  return RuleArnBase(listener_arn) + "/default";
}

/// A stored rule's priority as a number (its text is always digits; "default" is never stored).
int PriorityOf(const Rule& r) {
  int n = 0;
  std::from_chars(r.priority.data(), r.priority.data() + r.priority.size(), n);
  return n;
}

/// Rule transforms (host and URL rewrites) are not served: a rule with one is refused rather than
/// stored without it.
tl::expected<void, ApiError> RefuseTransforms(const QueryParams& p) {
  auto it = p.lower_bound("Transforms.");
  if (it != p.end() && it->first.starts_with("Transforms.")) {
    return tl::unexpected(ElbValidation("The engine does not serve rule transforms"));
  }
  return {};
}

std::string RuleXml(const Rule& r) {
  return Xml()
      .Open("member")
      .Leaf("RuleArn", r.arn)
      .Leaf("Priority", r.priority)
      .Open("Conditions")
      .Raw(ConditionsXml(r.conditions))
      .Close("Conditions")
      .Open("Actions")
      .Raw(ActionsXml(r.actions))
      .Close("Actions")
      .Leaf("IsDefault", r.priority == "default" ? "true" : "false")
      .Close("member")
      .str();
}

std::string RulesXml(const std::vector<Rule>& rules) {
  Xml x;
  x.Open("Rules");
  for (const auto& r : rules) x.Raw(RuleXml(r));
  return x.Close("Rules").str();
}

}  // namespace

std::optional<Rule> LoadBalancing::DefaultRuleOf(const std::string& rule_arn) const {
  for (const auto& [arn, l] : core_.state.listeners) {
    if (DefaultRuleArn(arn) != rule_arn) continue;
    Rule def;
    def.arn = rule_arn;
    def.listener_arn = arn;
    def.priority = "default";
    def.actions = l.default_actions;
    return def;
  }
  return std::nullopt;
}

void LoadBalancing::AssociateTargetGroups(const std::vector<Action>& actions,
                                          const std::string& listener_arn) {
  auto listener = core_.state.listeners.find(listener_arn);
  if (listener == core_.state.listeners.end()) return;
  const std::string& lb = listener->second.load_balancer_arn;
  for (const auto& a : actions) {
    auto tg = core_.state.target_groups.find(a.target_group_arn);
    if (a.type != "forward" || tg == core_.state.target_groups.end()) continue;
    auto& lbs = tg->second.load_balancer_arns;
    if (std::find(lbs.begin(), lbs.end(), lb) == lbs.end()) {
      lbs.push_back(lb);
      core_.Touch(ObjectKind::kTargetGroup, a.target_group_arn);
    }
  }
}

XmlResult LoadBalancing::CreateRule(const QueryParams& p) {
  auto listener = core_.state.listeners.find(Get(p, "ListenerArn"));
  if (listener == core_.state.listeners.end()) return tl::unexpected(ListenerNotFound());
  const int priority = GetInt(p, "Priority", 0);
  if (priority < 1 || priority > 50000)
    return tl::unexpected(ElbValidation("Priority must be between 1 and 50000"));
  if (auto ok = RefuseTransforms(p); !ok) return tl::unexpected(ok.error());
  auto conditions = ParseConditions(p, "Conditions");
  if (!conditions) return tl::unexpected(conditions.error());
  if (conditions->empty())
    return tl::unexpected(ElbValidation("A rule must have at least one condition"));
  auto actions = ParseActions(p, "Actions", core_.state);
  if (!actions) return tl::unexpected(actions.error());
  for (const auto& [arn, r] : core_.state.rules) {
    if (r.listener_arn == listener->first && PriorityOf(r) == priority)
      return tl::unexpected(PriorityInUse(priority));
  }
  // The ALB's quota; it also bounds the rules the proxy evaluates for each request.
  const std::string& lb = listener->second.load_balancer_arn;
  const auto on_lb =
      std::count_if(core_.state.rules.begin(), core_.state.rules.end(), [&](auto& r) {
        auto l = core_.state.listeners.find(r.second.listener_arn);
        return l != core_.state.listeners.end() && l->second.load_balancer_arn == lb;
      });
  if (static_cast<size_t>(on_lb) >= kMaxRulesPerLoadBalancer)
    return tl::unexpected(TooManyRules(lb));
  Rule rule;
  rule.listener_arn = listener->first;
  rule.priority = std::to_string(priority);
  rule.conditions = std::move(*conditions);
  rule.actions = std::move(*actions);
  rule.arn = RuleArnBase(listener->first) + "/" + RandomHex(16);
  AssociateTargetGroups(rule.actions, rule.listener_arn);
  core_.state.rules[rule.arn] = rule;
  core_.Touch(ObjectKind::kRule, rule.arn);
  routing_dirty_ = true;
  return RulesXml({rule});
}

XmlResult LoadBalancing::ModifyRule(const QueryParams& p) {
  const std::string arn = Get(p, "RuleArn");
  if (auto ok = RefuseTransforms(p); !ok) return tl::unexpected(ok.error());
  auto conditions = ParseConditions(p, "Conditions");
  if (!conditions) return tl::unexpected(conditions.error());
  std::optional<std::vector<Action>> actions;
  if (!StructListParam(p, "Actions").empty()) {
    auto parsed = ParseActions(p, "Actions", core_.state);
    if (!parsed) return tl::unexpected(parsed.error());
    actions = std::move(*parsed);
  }
  if (conditions->empty() && !actions)
    return tl::unexpected(ElbValidation("Either conditions or actions must be specified"));
  auto it = core_.state.rules.find(arn);
  if (it == core_.state.rules.end()) {
    // The default rule's actions are the listener's default actions; it has no conditions.
    auto def = DefaultRuleOf(arn);
    if (!def) return tl::unexpected(RuleNotFound());
    if (!conditions->empty())
      return tl::unexpected(DefaultRuleNotPermitted("Conditions cannot be set on a default rule"));
    core_.state.listeners[def->listener_arn].default_actions = *actions;
    AssociateTargetGroups(*actions, def->listener_arn);
    core_.Touch(ObjectKind::kListener, def->listener_arn);
    routing_dirty_ = true;
    def->actions = std::move(*actions);
    return RulesXml({*def});
  }
  Rule& rule = it->second;
  if (!conditions->empty()) rule.conditions = std::move(*conditions);
  if (actions) {
    rule.actions = std::move(*actions);
    AssociateTargetGroups(rule.actions, rule.listener_arn);
  }
  core_.Touch(ObjectKind::kRule, arn);
  routing_dirty_ = true;
  return RulesXml({rule});
}

XmlResult LoadBalancing::DeleteRule(const QueryParams& p) {
  const std::string arn = Get(p, "RuleArn");
  if (!core_.state.rules.count(arn)) {
    if (DefaultRuleOf(arn))
      return tl::unexpected(
          DefaultRuleNotPermitted("Default rule '" + arn + "' cannot be deleted"));
    return tl::unexpected(RuleNotFound());
  }
  core_.state.rules.erase(arn);
  core_.Touch(ObjectKind::kRule, arn);
  routing_dirty_ = true;
  return std::string();
}

XmlResult LoadBalancing::DescribeRules(const QueryParams& p) {
  const std::string listener_arn = Get(p, "ListenerArn");
  const auto arns = ListParam(p, "RuleArns");
  if (listener_arn.empty() == arns.empty()) {
    return tl::unexpected(ElbValidation(
        arns.empty()
            ? "You must specify either listener rule ARNs or a listener ARN"
            : "Listener rule ARNs and a listener ARN cannot be specified at the same time"));
  }
  std::vector<Rule> rules;
  if (!listener_arn.empty()) {
    if (!core_.state.listeners.count(listener_arn)) return tl::unexpected(ListenerNotFound());
    for (const auto& [arn, r] : core_.state.rules) {
      if (r.listener_arn == listener_arn) rules.push_back(r);
    }
    std::sort(rules.begin(), rules.end(),
              [](const Rule& a, const Rule& b) { return PriorityOf(a) < PriorityOf(b); });
    rules.push_back(*DefaultRuleOf(DefaultRuleArn(listener_arn)));
  } else {
    for (const auto& arn : std::set<std::string>(arns.begin(), arns.end())) {
      auto it = core_.state.rules.find(arn);
      auto def = it == core_.state.rules.end() ? DefaultRuleOf(arn) : std::nullopt;
      if (it == core_.state.rules.end() && !def) return tl::unexpected(RuleNotFound());
      rules.push_back(def ? *def : it->second);
    }
  }
  // Markers are offsets into this order, which is stable while the rules are.
  size_t from = 0;
  if (const std::string marker = Get(p, "Marker"); !marker.empty()) {
    auto [end, ec] = std::from_chars(marker.data(), marker.data() + marker.size(), from);
    if (ec != std::errc() || end != marker.data() + marker.size() || from > rules.size()) {
      return tl::unexpected(ElbValidation("The marker '" + Quotable(marker) + "' is not valid"));
    }
  }
  const size_t page = static_cast<size_t>(std::clamp(GetInt(p, "PageSize", 400), 1, 400));
  const size_t to = std::min(rules.size(), from + page);
  std::vector<Rule> shown(rules.begin() + static_cast<long>(from),
                          rules.begin() + static_cast<long>(to));
  std::string out = RulesXml(shown);
  if (to < rules.size()) out += Xml().Leaf("NextMarker", std::to_string(to)).str();
  return out;
}

XmlResult LoadBalancing::SetRulePriorities(const QueryParams& p) {
  // Checked in full before anything changes: the call applies all of its pairs or none.
  std::map<std::string, int> wanted;
  std::set<int> asked;
  for (const auto& pair : StructListParam(p, "RulePriorities")) {
    const std::string arn = Get(pair, "RuleArn");
    const int priority = GetInt(pair, "Priority", 0);
    if (arn.empty()) return tl::unexpected(ElbValidation("A rule ARN must be specified"));
    if (priority < 1 || priority > 50000)
      return tl::unexpected(ElbValidation("Priority must be between 1 and 50000"));
    if (!core_.state.rules.count(arn)) {
      if (DefaultRuleOf(arn))
        return tl::unexpected(
            DefaultRuleNotPermitted("The default rule's priority cannot be changed"));
      return tl::unexpected(RuleNotFound());
    }
    if (!asked.insert(priority).second) {
      return tl::unexpected(
          ElbValidation("Priority '" + std::to_string(priority) + "' was provided multiple times"));
    }
    if (!wanted.emplace(arn, priority).second) {
      return tl::unexpected(
          ElbValidation("Rule '" + Quotable(arn) + "' was provided multiple times"));
    }
  }
  if (wanted.empty())
    return tl::unexpected(ElbValidation("At least one rule priority must be specified"));
  // One rule per priority per listener, once every pair is applied.
  std::set<std::pair<std::string, int>> taken;
  for (const auto& [arn, r] : core_.state.rules) {
    auto w = wanted.find(arn);
    const int priority = w == wanted.end() ? PriorityOf(r) : w->second;
    if (!taken.emplace(r.listener_arn, priority).second)
      return tl::unexpected(PriorityInUse(priority));
  }
  std::vector<Rule> changed;
  for (const auto& [arn, priority] : wanted) {
    Rule& r = core_.state.rules[arn];
    r.priority = std::to_string(priority);
    core_.Touch(ObjectKind::kRule, arn);
    changed.push_back(r);
  }
  routing_dirty_ = true;
  return RulesXml(changed);
}

}  // namespace slipway::engine
