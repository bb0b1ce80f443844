// Real and fake clocks, and the timestamp formats AWS uses on the wire.
#include "base/clock.h"

#include <cctype>
#include <cstdlib>
#include <ctime>
#include <thread>

namespace slipway {

void RealClock::SleepFor(Millis d) { std::this_thread::sleep_for(d); }

SteadyTime FakeClock::Now() const {
  std::lock_guard lock(mu_);
  return now_;
}

WallTime FakeClock::WallNow() const {
  std::lock_guard lock(mu_);
  return wall_;
}

void FakeClock::Advance(Millis d) {
  std::lock_guard lock(mu_);
  now_ += d;
  wall_ += d;
}

double EpochSeconds(WallTime t) {
  auto ms = std::chrono::duration_cast<Millis>(t.time_since_epoch()).count();
  return static_cast<double>(ms) / 1000.0;
}

namespace {
std::tm UtcParts(WallTime t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return tm;
}
}  // namespace

std::string AmzDate(WallTime t) {
  std::tm tm = UtcParts(t);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string IsoTime(WallTime t) {
  std::tm tm = UtcParts(t);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  auto ms = std::chrono::duration_cast<Millis>(t.time_since_epoch()).count() % 1000;
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms));
  return out;
}

std::string LocalTimeOfDay(WallTime t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  localtime_r(&secs, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
  return buf;
}

bool ParseAmzDate(const std::string& s, WallTime* out) {
  std::tm tm{};
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return false;
  const char* end = strptime(s.c_str(), "%Y%m%dT%H%M%SZ", &tm);
  if (end == nullptr || *end != '\0') return false;
  *out = std::chrono::system_clock::from_time_t(timegm(&tm));
  return true;
}

bool ParseIsoTime(const std::string& s, double* epoch_seconds) {
  // "YYYY-MM-DDTHH:MM:SS" is 19 characters; then [.fraction] and Z or an offset.
  if (s.size() < 20 || s.size() > 40 || (s[10] != 'T' && s[10] != 't')) return false;
  std::tm tm{};
  const std::string date_time = s.substr(0, 19);  // `end` points into it, so it must outlive the call
  const char* end = strptime(date_time.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == nullptr || *end != '\0') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18}) {
    if (s[i] < '0' || s[i] > '9') return false;  // strptime would take " 5" for "05"
  }
  size_t i = 19;
  double fraction = 0;
  if (s[i] == '.') {
    double scale = 0.1;
    size_t digits = 0;
    for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, ++digits, scale /= 10) fraction += (s[i] - '0') * scale;
    if (digits == 0 || digits > 9) return false;
  }
  long offset = 0;
  const std::string zone = s.substr(i);
  if (zone == "Z" || zone == "z") {
    offset = 0;
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':' &&
             std::isdigit(static_cast<unsigned char>(zone[1])) && std::isdigit(static_cast<unsigned char>(zone[2])) &&
             std::isdigit(static_cast<unsigned char>(zone[4])) && std::isdigit(static_cast<unsigned char>(zone[5]))) {
    offset = ((zone[1] - '0') * 10 + (zone[2] - '0')) * 3600 + ((zone[4] - '0') * 10 + (zone[5] - '0')) * 60;
    if (zone[0] == '-') offset = -offset;
  } else {
    return false;
  }
  *epoch_seconds = static_cast<double>(timegm(&tm) - offset) + fraction;
  return true;
}

long ParseDuration(const std::string& text) {
  if (text.size() < 2 || text.size() > 10) return -1;
  const std::string digits = text.substr(0, text.size() - 1);
  if (digits.find_first_not_of("0123456789") != std::string::npos) return -1;
  const long n = std::atol(digits.c_str());
  switch (text.back()) {
    case 's': return n;
    case 'm': return n * 60;
    case 'h': return n * 3600;
    case 'd': return n * 86400;
    default: return -1;
  }
}

}  // namespace slipway
