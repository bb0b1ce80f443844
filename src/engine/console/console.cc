// Console routing, token checks and the security headers every console answer carries.
#include "engine/console/console.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/strings.h"
#include "base/unique_fd.h"

namespace slipway::engine {

namespace {

/// Random hex digits in a token: 256 bits.
constexpr size_t kTokenDigits = 64;

// The page's own files only: no inline script or style, no other origin, never inside a frame.
constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

bool WellFormedToken(std::string_view t) {
  if (t.size() != kTokenDigits) return false;
  for (char c : t) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

/// Equal strings, compared in time that depends only on their lengths (the token's is public).
bool SameSecret(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  volatile unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff = diff | static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::string Header(const ApiHttpRequest& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), name.size()) == 0) return v;
  }
  return "";
}

/// The cookie's name carries the API port: cookies ignore ports, and two engines on one host
/// must not overwrite each other's.
std::string CookieName(const ApiHttpRequest& r) {
  const std::string host = Header(r, "Host");
  std::string port;
  if (size_t colon = host.rfind(':'); colon != std::string::npos) {
    for (char c : host.substr(colon + 1)) {
      if (c < '0' || c > '9' || port.size() >= 5) return "slipway_console";
      port += c;
    }
  }
  return port.empty() ? "slipway_console" : "slipway_console_" + port;
}

std::string CookieValue(const std::string& cookies, const std::string& name) {
  for (const auto& piece : Split(cookies, ';')) {
    std::string kv = Trim(piece);
    if (kv.size() > name.size() && kv.compare(0, name.size(), name) == 0 && kv[name.size()] == '=') {
      return kv.substr(name.size() + 1);
    }
  }
  return "";
}

/// The query's `key`, or "" (the first occurrence; the console's parameters are all single).
std::string QueryValue(const std::string& query, const std::string& key) {
  for (const auto& piece : Split(query, '&')) {
    size_t eq = piece.find('=');
    if (UriDecode(piece.substr(0, eq), true) == key) {
      return eq == std::string::npos ? "" : UriDecode(piece.substr(eq + 1), true);
    }
  }
  return "";
}

ApiHttpResponse Secured(ApiHttpResponse r) {
  r.headers.emplace_back("Content-Security-Policy", kContentSecurityPolicy);
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("Cache-Control", "no-store");
  r.headers.emplace_back("Cross-Origin-Opener-Policy", "same-origin");
  r.headers.emplace_back("Cross-Origin-Resource-Policy", "same-origin");
  return r;
}

ApiHttpResponse Text(int status, const std::string& message) {
  return Secured({status, "text/plain; charset=utf-8", message + "\n", {}});
}

ApiHttpResponse Json(const nlohmann::json& body) {
  return Secured({200, "application/json", body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), {}});
}

}  // namespace

Result<std::string> IssueConsoleToken(const std::string& data_dir, bool keep_existing) {
  const std::string path = data_dir + "/" + kConsoleTokenFile;
  if (keep_existing) {
    if (auto existing = ReadConsoleToken(data_dir)) return existing;
  }
  const std::string token = RandomHex(kTokenDigits);
  const std::string tmp = path + ".tmp";
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid()) return Fail("write " + tmp + ": " + std::strerror(errno));
  const std::string text = token + "\n";
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    return Fail("write " + tmp + ": " + std::strerror(errno));
  }
  fd.Reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) return Fail("rename " + path + ": " + std::strerror(errno));
  return token;
}

Result<std::string> ReadConsoleToken(const std::string& data_dir) {
  const std::string path = data_dir + "/" + kConsoleTokenFile;
  std::ifstream in(path);
  if (!in) return Fail("no console token in " + data_dir + " (an engine that serves the console writes " + path + ")");
  std::string token;
  std::getline(in, token);
  if (!WellFormedToken(token)) return Fail(path + " does not hold a console token");
  return token;
}

bool Console::Serves(std::string_view target) {
  const std::string_view path = target.substr(0, target.find('?'));
  return path == "/console" || path.starts_with("/console/");
}

Console::Access Console::Check(const ApiHttpRequest& r, const std::string& query_token,
                               const std::string& cookie) const {
  std::string offered = query_token;
  if (offered.empty()) {
    const std::string auth = Header(r, "Authorization");
    if (auth.starts_with("Bearer ")) offered = Trim(auth.substr(7));
  }
  if (offered.empty()) offered = cookie;
  if (offered.empty()) return Access::kNone;
  return SameSecret(offered, token_) ? Access::kGranted : Access::kWrong;
}

ApiHttpResponse Console::Handle(const ApiHttpRequest& r) const {
  if (r.target.size() > kMaxConsoleTarget) return Text(414, "The console's URLs are shorter than this.");
  const size_t q = r.target.find('?');
  const std::string path = r.target.substr(0, q);
  const std::string query = q == std::string::npos ? "" : r.target.substr(q + 1);
  const std::string cookie_name = CookieName(r);
  const std::string query_token = QueryValue(query, "token");
  switch (Check(r, query_token, CookieValue(Header(r, "Cookie"), cookie_name))) {
    case Access::kNone:
      return Text(401, "The console needs its token: open the URL that `slipway engine console` prints.");
    case Access::kWrong:
      return Text(403, "That console token is not this engine's: run `slipway engine console` for the current URL.");
    case Access::kGranted:
      break;
  }
  if (r.method != "GET") {
    auto refused = Text(405, "The console only reads: use GET.");
    refused.headers.emplace_back("Allow", "GET");
    return refused;
  }
  if (!query_token.empty()) {
    // The token leaves the address bar (and the history) at once; the cookie carries it from here.
    ApiHttpResponse moved = Text(303, "See /console.");
    moved.headers.emplace_back("Location", path);
    moved.headers.emplace_back("Set-Cookie",
                               cookie_name + "=" + token_ + "; Path=/console; HttpOnly; SameSite=Strict");
    return moved;
  }
  return Route(path, query);
}

ApiHttpResponse Console::Route(const std::string& path, const std::string& query) const {
  if (path == "/console" || path == "/console/") {
    const ConsoleAsset* index = FindConsoleAsset("index.html");
    return Secured({200, std::string(index->content_type), std::string(index->body), {}});
  }
  if (path.starts_with("/console/static/")) {
    const ConsoleAsset* asset = FindConsoleAsset(std::string_view(path).substr(16));
    if (asset == nullptr || asset->name == "index.html") return Text(404, "No such console file.");
    return Secured({200, std::string(asset->content_type), std::string(asset->body), {}});
  }
  if (path == "/console/api/state") return Json(sources_.state());
  if (path == "/console/api/metrics") {
    int minutes = kDefaultConsoleMinutes;
    if (const std::string m = QueryValue(query, "minutes"); !m.empty()) {
      if (m.size() > 2 || m.find_first_not_of("0123456789") != std::string::npos) {
        return Text(400, "minutes must be a whole number from 1 to " + std::to_string(kMaxConsoleMinutes) + ".");
      }
      minutes = std::clamp(std::stoi(m), 1, kMaxConsoleMinutes);
    }
    return Json(sources_.metrics(minutes));
  }
  return Text(404, "The console has no page " + path.substr(0, 200) + ".");
}

}  // namespace slipway::engine
