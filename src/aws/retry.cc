// The standard retry mode's decisions, as botocore's retries/standard.py and quota.py make them.
#include "aws/retry.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <string>

namespace slipway::aws {

namespace {

// botocore's ThrottledRetryableChecker, the same list in every SDK's standard mode.
constexpr std::array<std::string_view, 14> kThrottlingCodes{
    "Throttling",          "ThrottlingException",    "ThrottledException",
    "RequestThrottledException", "TooManyRequestsException", "ProvisionedThroughputExceededException",
    "TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
    "LimitExceededException", "RequestThrottled",      "SlowDown",
    "PriorRequestNotComplete", "EC2ThrottledException"};

constexpr std::array<std::string_view, 3> kTransientCodes{"RequestTimeout", "RequestTimeoutException",
                                                          "PriorRequestNotComplete"};

bool IsTransientStatus(int status) { return status == 500 || status == 502 || status == 503 || status == 504; }

}  // namespace

bool IsThrottlingCode(std::string_view code) {
  return std::find(kThrottlingCodes.begin(), kThrottlingCodes.end(), code) != kThrottlingCodes.end();
}

Failure ClassifyReply(int status, std::string_view code) {
  if (status < 400) return Failure::kNone;
  if (IsThrottlingCode(code)) return Failure::kThrottled;
  if (IsTransientStatus(status) ||
      std::find(kTransientCodes.begin(), kTransientCodes.end(), code) != kTransientCodes.end()) {
    return Failure::kTransient;
  }
  return Failure::kNone;
}

bool RetryQuota::Acquire(int cost) {
  if (cost > available_) return false;
  available_ -= cost;
  return true;
}

void RetryQuota::Release(int amount) { available_ = std::min(kRetryQuotaCapacity, available_ + amount); }

Millis Backoff(int attempt, double random01, Millis max_backoff) {
  // 2^(attempt-1) s, computed without overflow: past 2^15 s every cap we use has been reached.
  const int doublings = std::clamp(attempt - 1, 0, 15);
  const Millis ceiling = std::min(max_backoff, Millis(1000L << doublings));
  return Millis(static_cast<long>(std::clamp(random01, 0.0, 1.0) * static_cast<double>(ceiling.count())));
}

RetryDecision DecideRetry(const FailedAttempt& a) {
  RetryDecision d;
  if (a.failure == Failure::kNone) return d;
  const bool may_have_arrived = a.failure == Failure::kConnection || a.failure == Failure::kTimeout;
  if (may_have_arrived && !a.safe_to_repeat) {
    d.action = RetryDecision::kOutcomeUnknown;
    return d;
  }
  if (a.attempt >= a.max_attempts) {
    d.exhausted = "attempts";
    return d;
  }
  const int cost = a.failure == Failure::kTimeout ? kTimeoutRetryCost : kRetryCost;
  if (cost > a.quota_available) {
    d.exhausted = "the retry quota";
    return d;
  }
  d.action = RetryDecision::kRetry;
  d.cost = cost;
  d.delay = Backoff(a.attempt, a.random01);
  return d;
}

Result<int> MaxAttemptsFrom(const char* value) {
  if (value == nullptr || *value == '\0') return kDefaultMaxAttempts;
  char* end = nullptr;
  errno = 0;
  const long n = std::strtol(value, &end, 10);
  if (*end != '\0' || errno != 0 || n < 1 || n > 100) {
    return Fail("AWS_MAX_ATTEMPTS must be a whole number from 1 to 100, not '" + std::string(value) + "'");
  }
  return static_cast<int>(n);
}

}  // namespace slipway::aws
