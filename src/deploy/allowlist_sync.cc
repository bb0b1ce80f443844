// The allowlist's driver: DescribeRules, then CreateRule, ModifyRule and DeleteRule as the drift says.
#include "deploy/allowlist_sync.h"

#include "aws/elbv2.h"
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
  return DiffRules(*wanted, read.rules, env, read.target_groups);
}

Result<std::vector<std::string>> ApplyRuleDrift(aws::AwsClient& c, const std::string& listener_arn,
                                                const RuleDrift& drift) {
  if (!drift.blocked.empty()) {
    return Fail("listener rule priority " + std::to_string(drift.blocked.front().priority) +
                " is held by a rule slipway does not own (it never changes those); move or delete it, then sync again");
  }
  aws::Elbv2 elb(c);
  std::vector<std::string> done;
  for (const WantedRule& w : drift.missing) {
    if (auto r = CreateWanted(elb, listener_arn, w); !r) return tl::unexpected(r.error());
    done.push_back("created rule " + DescribeWanted(w));
  }
  for (const ChangedRule& ch : drift.changed) {
    if (auto r = elb.ModifyRule(ch.live.arn, ch.wanted.conditions, {ch.wanted.action}); !r) {
      return tl::unexpected(r.error());
    }
    done.push_back("modified rule " + DescribeWanted(ch.wanted));
  }
  for (const aws::Rule& r : drift.extra) {
    auto deleted = elb.DeleteRule(r.arn);
    if (!deleted && deleted.error().code != "RuleNotFound") return tl::unexpected(deleted.error());
    done.push_back("deleted rule " + DescribeLive(r));
  }
  return done;
}

}  // namespace slipway::deploy
