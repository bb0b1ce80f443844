// The engine's web console: a page at /console on the API address, and the token-protected JSON
// it polls. The page never sees the SigV4 key; a random console token (Jupyter's way) opens it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "engine/api.h"

namespace slipway::engine {

/// The file in the data dir that holds the console token (0600, like the credentials file).
inline constexpr const char* kConsoleTokenFile = "console-token";
/// The longest request target (path and query) the console reads; longer ones get 414.
inline constexpr size_t kMaxConsoleTarget = 1024;
/// The metrics endpoint's window: `minutes` is clamped to this range.
inline constexpr int kMaxConsoleMinutes = 60;
inline constexpr int kDefaultConsoleMinutes = 15;

/// Writes a new random token to <data-dir>/console-token (0600) and returns it; with
/// `keep_existing`, an existing well-formed token is kept (a planned restart keeps open consoles
/// working).
[[nodiscard]] Result<std::string> IssueConsoleToken(const std::string& data_dir, bool keep_existing);
/// The token of the engine that runs with `data_dir`.
[[nodiscard]] Result<std::string> ReadConsoleToken(const std::string& data_dir);

/// Where the console's data comes from: the engine's state and its metrics, as JSON.
struct ConsoleSources {
  std::function<nlohmann::json()> state;
  /// The dashboard's graphs over the last `minutes` minutes.
  std::function<nlohmann::json(int minutes)> metrics;
};

/// Answers every request under /console. Each one must carry the token: in ?token= (the URL
/// `slipway engine console` prints, answered with a cookie and a redirect to the bare URL), in the
/// HttpOnly SameSite=Strict cookie, or as "Authorization: Bearer <token>". None answers 401, a
/// wrong one 403. Only GET is served; every answer carries a strict Content-Security-Policy.
class Console {
 public:
  Console(std::string token, ConsoleSources sources) : token_(std::move(token)), sources_(std::move(sources)) {}

  /// Whether `target` (path and query) is the console's: /console or below it.
  static bool Serves(std::string_view target);
  ApiHttpResponse Handle(const ApiHttpRequest& request) const;

 private:
  enum class Access { kNone, kWrong, kGranted };
  Access Check(const ApiHttpRequest& request, const std::string& query_token, const std::string& cookie) const;
  ApiHttpResponse Route(const std::string& path, const std::string& query) const;

  std::string token_;
  ConsoleSources sources_;
};

/// One file of the page, embedded in the binary at build time (console_assets.cc, generated).
struct ConsoleAsset {
  std::string_view name;          ///< path below /console/static/, or "index.html"
  std::string_view content_type;
  std::string_view body;
};
/// The embedded asset `name`, or nullptr.
const ConsoleAsset* FindConsoleAsset(std::string_view name);

}  // namespace slipway::engine
