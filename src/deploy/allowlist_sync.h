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

/// The drift of `read` against the config (WantedRules, DiffRules).
[[nodiscard]] Result<RuleDrift> RuleDriftOf(const config::Environment& env, const ListenerRules& read);

/// Applies `drift` to the listener: creates and modifies first, deletes last, so that a source
/// the new rules admit is never refused in between. Refuses, before any change, a wanted priority
/// held by a rule slipway does not own. Returns one line per change made.
[[nodiscard]] Result<std::vector<std::string>> ApplyRuleDrift(aws::AwsClient& c, const std::string& listener_arn,
                                                              const RuleDrift& drift);

}  // namespace slipway::deploy
