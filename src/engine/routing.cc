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

bool WildcardMatch(const std::string& pattern, const std::string& text, bool ci) {
  auto eq = [ci](char a, char b) {
    return ci ? std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b))
              : a == b;
  };
  size_t p = 0, t = 0, star = std::string::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || eq(pattern[p], text[t]))) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string::npos) {
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
bool AnyMatches(const std::vector<std::string>& patterns, const std::string& text, bool ci) {
  if (patterns.empty()) return true;
  for (const auto& p : patterns) {
    if (WildcardMatch(p, text, ci)) return true;
  }
  return false;
}
}  // namespace

const RouteRule* MatchRoute(const ListenerRoutes& routes, const std::string& host,
                            const std::string& path) {
  std::string bare_host = host.substr(0, host.find(':'));
  for (const auto& rule : routes.rules) {
    if (AnyMatches(rule.path_patterns, path, false) && AnyMatches(rule.host_patterns, bare_host, true)) {
      return &rule;
    }
  }
  return nullptr;
}

}  // namespace slipway::engine
