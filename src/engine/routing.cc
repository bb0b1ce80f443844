// Listener rule evaluation and health-check matchers, shared by proxy and tests.
#include "engine/data_plane.h"

#include <cctype>

#include "base/strings.h"

namespace slipway::engine {

bool MatcherAccepts(const std::string& matcher, int code) {
  for (const auto& part : Split(matcher, ',')) {
    std::string p = Trim(part);
    size_t dash = p.find('-');
    if (dash != std::string::npos) {
      if (code >= std::atoi(p.substr(0, dash).c_str()) && code <= std::atoi(p.substr(dash + 1).c_str())) {
        return true;
      }
    } else if (!p.empty() && std::atoi(p.c_str()) == code) {
      return true;
    }
  }
  return false;
}

bool WildcardMatch(std::string_view pattern, std::string_view text, bool ci) {
  auto eq = [ci](char a, char b) {
    return ci ? std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b))
              : a == b;
  };
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || eq(pattern[p], text[t]))) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

namespace {

bool AnyMatches(const std::vector<std::string>& patterns, std::string_view text, bool ci) {
  if (patterns.empty()) return true;
  for (const auto& p : patterns) {
    if (WildcardMatch(p, text, ci)) return true;
  }
  return false;
}

bool InAnyBlock(const std::vector<Cidr>& blocks, const IpAddress& peer) {
  if (blocks.empty()) return true;
  for (const auto& b : blocks) {
    if (Contains(b, peer)) return true;
  }
  return false;
}

// Each condition needs a value of its header matching one of its patterns; a request without
// the header does not match.
bool HeadersMatch(const std::vector<HeaderCondition>& conditions, const RequestHeaders* headers) {
  for (const auto& c : conditions) {
    if (headers == nullptr) return false;
    const auto& patterns = c.patterns;
    auto match = [&patterns](std::string_view value) { return AnyMatches(patterns, value, true); };
    if (!headers->AnyValue(c.name, match)) return false;
  }
  return true;
}

}  // namespace

const RouteRule* MatchRoute(const ListenerRoutes& routes, const RouteRequest& request) {
  const std::string_view bare_host = request.host.substr(0, request.host.find(':'));
  for (const auto& rule : routes.rules) {
    if (!rule.matches_nothing && InAnyBlock(rule.source_blocks, request.peer) && AnyMatches(rule.path_patterns, request.path, false) &&
        AnyMatches(rule.host_patterns, bare_host, true) && HeadersMatch(rule.headers, request.headers)) {
      return &rule;
    }
  }
  return nullptr;
}

}  // namespace slipway::engine
