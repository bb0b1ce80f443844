// The allowlist's driver: DescribeRules, then CreateRule, ModifyRule and DeleteRule as the drift says.
#include "deploy/allowlist_sync.h"

#include <algorithm>

#include "aws/elbv2.h"
#include "base/strings.h"
#include "deploy/provision.h"

namespace slipway::deploy {

namespace {

// CreateRule is not idempotent (a repeat is refused: PriorityInUse), so a lost reply is resolved
// by looking for the rule at its priority before sending it again.
Result<void> CreateWanted(aws::Elbv2& elb, const std::string& listener_arn, const WantedRule& w) {
  constexpr int kTries = 3;
  for (int tries = 1;; ++tries) {
    auto created = elb.CreateRule({listener_arn, w.priority, w.conditions, {w.action}});
    if (created || created.error().code != aws::kOutcomeUnknown || tries == kTries) {
      return created ? Result<void>() : tl::unexpected(created.error());
    }
    auto rules = elb.DescribeRules(listener_arn);
    if (!rules) return tl::unexpected(created.error());  // still unknown
    for (const aws::Rule& r : *rules) {
      if (r.priority == std::to_string(w.priority) &&
          RuleShape(r.conditions, r.actions) == RuleShape(w.conditions, {w.action})) {
        return {};
      }
    }
  }
}

}  // namespace

Result<ListenerRules> ReadListenerRules(aws::AwsClient& c, const config::Environment& env) {
  ListenerRules out;
  aws::Elbv2 elb(c);
  auto lb = elb.FindLoadBalancer(env.load_balancer_name);
  if (!lb) return tl::unexpected(lb.error());
  if (!*lb) return out;
  out.load_balancer_arn = (*lb)->arn;
  for (const auto& [name, se] : env.services) {
    auto tg = elb.FindTargetGroup(TargetGroupName(env, name));
    if (!tg) return tl::unexpected(tg.error());
    if (*tg) out.target_groups[name] = (*tg)->arn;
  }
  auto listeners = elb.DescribeListeners(out.load_balancer_arn);
  if (!listeners) return tl::unexpected(listeners.error());
  for (const aws::Listener& l : *listeners) {
    if (l.port == env.listener_port) out.listener_arn = l.arn;
  }
  if (out.listener_arn.empty()) return out;
  auto rules = elb.DescribeRules(out.listener_arn);
  if (!rules) return tl::unexpected(rules.error());
  out.rules = std::move(*rules);
  return out;
}

Result<RuleDrift> RuleDriftOf(const config::Environment& env, const ListenerRules& read) {
  auto wanted = WantedRules(env, read.target_groups);
  if (!wanted) return tl::unexpected(wanted.error());
  RuleDrift drift = DiffRules(*wanted, read.rules, env, read.target_groups);
  // Refused before anything changes: a sync that ran into the quota halfway would leave some of
  // a list's rules and not others.
  const auto live = std::count_if(read.rules.begin(), read.rules.end(),
                                  [](const aws::Rule& r) { return r.priority != "default"; });
  const auto after = live - static_cast<long>(drift.extra.size()) + static_cast<long>(drift.missing.size());
  if (after > kMaxRulesPerLoadBalancer) {
    return Fail("the listener would hold " + std::to_string(after) + " rules (" + std::to_string(live) + " now, " +
                std::to_string(drift.missing.size()) + " to create, " + std::to_string(drift.extra.size()) +
                " to delete), past the load balancer's limit of " + std::to_string(kMaxRulesPerLoadBalancer) +
                "; every " + std::to_string(kConditionValuesPerRule) +
                " allow: blocks (fewer with a pathPattern) take a rule, so use fewer or wider CIDR blocks; nothing was changed");
  }
  return drift;
}

Result<std::vector<std::string>> ApplyRuleDrift(aws::AwsClient& c, const std::string& listener_arn,
                                                const RuleDrift& drift) {
  if (!drift.blocked.empty()) {
    return Fail("listener rule priority " + std::to_string(drift.blocked.front().priority) +
                " is held by a rule slipway does not own (it never changes those); move or delete it, then sync again");
  }
  aws::Elbv2 elb(c);
  std::vector<std::string> done;
  // A failure part way names what was already applied: the listener then differs from both the
  // old and the new config, and `slipway allowlist sync` finishes the job.
  auto failed = [&done](const Error& e) -> Result<std::vector<std::string>> {
    if (done.empty()) return tl::unexpected(e);
    return Fail(e.message + "; already applied: " + Join(done, ", ") + "; `slipway allowlist sync` applies the rest", e.code);
  };
  // The 403s first: until a list's allow rules are all in place its sources may meet a 403 for a
  // moment, but a sync cut short never leaves a service open to sources its list does not admit.
  std::vector<const WantedRule*> order;
  for (const WantedRule& w : drift.missing) if (w.role == "deny") order.push_back(&w);
  for (const WantedRule& w : drift.missing) if (w.role != "deny") order.push_back(&w);
  for (const WantedRule* w : order) {
    if (auto r = CreateWanted(elb, listener_arn, *w); !r) return failed(r.error());
    done.push_back("created rule " + DescribeWanted(*w));
  }
  for (const ChangedRule& ch : drift.changed) {
    if (auto r = elb.ModifyRule(ch.live.arn, ch.wanted.conditions, {ch.wanted.action}); !r) return failed(r.error());
    done.push_back("modified rule " + DescribeWanted(ch.wanted));
  }
  for (const aws::Rule& r : drift.extra) {
    auto deleted = elb.DeleteRule(r.arn);
    if (!deleted && deleted.error().code != "RuleNotFound") return failed(deleted.error());
    done.push_back("deleted rule " + DescribeLive(r));
  }
  return done;
}

}  // namespace slipway::deploy
