// The AWS SDKs' "standard" retry mode as pure decisions: which failures are worth another
// attempt, how long to wait before it, and the quota that stops retries when an endpoint keeps failing.
#pragma once

#include <string_view>

#include "base/clock.h"
#include "base/result.h"

namespace slipway::aws {

/// Attempts per call, the first included, unless AWS_MAX_ATTEMPTS says otherwise.
inline constexpr int kDefaultMaxAttempts = 3;
/// The longest wait between two attempts.
inline constexpr Millis kMaxBackoff{20'000};
/// The retry quota a client starts with, and never exceeds.
inline constexpr int kRetryQuotaCapacity = 500;
/// What one retry takes from the quota; a retry after a timeout takes more.
inline constexpr int kRetryCost = 5;
inline constexpr int kTimeoutRetryCost = 10;
/// What a call that succeeded at its first attempt gives back to the quota.
inline constexpr int kNoRetryIncrement = 1;

/// What one attempt of a call ended in, as far as retrying is concerned.
enum class Failure {
  kNone,        ///< a reply retrying would not change: success, or an error such as a bad parameter
  kThrottled,   ///< a throttling error code (ThrottlingException, RequestLimitExceeded, ...)
  kTransient,   ///< HTTP 500/502/503/504, or a transient code (RequestTimeout, ...)
  kConnection,  ///< no reply: the connection broke after the request may have arrived
  kTimeout,     ///< no reply in time, after the request may have arrived
};

/// True for the error codes the SDKs treat as throttling.
bool IsThrottlingCode(std::string_view code);
/// Sorts a reply by its HTTP status and decoded error code (empty for a success).
Failure ClassifyReply(int status, std::string_view code);

/// The client-wide budget for retries (a token bucket): each retry takes from it, each success
/// gives back, so an endpoint that fails every call soon gets no more retries than calls.
class RetryQuota {
 public:
  /// Takes `cost` when that much is left and returns true; otherwise takes nothing.
  bool Acquire(int cost);
  /// Gives back `amount`, never past the capacity.
  void Release(int amount);
  int available() const { return available_; }

 private:
  int available_ = kRetryQuotaCapacity;
};

/// The wait before the next attempt once attempt `attempt` (1-based) failed, "full jitter":
/// `random01` (uniform in [0, 1)) times min(2^(attempt-1) s, max_backoff).
Millis Backoff(int attempt, double random01, Millis max_backoff = kMaxBackoff);

/// Everything the decision after a failed attempt depends on.
struct FailedAttempt {
  Failure failure = Failure::kNone;
  int attempt = 1;       ///< 1-based number of the attempt that failed
  int max_attempts = kDefaultMaxAttempts;
  /// Doing the call twice has the effect of doing it once (a read, a value set outright, a
  /// create that is idempotent by name or by client token). Matters only when the request may
  /// have arrived (kConnection, kTimeout); a reply says it was refused or not applied.
  bool safe_to_repeat = false;
  int quota_available = kRetryQuotaCapacity;
  double random01 = 0;   ///< a fresh uniform draw in [0, 1), for the jitter
};

/// What to do after a failed attempt.
struct RetryDecision {
  enum Action {
    kStop,            ///< return this attempt's result: not retryable, or out of attempts or quota
    kRetry,           ///< take `cost` from the quota, wait `delay`, and send again
    kOutcomeUnknown,  ///< the request may have been applied and must not be sent again
  } action = kStop;
  Millis delay{0};
  int cost = 0;
  /// Why a retryable failure was not retried ("3 attempts", "the retry quota"), else empty.
  std::string_view exhausted;
};

/// The standard retry mode's decision after a failed attempt.
RetryDecision DecideRetry(const FailedAttempt& a);

/// The attempt count from AWS_MAX_ATTEMPTS's value: kDefaultMaxAttempts when unset or empty,
/// else a whole number of at least 1.
[[nodiscard]] Result<int> MaxAttemptsFrom(const char* value);

}  // namespace slipway::aws
