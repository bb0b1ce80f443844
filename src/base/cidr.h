// CIDR blocks as slipway.yaml's `allow:` lists them: parsed, checked and written in one canonical
// form, so that a block read back from a load balancer compares equal to the one configured.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "base/result.h"

namespace slipway {

/// An IPv4 or IPv6 CIDR block with no bits set past its prefix.
struct CidrBlock {
  bool v6 = false;
  std::array<uint8_t, 16> network{};  ///< IPv4: the first 4 bytes
  int prefix = 0;                     ///< 0-32 (IPv4) or 0-128 (IPv6)

  /// "10.0.0.0/8", "2001:db8::/32": inet_ntop's form with the prefix.
  std::string Text() const;
  bool operator==(const CidrBlock&) const = default;
};

/// Parses "address/prefix". Refuses a missing prefix, a prefix out of range for the family, and
/// host bits set past the prefix (naming the block that was probably meant).
[[nodiscard]] Result<CidrBlock> ParseCidrBlock(const std::string& text);

/// The canonical text of `text` when it parses as a block, else `text` unchanged.
std::string CanonicalCidr(const std::string& text);

/// Whether the address `ip` (IPv4 dotted quad or IPv6) lies in `block`; false when it does not parse.
bool CidrContains(const CidrBlock& block, const std::string& ip);

}  // namespace slipway
