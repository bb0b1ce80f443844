// Where signed requests get their credentials: a fixed pair, or a source asked again before expiry.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "aws/sigv4.h"
#include "base/clock.h"
#include "base/result.h"

namespace slipway::aws {

/// Credentials as a source issues them: temporary ones say when they expire.
struct IssuedCredentials {
  Credentials creds;
  std::optional<WallTime> expiration;
};

/// Hands out the credentials to sign the next request with. AwsClient asks before every request,
/// so temporary credentials are renewed in the middle of a long release.
class CredentialProvider {
 public:
  virtual ~CredentialProvider() = default;
  /// Credentials valid now; the error says why none could be had.
  [[nodiscard]] virtual Result<Credentials> Get() = 0;
  /// Where the credentials come from, e.g. "environment variables", "profile dev (role_arn)".
  virtual std::string Source() const = 0;
};

/// The same credentials every time (the local engine's key pair, tests, environment variables).
class StaticCredentialProvider final : public CredentialProvider {
 public:
  explicit StaticCredentialProvider(Credentials creds, std::string source = "static credentials")
      : creds_(std::move(creds)), source_(std::move(source)) {}
  Result<Credentials> Get() override { return creds_; }
  std::string Source() const override { return source_; }

 private:
  Credentials creds_;
  std::string source_;
};

/// How long before expiry temporary credentials are fetched again.
inline constexpr Millis kRefreshAhead{5 * 60 * 1000};

/// Fetches credentials from a source and caches them until kRefreshAhead before they expire
/// (credentials without an expiration are fetched once). When a refresh fails while the cached
/// credentials have not yet expired, those are used and the next call tries again. Thread-safe.
class RefreshingCredentialProvider final : public CredentialProvider {
 public:
  using Fetch = std::function<Result<IssuedCredentials>()>;
  RefreshingCredentialProvider(std::string source, Fetch fetch, const Clock& clock)
      : source_(std::move(source)), fetch_(std::move(fetch)), clock_(clock) {}
  Result<Credentials> Get() override;
  std::string Source() const override { return source_; }

 private:
  std::string source_;
  Fetch fetch_;
  const Clock& clock_;
  std::mutex mu_;
  std::optional<IssuedCredentials> cached_;
};

/// Parses an ISO 8601 UTC time as credential sources send it: "2026-11-09T13:34:41Z", with
/// optional fractional seconds, or a "+00:00"-style offset. nullopt when malformed.
std::optional<WallTime> ParseIsoTime(const std::string& text);

}  // namespace slipway::aws
