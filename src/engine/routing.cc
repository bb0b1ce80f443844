// Listener rule evaluation and health-check matchers, shared by proxy and tests.
#include "engine/data_plane.h"

#include <array>
#include <bitset>
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

namespace {

/// The longest '*'-free run of a pattern searched in one pass over the text. Condition values
/// are at most 128 characters, so every pattern the API accepts fits.
constexpr size_t kMaxSegment = 128;

char Fold(char c, bool ci) {
  return ci ? static_cast<char>(std::tolower(static_cast<unsigned char>(c))) : c;
}

void Count(size_t* steps, size_t n) {
  if (steps != nullptr) *steps += n;
}

/// Whether `segment` ('?' but no '*') matches `text` at `at`; the caller keeps it in bounds.
bool SegmentAt(std::string_view segment, std::string_view text, size_t at, bool ci, size_t* steps) {
  Count(steps, segment.size());
  for (size_t i = 0; i < segment.size(); ++i) {
    if (segment[i] != '?' && Fold(segment[i], ci) != Fold(text[at + i], ci)) return false;
  }
  return true;
}

/// The leftmost position at or after `from` where `segment` matches `text`, or npos. Shift-And:
/// one pass over the text, whatever the segment, so no pattern costs more than the text's length.
size_t FindSegment(std::string_view segment, std::string_view text, size_t from, bool ci,
                   size_t* steps) {
  const size_t m = segment.size();
  if (m > kMaxSegment) {
    for (size_t at = from; at + m <= text.size(); ++at) {
      if (SegmentAt(segment, text, at, ci, steps)) return at;
    }
    return std::string_view::npos;
  }
  using Bits = std::bitset<kMaxSegment>;
  Bits wild;
  for (size_t i = 0; i < m; ++i) wild[i] = segment[i] == '?';
  // Characters are sorted into classes so that only the segment's own ones get a mask.
  std::array<uint8_t, 256> class_of{};
  std::array<Bits, kMaxSegment + 1> masks;
  masks[0] = wild;
  size_t classes = 1;
  for (size_t i = 0; i < m; ++i) {
    if (segment[i] == '?') continue;
    const auto c = static_cast<unsigned char>(Fold(segment[i], ci));
    if (class_of[c] == 0) {
      masks[classes] = wild;
      class_of[c] = static_cast<uint8_t>(classes);
      if (ci) class_of[static_cast<unsigned char>(std::toupper(c))] = class_of[c];
      ++classes;
    }
    masks[class_of[c]][i] = true;
  }
  Bits state;
  for (size_t j = from; j < text.size(); ++j) {
    Count(steps, 1);
    state = ((state << 1).set(0)) & masks[class_of[static_cast<unsigned char>(text[j])]];
    if (state[m - 1]) return j + 1 - m;
  }
  return std::string_view::npos;
}

}  // namespace

bool WildcardMatch(std::string_view pattern, std::string_view text, bool ci, size_t* steps) {
  const size_t first_star = pattern.find('*');
  if (first_star == std::string_view::npos)
    return pattern.size() == text.size() && SegmentAt(pattern, text, 0, ci, steps);
  // The text before the first '*' and after the last are anchored; the runs between them are
  // placed leftmost first, which leaves the most room for the ones after.
  const size_t last_star = pattern.rfind('*');
  const std::string_view head = pattern.substr(0, first_star);
  const std::string_view tail = pattern.substr(last_star + 1);
  if (head.size() + tail.size() > text.size()) return false;
  if (!SegmentAt(head, text, 0, ci, steps)) return false;
  if (!SegmentAt(tail, text, text.size() - tail.size(), ci, steps)) return false;
  const std::string_view middle = text.substr(0, text.size() - tail.size());
  size_t at = head.size();
  size_t begin = first_star + 1;
  while (begin < last_star) {
    const size_t star = pattern.find('*', begin);
    const std::string_view segment = pattern.substr(begin, star - begin);
    begin = star + 1;
    if (segment.empty()) continue;
    const size_t found = FindSegment(segment, middle, at, ci, steps);
    if (found == std::string_view::npos) return false;
    at = found + segment.size();
  }
  return true;
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
