// IP addresses and CIDR blocks as an ALB's source-ip condition reads them: parsed once, matched
// against a connection's peer without allocating.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace slipway::engine {

/// An IPv4 or IPv6 address. IPv4 addresses, and IPv6 addresses that map one (::ffff:a.b.c.d),
/// are held in the mapped form, so a v4 peer reached over a dual-stack socket is the same address.
struct IpAddress {
  std::array<uint8_t, 16> bytes{};
  bool v4 = false;  ///< an IPv4 address, or an IPv4-mapped IPv6 one
  bool operator==(const IpAddress&) const = default;
};

/// A CIDR block: the first `prefix` bits of `network` (prefix counts in the address's own family:
/// 0-32 for IPv4, 0-128 for IPv6). Bits past the prefix are kept zero.
struct Cidr {
  IpAddress network;
  int prefix = 0;
  bool operator==(const Cidr&) const = default;
};

/// Parses a dotted-quad IPv4 or an IPv6 address (no zone, no brackets, no port); nullopt otherwise.
std::optional<IpAddress> ParseIp(std::string_view text);

/// Parses "address/prefix" with a decimal prefix in range for the family ("10.0.0.0/8",
/// "2001:db8::/32"); nullopt for anything else. Host bits past the prefix are ignored.
std::optional<Cidr> ParseCidr(std::string_view text);

/// Whether `ip` lies in `block`. IPv4 blocks hold IPv4 peers (mapped ones included); IPv6 blocks
/// hold only peers that are not IPv4.
bool Contains(const Cidr& block, const IpAddress& ip);

}  // namespace slipway::engine
