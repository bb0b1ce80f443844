// Time as an injected dependency, so waits and timeouts can be tested on a fake clock.
#pragma once

#include <chrono>
#include <mutex>
#include <string>

namespace slipway {

using SteadyTime = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;
using Millis = std::chrono::milliseconds;

/// Source of monotonic and wall time, and of sleeping.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual SteadyTime Now() const = 0;
  virtual WallTime WallNow() const = 0;
  virtual void SleepFor(Millis d) = 0;
};

/// The process's real clocks.
class RealClock final : public Clock {
 public:
  SteadyTime Now() const override { return std::chrono::steady_clock::now(); }
  WallTime WallNow() const override { return std::chrono::system_clock::now(); }
  void SleepFor(Millis d) override;
};

/// A clock that only moves when told to; SleepFor advances it instantly.
class FakeClock final : public Clock {
 public:
  SteadyTime Now() const override;
  WallTime WallNow() const override;
  void SleepFor(Millis d) override { Advance(d); }
  void Advance(Millis d);

 private:
  mutable std::mutex mu_;
  SteadyTime now_{};
  WallTime wall_{std::chrono::seconds(1'700'000'000)};
};

/// Seconds since the epoch with millisecond precision, as AWS JSON timestamps carry them.
double EpochSeconds(WallTime t);
/// "20150830T123600Z" (SigV4 x-amz-date form).
std::string AmzDate(WallTime t);
/// "2015-08-30T12:36:00.000Z" (ISO 8601, as Query-protocol XML timestamps carry them).
std::string IsoTime(WallTime t);
/// "12:00:01" in the machine's local time, as slipway stamps its progress lines.
std::string LocalTimeOfDay(WallTime t);
/// Parses AmzDate's form; false if malformed.
bool ParseAmzDate(const std::string& s, WallTime* out);
/// Parses an ISO 8601 time as Query clients send timestamps: "2015-08-30T12:36:00Z", with
/// optional fractional seconds and a "Z" or "+hh:mm"/"-hh:mm" offset, into epoch seconds. False
/// if malformed.
bool ParseIsoTime(const std::string& s, double* epoch_seconds);
/// "90s", "10m", "2h", "7d" as seconds; -1 when malformed (no unit, a sign, or more than 9 digits).
long ParseDuration(const std::string& text);

}  // namespace slipway
