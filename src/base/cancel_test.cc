// Interruptible waits on a fake clock.
#include "base/cancel.h"

#include <gtest/gtest.h>

namespace slipway {
namespace {

// A clock whose sleeps also set a token after a number of them, as a signal would.
class CancellingClock final : public Clock {
 public:
  CancellingClock(CancelToken& token, int sleeps_before_cancel) : token_(token), left_(sleeps_before_cancel) {}
  SteadyTime Now() const override { return inner_.Now(); }
  WallTime WallNow() const override { return inner_.WallNow(); }
  void SleepFor(Millis d) override {
    inner_.SleepFor(d);
    if (--left_ == 0) token_.Cancel();
  }

 private:
  FakeClock inner_;
  CancelToken& token_;
  int left_;
};

TEST(SleepUnlessCancelled, WaitsTheWholeTimeWhenNobodyCancels) {
  FakeClock clock;
  CancelToken token;
  const SteadyTime before = clock.Now();
  EXPECT_TRUE(SleepUnlessCancelled(clock, Millis(2000), &token));
  EXPECT_EQ(clock.Now() - before, Millis(2000));
}

TEST(SleepUnlessCancelled, StopsWithinASliceOfTheCancel) {
  CancelToken token;
  CancellingClock clock(token, 3);
  const SteadyTime before = clock.Now();
  EXPECT_FALSE(SleepUnlessCancelled(clock, Millis(60'000), &token));
  EXPECT_LE(clock.Now() - before, Millis(300));
}

TEST(SleepUnlessCancelled, DoesNotWaitAtAllOnceCancelled) {
  FakeClock clock;
  CancelToken token;
  token.Cancel();
  const SteadyTime before = clock.Now();
  EXPECT_FALSE(SleepUnlessCancelled(clock, Millis(2000), &token));
  EXPECT_EQ(clock.Now(), before);
}

TEST(SleepUnlessCancelled, ANullTokenIsNeverCancelled) {
  FakeClock clock;
  EXPECT_TRUE(SleepUnlessCancelled(clock, Millis(500), nullptr));
}

}  // namespace
}  // namespace slipway
