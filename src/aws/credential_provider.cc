// Caching and refreshing temporary credentials.
#include "aws/credential_provider.h"

#include <cstdio>
#include <ctime>

namespace slipway::aws {

Result<Credentials> RefreshingCredentialProvider::Get() {
  std::lock_guard<std::mutex> lock(mu_);
  const WallTime now = clock_.WallNow();
  if (cached_ && (!cached_->expiration || now + kRefreshAhead < *cached_->expiration))
    return cached_->creds;
  Result<IssuedCredentials> fetched = fetch_();
  if (fetched) {
    cached_ = std::move(*fetched);
    return cached_->creds;
  }
  // Still valid for a little while: carry on, and try the source again on the next request.
  if (cached_ && cached_->expiration && now < *cached_->expiration) return cached_->creds;
  return tl::unexpected(Wrap(source_, fetched.error()));
}

std::optional<WallTime> ParseIsoTime(const std::string& text) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6 ||
      consumed != 19) {
    return std::nullopt;
  }
  size_t at = 19;
  if (at < text.size() && text[at] == '.') {
    ++at;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') ++at;
  }
  long offset_seconds = 0;
  const std::string zone = text.substr(at);
  if (zone != "Z" && zone != "z") {
    int hours = 0, minutes = 0;
    char sign = 0;
    if (std::sscanf(zone.c_str(), "%c%2d:%2d", &sign, &hours, &minutes) != 3 ||
        (sign != '+' && sign != '-') || zone.size() != 6) {
      return std::nullopt;
    }
    offset_seconds = (sign == '+' ? 1 : -1) * (hours * 3600L + minutes * 60L);
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const time_t utc = ::timegm(&tm);
  if (utc == -1) return std::nullopt;
  return std::chrono::system_clock::from_time_t(utc - offset_seconds);
}

}  // namespace slipway::aws
