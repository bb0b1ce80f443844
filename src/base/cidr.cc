// CIDR parsing with inet_pton, so IPv6's many spellings of one address meet in one form.
#include "base/cidr.h"

#include <arpa/inet.h>

#include <charconv>

namespace slipway {

namespace {

// The address `ip` in `out`; false when it is neither IPv4 nor IPv6.
bool ParseAddress(const std::string& ip, bool& v6, std::array<uint8_t, 16>& out) {
  out.fill(0);
  if (inet_pton(AF_INET, ip.c_str(), out.data()) == 1) {
    v6 = false;
    return true;
  }
  if (inet_pton(AF_INET6, ip.c_str(), out.data()) == 1) {
    v6 = true;
    return true;
  }
  return false;
}

// Whether the first `prefix` bits of `a` and `b` agree.
bool SamePrefix(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& b, int prefix) {
  for (int bit = 0; bit < prefix; ++bit) {
    const int mask = 0x80 >> (bit % 8);
    if ((a[bit / 8] & mask) != (b[bit / 8] & mask)) return false;
  }
  return true;
}

}  // namespace

std::string CidrBlock::Text() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, network.data(), buf, sizeof buf);
  return std::string(buf) + "/" + std::to_string(prefix);
}

Result<CidrBlock> ParseCidrBlock(const std::string& text) {
  const std::string example = " (e.g. 203.0.113.7/32, 10.0.0.0/8 or 2001:db8::/32)";
  const size_t slash = text.find('/');
  if (slash == std::string::npos) {
    return Fail("'" + text + "' is not a CIDR block: it needs a prefix length, such as '" + text +
                (text.find(':') == std::string::npos ? "/32'" : "/128'") + " for one address");
  }
  CidrBlock b;
  if (!ParseAddress(text.substr(0, slash), b.v6, b.network)) {
    return Fail("'" + text + "' is not a CIDR block: '" + text.substr(0, slash) + "' is not an IPv4 or IPv6 address" +
                example);
  }
  const std::string bits = text.substr(slash + 1);
  const int max = b.v6 ? 128 : 32;
  auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), b.prefix);
  if (bits.empty() || ec != std::errc() || end != bits.data() + bits.size() || b.prefix < 0 || b.prefix > max) {
    return Fail("'" + text + "' is not a CIDR block: the prefix length must be 0 to " + std::to_string(max));
  }
  CidrBlock masked = b;
  for (int bit = b.prefix; bit < 128; ++bit) masked.network[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
  if (masked.network != b.network) {
    return Fail("'" + text + "' has bits set past its /" + std::to_string(b.prefix) + " prefix: write '" +
                masked.Text() + "' for the network, or /" + std::to_string(max) + " for the one address");
  }
  return b;
}

std::string CanonicalCidr(const std::string& text) {
  auto b = ParseCidrBlock(text);
  return b ? b->Text() : text;
}

bool CidrContains(const CidrBlock& block, const std::string& ip) {
  bool v6 = false;
  std::array<uint8_t, 16> a{};
  if (!ParseAddress(ip, v6, a) || v6 != block.v6) return false;
  return SamePrefix(a, block.network, block.prefix);
}

}  // namespace slipway
