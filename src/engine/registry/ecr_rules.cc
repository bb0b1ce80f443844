// Value rules of ECR's API, hand-written: each is a small grammar, and they run on every request.
#include "engine/registry/ecr_rules.h"

namespace slipway::engine {

namespace {

bool LowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool Alnum(char c) { return LowerAlnum(c) || (c >= 'A' && c <= 'Z'); }

// One path component: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*
bool ValidComponent(std::string_view c) {
  if (c.empty() || !LowerAlnum(c.front()) || !LowerAlnum(c.back())) return false;
  for (size_t i = 0; i < c.size();) {
    if (LowerAlnum(c[i])) {
      ++i;
      continue;
    }
    // A separator run: ".", "_", "__" or one or more '-', always followed by an alphanumeric.
    size_t run = 1;
    if (c[i] == '-') {
      while (i + run < c.size() && c[i + run] == '-') ++run;
    } else if (c[i] == '_') {
      if (i + 1 < c.size() && c[i + 1] == '_') run = 2;
    } else if (c[i] != '.') {
      return false;
    }
    i += run;
    if (i >= c.size() || !LowerAlnum(c[i])) return false;
  }
  return true;
}

bool LowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

}  // namespace

bool ValidRepositoryName(std::string_view name) {
  if (name.size() < 2 || name.size() > 256) return false;
  size_t start = 0;
  while (true) {
    size_t slash = name.find('/', start);
    std::string_view component =
        name.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (!ValidComponent(component)) return false;
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

bool ValidImageTag(std::string_view tag) {
  if (tag.empty() || tag.size() > 128) return false;
  if (!Alnum(tag[0]) && tag[0] != '_') return false;
  for (char c : tag.substr(1)) {
    if (!Alnum(c) && c != '_' && c != '.' && c != '-') return false;
  }
  return true;
}

bool ValidImageDigest(std::string_view digest) {
  constexpr std::string_view kPrefix = "sha256:";
  if (digest.size() != kPrefix.size() + 64 || digest.substr(0, kPrefix.size()) != kPrefix) return false;
  for (char c : digest.substr(kPrefix.size())) {
    if (!LowerHex(c)) return false;
  }
  return true;
}

std::string RepositoryArn(std::string_view region, std::string_view account, std::string_view name) {
  std::string arn = "arn:aws:ecr:";
  arn.append(region).append(":").append(account).append(":repository/").append(name);
  return arn;
}

std::optional<std::string> RepositoryFromArn(std::string_view arn, std::string_view region,
                                             std::string_view account) {
  const std::string prefix = RepositoryArn(region, account, "");
  if (arn.size() <= prefix.size() || arn.substr(0, prefix.size()) != prefix) return std::nullopt;
  std::string name(arn.substr(prefix.size()));
  if (!ValidRepositoryName(name)) return std::nullopt;
  return name;
}

std::string Base64Encode(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned v = static_cast<unsigned char>(bytes[i]) << 16 |
                       static_cast<unsigned char>(bytes[i + 1]) << 8 |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (const size_t rest = bytes.size() - i; rest > 0) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    if (rest == 2) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string AuthorizationToken(std::string_view password) {
  std::string credential = "AWS:";
  credential.append(password);
  return Base64Encode(credential);
}

}  // namespace slipway::engine
