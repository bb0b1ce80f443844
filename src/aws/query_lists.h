// How the typed Query clients (elbv2.h, ec2.h) flatten lists into request parameters and read
// numbers from replies.
#pragma once

#include <string>
#include <vector>

#include "aws/aws_client.h"

namespace slipway::aws {

/// How a protocol names a list's entries: ELBv2's "Names.member.1", EC2's "SubnetId.1".
enum class ListStyle { kQuery, kEc2 };

/// The parameter name of entry `index` (0-based) of list `name`; structure fields follow a '.'.
std::string ListKey(ListStyle style, const std::string& name, size_t index);

/// Adds `values` to `params` as list `name`; an empty list adds nothing.
void AddList(QueryParams& params, ListStyle style, const std::string& name,
             const std::vector<std::string>& values);

/// Sets `params[key]` unless `value` is empty: an unset member is not sent.
void AddIfSet(QueryParams& params, const std::string& key, const std::string& value);
/// Sets `params[key]` unless `value` is 0 (unset).
void AddIfSet(QueryParams& params, const std::string& key, int value);

/// The integer a reply's element holds, or `fallback` when it is empty or not a number.
int IntOr(const std::string& text, int fallback);

/// The text of `reply`'s elements named `name` (e.g. EC2's <item>) under `path`, in order.
std::vector<std::string> TextsAt(const XmlNode& reply, const std::string& path,
                                 const std::string& name);

}  // namespace slipway::aws
