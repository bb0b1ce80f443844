// Parsing and matching of addresses and CIDR blocks for source-ip rule conditions.
#include "engine/ip_cidr.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace slipway::engine {

namespace {

// Longer text is no address; the bound also keeps the copy for inet_pton on the stack.
constexpr size_t kMaxAddressText = 45;  // INET6_ADDRSTRLEN - 1

constexpr std::array<uint8_t, 12> kMappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool IsMapped(const std::array<uint8_t, 16>& b) {
  return std::equal(kMappedPrefix.begin(), kMappedPrefix.end(), b.begin());
}

}  // namespace

std::optional<IpAddress> ParseIp(std::string_view text) {
  // inet_pton reads a C string: an embedded NUL would hide what follows it.
  if (text.empty() || text.size() > kMaxAddressText || text.find('\0') != std::string_view::npos)
    return std::nullopt;
  char buf[kMaxAddressText + 1];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress ip;
  if (::inet_pton(AF_INET, buf, ip.bytes.data() + 12) == 1) {
    std::copy(kMappedPrefix.begin(), kMappedPrefix.end(), ip.bytes.begin());
    ip.v4 = true;
    return ip;
  }
  if (::inet_pton(AF_INET6, buf, ip.bytes.data()) == 1) {
    ip.v4 = IsMapped(ip.bytes);
    return ip;
  }
  return std::nullopt;
}

std::optional<Cidr> ParseCidr(std::string_view text) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view bits = text.substr(slash + 1);
  if (bits.empty() || bits.size() > 3) return std::nullopt;
  int prefix = 0;
  for (char c : bits) {
    if (c < '0' || c > '9') return std::nullopt;
    prefix = prefix * 10 + (c - '0');
  }
  if (bits.size() > 1 && bits[0] == '0') return std::nullopt;  // "10.0.0.0/08" is no prefix
  auto ip = ParseIp(text.substr(0, slash));
  const bool v4_text = ip && text.substr(0, slash).find(':') == std::string_view::npos;
  if (!ip || prefix > (v4_text ? 32 : 128)) return std::nullopt;
  Cidr block;
  block.network = *ip;
  block.prefix = prefix;
  // Peers that map an IPv4 address are compared as IPv4, so a mapped block that covers only such
  // addresses (::ffff:a.b.c.d/96 and longer) is the IPv4 block it spells; a shorter one also
  // covers IPv6 addresses and stays IPv6.
  const bool mapped_v4 = !v4_text && ip->v4 && prefix >= 96;
  if (mapped_v4) block.prefix = prefix - 96;
  block.network.v4 = v4_text || mapped_v4;
  // Bits before this one are the network's.
  const int first_bit = (block.network.v4 ? 96 : 0) + block.prefix;
  for (int bit = first_bit; bit < 128; ++bit) {
    block.network.bytes[static_cast<size_t>(bit / 8)] &=
        static_cast<uint8_t>(~(0x80u >> (bit % 8)));
  }
  return block;
}

bool Contains(const Cidr& block, const IpAddress& ip) {
  if (block.network.v4 != ip.v4) return false;
  const int bits = (block.network.v4 ? 96 : 0) + block.prefix;
  const size_t whole = static_cast<size_t>(bits / 8);
  if (!std::equal(ip.bytes.begin(), ip.bytes.begin() + static_cast<long>(whole),
                  block.network.bytes.begin())) {
    return false;
  }
  const int rest = bits % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<uint8_t>(0xffu << (8 - rest));
  return (ip.bytes[whole] & mask) == block.network.bytes[whole];
}

}  // namespace slipway::engine
