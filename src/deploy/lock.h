// The release lock. ECS has no lock primitive, so slipway combines two checks:
//  - a deployment of any service of the environment is IN_PROGRESS (slipway's or anyone's);
//  - a `slipway:lock` tag on a service, set for the whole release (migrations included) and removed
//    at its end: "<release-id> <started ISO> <expires epoch-seconds> <actor>".
// Setting the tag is followed by reading it back, so of two releases that start together at most
// one proceeds in all but a narrow interleaving; an expired tag (a crashed release) is ignored.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "aws/aws_client.h"
#include "config/config.h"

namespace slipway::deploy {

inline constexpr const char* kLockTag = "slipway:lock";

/// Held for the lifetime of a release; the destructor removes the lock tags it set.
class ReleaseLock {
 public:
  ~ReleaseLock();
  ReleaseLock(const ReleaseLock&) = delete;
  ReleaseLock& operator=(const ReleaseLock&) = delete;

  /// Takes the lock on every existing service of `env`. Returns null with `held_by` set when
  /// another release holds it (naming the deployment or release and when it started).
  [[nodiscard]] static Result<std::unique_ptr<ReleaseLock>> Acquire(aws::AwsClient& c, const config::Environment& env,
                                                                    const std::string& release_id,
                                                                    const std::string& actor, long ttl_seconds,
                                                                    std::string& held_by);

 private:
  ReleaseLock(aws::AwsClient& c, std::vector<std::string> arns) : client_(c), arns_(std::move(arns)) {}
  aws::AwsClient& client_;
  std::vector<std::string> arns_;
};

}  // namespace slipway::deploy
