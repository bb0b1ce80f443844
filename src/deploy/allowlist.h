// Allowlists as listener rules: which rules slipway wants on an environment's listener for its
// `allow:` lists, which live rules it owns, and how the two differ. Pure: allowlist_sync.cc reads
// and applies.
//
// Without any `allow:` the listener routes openly, as always: one path rule per service with a
// pathPattern, at its priority, and the listener's default action for the service without one.
// With an allowlist anywhere in the environment, slipway's rules live in a band of priorities
// (config::kAllowlistFirstPriority..kAllowlistLastPriority), one block of 100 per service in the
// order its pathPattern is matched (the service without one last), and its path rules go:
//   allowed service:  <block>+0..k  [path-pattern,] source-ip (≤ 5 values in all) -> forward
//                     <block>+99    [path-pattern]  (or source-ip 0.0.0.0/0, ::/0)  -> 403
//   open service:     <block>+0     path-pattern -> forward
// A rule is slipway's when its priority lies in the band, or when it is one of its path rules (a
// lone path-pattern condition at the service's priority, forwarding to the service's target group).
// Every other rule is left alone.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "aws/elbv2.h"
#include "base/result.h"
#include "config/config.h"

namespace slipway::deploy {

/// Priorities per service block in the band; the last one of a block holds its 403.
inline constexpr int kAllowlistBlock = 100;
/// An ALB rule holds at most this many condition values, all its conditions together.
inline constexpr int kConditionValuesPerRule = 5;
/// Rules an application load balancer holds besides its listeners' default rules (its quota).
inline constexpr int kMaxRulesPerLoadBalancer = 100;
/// The status the listener answers a source no list admits with.
inline constexpr const char* kForbiddenStatus = "403";

/// A listener rule slipway wants.
struct WantedRule {
  int priority = 0;
  std::string service;  ///< the config service it belongs to
  std::string role;     ///< "path" (open routing), "open", "allow" or "deny"
  std::vector<aws::RuleCondition> conditions;
  aws::Action action;
};

/// What a live rule is compared as: conditions by field with sorted (canonical) values, and
/// what its action does ("forward <arn>" or "fixed-response 403").
std::string RuleShape(const std::vector<aws::RuleCondition>& conditions, const std::vector<aws::Action>& actions);

/// Whether any `allow:` is set in `env` (then its routing lives in the band).
bool HasAllowlist(const config::Environment& env);

/// The rules slipway wants on `env`'s listener; `target_groups` by config service name (a
/// missing one shows as "(created at release)"). Fails when the band cannot hold them.
[[nodiscard]] Result<std::vector<WantedRule>> WantedRules(const config::Environment& env,
                                                          const std::map<std::string, std::string>& target_groups);

/// Whether slipway owns the live rule `rule` of `env`'s listener (see the file comment).
bool OwnedRule(const aws::Rule& rule, const config::Environment& env,
               const std::map<std::string, std::string>& target_groups);

/// A wanted rule next to the live rule at its priority.
struct ChangedRule {
  WantedRule wanted;
  aws::Rule live;
};

/// The live rules of a listener against the wanted ones, by priority.
struct RuleDrift {
  std::vector<WantedRule> matching;
  std::vector<WantedRule> missing;   ///< to create
  std::vector<ChangedRule> changed;  ///< slipway's rule at that priority differs: to modify
  std::vector<aws::Rule> extra;      ///< slipway's, not wanted: to delete
  std::vector<aws::Rule> foreign;    ///< not slipway's: never touched
  /// A wanted priority held by a rule slipway does not own: it cannot be created there.
  std::vector<WantedRule> blocked;

  bool Any() const { return !missing.empty() || !changed.empty() || !extra.empty() || !blocked.empty(); }
};

/// Compares `live` (DescribeRules, the default rule included) with `wanted`.
RuleDrift DiffRules(const std::vector<WantedRule>& wanted, const std::vector<aws::Rule>& live,
                    const config::Environment& env, const std::map<std::string, std::string>& target_groups);

/// One line for a rule: "47001 web: source-ip 127.0.0.2/32 -> forward".
std::string DescribeWanted(const WantedRule& rule);
std::string DescribeLive(const aws::Rule& rule);

/// The drift as lines: "= …" matching, "+ …" to create, "~ …" to modify, "- …" to delete, "! …"
/// blocked; rules slipway does not own are counted, not listed.
std::vector<std::string> DriftLines(const RuleDrift& drift);

/// The drift as `--output json` shows it.
nlohmann::json DriftJson(const RuleDrift& drift);

/// Where the release's verify requests can come from, given the allowlists they meet.
struct VerifyAccess {
  /// The loopback address to send from (provider local), "" for the machine's default.
  std::string source;
  /// Why verify may be blocked, said before any change.
  std::vector<std::string> warnings;
};

/// Chooses the verify source for `env`: on provider local, 127.0.0.1 when every list the checks
/// meet admits it, else the first address inside 127.0.0.0/8 that they all admit; a warning when
/// none does. On provider aws slipway cannot know its own public address: a warning says so when
/// a check meets an allowlist that does not admit everyone.
VerifyAccess VerifyAccessFor(const config::Environment& env);

}  // namespace slipway::deploy
