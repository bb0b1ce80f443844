// The one rule every paginated call follows, so that no reply can keep a listing going for ever.
#pragma once

#include <set>
#include <string>

#include "base/result.h"

namespace slipway::aws {

/// Pages a listing may run to before it is taken as looping rather than that large.
inline constexpr int kMaxPages = 1000;

/// Follows the tokens of one listing. Services end a listing by leaving the token out; a token
/// that comes back (A, B, A, ... or A, A) would ask for pages already read, for ever.
class PageGuard {
 public:
  /// `what` names the call ("logs FilterLogEvents"), `token` the reply's field ("nextToken").
  PageGuard(std::string what, std::string token)
      : what_(std::move(what)), token_(std::move(token)) {}

  /// Whether to ask for the page `next` names: false when it is empty (that was the last page);
  /// "<what>: unexpected reply: ..." when it came before or the listing passed kMaxPages pages.
  [[nodiscard]] Result<bool> Follow(const std::string& next);

 private:
  std::string what_;
  std::string token_;
  std::set<std::string> seen_;
};

}  // namespace slipway::aws
