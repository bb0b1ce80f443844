// Listener rule conditions as CreateRule and ModifyRule receive them and DescribeRules shows them:
// source-ip, path-pattern, host-header and http-header, checked against the ALB's limits.
#pragma once

#include <string>
#include <vector>

#include "engine/api_types.h"
#include "engine/model.h"

namespace slipway::engine {

/// Values one rule may hold across all its conditions (the ALB's quota, not adjustable).
inline constexpr size_t kMaxConditionValues = 5;
/// Wildcards ('*', '?') one rule may hold across all its conditions.
inline constexpr size_t kMaxConditionWildcards = 5;
/// Longest path-pattern, host-header or http-header value.
inline constexpr size_t kMaxConditionValueLength = 128;
/// Longest http-header name.
inline constexpr size_t kMaxHeaderNameLength = 40;

/// Reads and checks the condition list `prefix` ("Conditions") of a Query request: a known field
/// each, values in the field's own config (or the legacy Values for path-pattern and
/// host-header, at most one there), valid CIDR blocks, header names and patterns, at most one
/// source-ip, path-pattern and host-header condition, and at most kMaxConditionValues values in
/// all. Errors are ValidationError, worded as the ALB words them where known.
tl::expected<std::vector<RuleCondition>, ApiError> ParseConditions(const QueryParams& p,
                                                                   const std::string& prefix);

/// The members of a Conditions list as botocore's RuleCondition shape: each field's config, and
/// the legacy Values too for path-pattern and host-header, as the ALB answers.
std::string ConditionsXml(const std::vector<RuleCondition>& conditions);

}  // namespace slipway::engine
