// PageGuard: a listing ends at an absent token, and a reply that would never end it is an error.
#include "aws/pages.h"

namespace slipway::aws {

Result<bool> PageGuard::Follow(const std::string& next) {
  if (next.empty()) return false;
  if (!seen_.insert(next).second) {
    return Fail(what_ + ": unexpected reply: " + token_ + " " + next + " came twice");
  }
  // Each token seen is one page read that asked for another.
  if (seen_.size() >= static_cast<size_t>(kMaxPages)) {
    return Fail(what_ + ": unexpected reply: more than " + std::to_string(kMaxPages) + " pages");
  }
  return true;
}

}  // namespace slipway::aws
