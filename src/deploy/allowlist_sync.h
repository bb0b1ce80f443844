// Reading an environment's listener rules and bringing them to what the config wants (allowlist.h).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "aws/aws_client.h"
#include "config/config.h"
#include "deploy/allowlist.h"

namespace slipway::deploy {

/// The environment's listener as read: its ARN, the target groups by config service name
/// (existing ones), and its rules.
struct ListenerRules {
  std::string load_balancer_arn;  ///< "" when the load balancer does not exist
  std::string listener_arn;       ///< "" when the listener does not exist
  std::map<std::string, std::string> target_groups;
  std::vector<aws::Rule> rules;
};

/// Reads the environment's load balancer, target groups, listener and rules (Describe calls only).
[[nodiscard]] Result<ListenerRules> ReadListenerRules(aws::AwsClient& c, const config::Environment& env);

/// The drift of `read` against the config (WantedRules, DiffRules). Fails, before anything
/// changes, when applying it would put more rules on the listener than a load balancer holds.
[[nodiscard]] Result<RuleDrift> RuleDriftOf(const config::Environment& env, const ListenerRules& read);

/// Applies `drift` to the listener: creates (each list's 403 before its allow rules, so that a
/// sync cut short never leaves a service open to sources its list does not admit) and modifies
/// first, deletes last. Refuses, before any change, a wanted priority held by a rule slipway does
/// not own. Returns one line per change made; a failure part way names what was applied.
[[nodiscard]] Result<std::vector<std::string>> ApplyRuleDrift(aws::AwsClient& c, const std::string& listener_arn,
                                                              const RuleDrift& drift);

}  // namespace slipway::deploy
