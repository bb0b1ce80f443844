// Image reference parsing, following the grammar of distribution's reference package.
#include "registry/reference.h"

#include <algorithm>
#include <cctype>

namespace slipway::registry {

namespace {

constexpr size_t kMaxReference = 512;  // ECS refuses longer image names too

bool IsLowerAlnum(char c) { return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)); }

// One path component: lowercase alphanumerics joined by '.', '_', '__' or runs of '-'.
bool ValidComponent(const std::string& c) {
  if (c.empty() || !IsLowerAlnum(c.front()) || !IsLowerAlnum(c.back())) return false;
  for (size_t i = 0; i < c.size(); ++i) {
    if (IsLowerAlnum(c[i]) || c[i] == '-') continue;
    if (c[i] != '.' && c[i] != '_') return false;
    if (!IsLowerAlnum(c[i - 1])) {
      // Only "__" may follow a separator.
      if (!(c[i] == '_' && c[i - 1] == '_' && i >= 2 && IsLowerAlnum(c[i - 2]))) return false;
    }
  }
  return true;
}


bool ValidHost(const std::string& h) {
  return !h.empty() && std::all_of(h.begin(), h.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
  });
}

}  // namespace

bool IsSha256Digest(const std::string& digest) {
  constexpr std::string_view kPrefix = "sha256:";
  return digest.size() == kPrefix.size() + 64 && digest.starts_with(kPrefix) &&
         std::all_of(digest.begin() + kPrefix.size(), digest.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f'); });
}

bool ImageReference::Loopback() const {
  const std::string host = registry.starts_with("[") ? registry.substr(0, registry.find(']') + 1)
                                                     : registry.substr(0, registry.find(':'));
  return host == "localhost" || host == "[::1]" || host.starts_with("127.");
}

Result<ImageReference> ParseImageReference(const std::string& image) {
  auto bad = [&](const std::string& why) {
    return Fail("image " + image.substr(0, kMaxReference) + ": invalid reference: " + why);
  };
  if (image.empty() || image.size() > kMaxReference) return bad("it must be 1-512 characters");
  ImageReference ref;
  std::string rest = image;
  if (size_t at = rest.find('@'); at != std::string::npos) {
    ref.digest = rest.substr(at + 1);
    rest.resize(at);
    if (!IsSha256Digest(ref.digest)) return bad("the digest must be sha256: and 64 lowercase hex digits");
  }
  // A tag follows the last ':' after the last '/' (a ':' before it is a registry's port).
  const size_t slash = rest.rfind('/');
  if (size_t colon = rest.rfind(':'); colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    ref.tag = rest.substr(colon + 1);
    rest.resize(colon);
    if (!IsValidTag(ref.tag)) return bad("the tag '" + ref.tag.substr(0, 128) + "' is not a valid tag");
  }
  if (ref.tag.empty() && ref.digest.empty()) ref.tag = "latest";
  ref.name = rest;
  // The first component names a registry when it looks like a host: it has a '.' or a ':', or
  // is "localhost". Otherwise the name is on Docker Hub.
  std::string path = rest;
  const size_t first = rest.find('/');
  const std::string head = rest.substr(0, first);
  if (first != std::string::npos &&
      (head.find('.') != std::string::npos || head.find(':') != std::string::npos || head == "localhost")) {
    ref.registry = head;
    path = rest.substr(first + 1);
    if (!ValidHost(ref.registry)) return bad("'" + ref.registry + "' is not a registry host");
  } else {
    ref.registry = "registry-1.docker.io";
    if (path.find('/') == std::string::npos) path = "library/" + path;
  }
  if (ref.registry == "docker.io" || ref.registry == "index.docker.io") {
    ref.registry = "registry-1.docker.io";
    if (path.find('/') == std::string::npos) path = "library/" + path;
  }
  size_t start = 0;
  while (true) {
    const size_t end = path.find('/', start);
    if (!ValidComponent(path.substr(start, end - start))) {
      return bad("the repository '" + path + "' must be lowercase letters, digits and separators");
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
  ref.repository = path;
  return ref;
}

bool IsValidTag(const std::string& t) {
  if (t.empty() || t.size() > 128) return false;
  if (!(std::isalnum(static_cast<unsigned char>(t[0])) || t[0] == '_')) return false;
  return std::all_of(t.begin(), t.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

}  // namespace slipway::registry
