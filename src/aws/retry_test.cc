// The standard retry mode's decisions, as tables: what is retried, after how long, at what cost.
#include "aws/retry.h"

#include <gtest/gtest.h>

namespace slipway::aws {
namespace {

TEST(Retry, RepliesAreSortedByStatusAndCode) {
  struct Row {
    int status;
    const char* code;
    Failure want;
  };
  const Row rows[] = {
      {200, "", Failure::kNone},
      {400, "ThrottlingException", Failure::kThrottled},
      {400, "Throttling", Failure::kThrottled},  // the Query services' spelling
      {400, "RequestLimitExceeded", Failure::kThrottled},
      {400, "TooManyRequestsException", Failure::kThrottled},
      {400, "LimitExceededException", Failure::kThrottled},
      {503, "SlowDown", Failure::kThrottled},
      {400, "PriorRequestNotComplete", Failure::kThrottled},
      {400, "EC2ThrottledException", Failure::kThrottled},
      {500, "ServerException", Failure::kTransient},
      {500, "InternalFailure", Failure::kTransient},
      {502, "", Failure::kTransient},
      {503, "ServiceUnavailable", Failure::kTransient},
      {504, "", Failure::kTransient},
      {400, "RequestTimeout", Failure::kTransient},
      {408, "RequestTimeoutException", Failure::kTransient},
      {501, "NotImplemented", Failure::kNone},
      {400, "ClientException", Failure::kNone},
      {400, "InvalidParameterException", Failure::kNone},
      {403, "AccessDeniedException", Failure::kNone},
      {400, "ValidationError", Failure::kNone},
  };
  for (const auto& row : rows) {
    EXPECT_EQ(ClassifyReply(row.status, row.code), row.want) << row.status << " " << row.code;
  }
}

TEST(Retry, DecidesWhetherAndAtWhatCostToTryAgain) {
  using A = RetryDecision::Action;
  struct Row {
    const char* why;
    FailedAttempt in;
    A action;
    int cost;
    const char* exhausted;
  };
  const Row rows[] = {
      {"success", {Failure::kNone, 1, 3, false, 500, 0.5}, A::kStop, 0, ""},
      {"throttled", {Failure::kThrottled, 1, 3, false, 500, 0.5}, A::kRetry, kRetryCost, ""},
      {"a 500, even for a change: it was not applied", {Failure::kTransient, 1, 3, false, 500, 0.5}, A::kRetry,
       kRetryCost, ""},
      {"a reset, safe to repeat", {Failure::kConnection, 1, 3, true, 500, 0.5}, A::kRetry, kRetryCost, ""},
      {"a timeout costs more", {Failure::kTimeout, 1, 3, true, 500, 0.5}, A::kRetry, kTimeoutRetryCost, ""},
      {"a reset, not safe to repeat", {Failure::kConnection, 1, 3, false, 500, 0.5}, A::kOutcomeUnknown, 0, ""},
      {"a timeout, not safe to repeat", {Failure::kTimeout, 1, 6, false, 500, 0.5}, A::kOutcomeUnknown, 0, ""},
      {"last attempt", {Failure::kThrottled, 3, 3, false, 500, 0.5}, A::kStop, 0, "attempts"},
      {"one attempt only", {Failure::kTransient, 1, 1, true, 500, 0.5}, A::kStop, 0, "attempts"},
      {"second of six", {Failure::kTransient, 2, 6, true, 500, 0.5}, A::kRetry, kRetryCost, ""},
      {"quota spent", {Failure::kThrottled, 1, 3, true, 4, 0.5}, A::kStop, 0, "the retry quota"},
      {"quota just enough", {Failure::kThrottled, 1, 3, true, 5, 0.5}, A::kRetry, kRetryCost, ""},
      {"quota short of a timeout's cost", {Failure::kTimeout, 1, 3, true, 9, 0.5}, A::kStop, 0, "the retry quota"},
  };
  for (const auto& row : rows) {
    const RetryDecision d = DecideRetry(row.in);
    EXPECT_EQ(d.action, row.action) << row.why;
    EXPECT_EQ(d.cost, row.cost) << row.why;
    EXPECT_EQ(d.exhausted, row.exhausted) << row.why;
  }
}

TEST(Retry, BackoffIsFullJitterOverADoublingCeilingCappedAt20Seconds) {
  struct Row {
    int attempt;
    double random01;
    long want_ms;
  };
  const Row rows[] = {
      {1, 0.0, 0},       {1, 0.5, 500},     {1, 0.999, 999},  // ceiling 1 s
      {2, 0.5, 1'000},   {3, 0.5, 2'000},   {4, 1.0, 8'000},  // 2 s, 4 s, 8 s
      {5, 1.0, 16'000},  {6, 1.0, 20'000},  {6, 0.25, 5'000},  // 16 s, then capped at 20 s
      {40, 0.5, 10'000},                                       // no overflow far past the cap
  };
  for (const auto& row : rows) {
    EXPECT_EQ(Backoff(row.attempt, row.random01), Millis(row.want_ms)) << row.attempt << " " << row.random01;
  }
  const RetryDecision d = DecideRetry({Failure::kThrottled, 3, 6, false, 500, 0.5});
  EXPECT_EQ(d.delay, Millis(2'000));
}

TEST(RetryQuota, RetriesTakeFromItAndSuccessesGiveBackUpToItsCapacity) {
  RetryQuota q;
  EXPECT_EQ(q.available(), 500);
  q.Release(kNoRetryIncrement);  // never past the capacity
  EXPECT_EQ(q.available(), 500);
  // 50 timeouts' retries spend it all; then even a cheap retry is refused and takes nothing.
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(q.Acquire(kTimeoutRetryCost)) << i;
  EXPECT_EQ(q.available(), 0);
  EXPECT_FALSE(q.Acquire(kRetryCost));
  EXPECT_EQ(q.available(), 0);
  // A success after a retry refunds that retry's cost; one at the first attempt adds one.
  q.Release(kRetryCost);
  q.Release(kNoRetryIncrement);
  EXPECT_EQ(q.available(), 6);
  EXPECT_TRUE(q.Acquire(kRetryCost));
  EXPECT_FALSE(q.Acquire(kRetryCost));
}

TEST(Retry, MaxAttemptsComesFromTheEnvironmentOrDefaultsToThree) {
  EXPECT_EQ(MaxAttemptsFrom(nullptr).value(), 3);
  EXPECT_EQ(MaxAttemptsFrom("").value(), 3);
  EXPECT_EQ(MaxAttemptsFrom("6").value(), 6);
  EXPECT_EQ(MaxAttemptsFrom("1").value(), 1);
  for (const char* bad : {"0", "-2", "three", "5x", "1000"}) {
    auto r = MaxAttemptsFrom(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message.find("AWS_MAX_ATTEMPTS"), std::string::npos);
  }
}

}  // namespace
}  // namespace slipway::aws
