// SHA-256 and HMAC-SHA256 over OpenSSL, the primitives SigV4 needs.
#pragma once

#include <string>
#include <string_view>

namespace slipway {

/// Raw 32-byte SHA-256 digest.
std::string Sha256(std::string_view data);
/// Lower-case hex SHA-256 digest.
std::string Sha256Hex(std::string_view data);
/// Raw 32-byte HMAC-SHA256 of `data` under `key`.
std::string HmacSha256(std::string_view key, std::string_view data);
/// Compares two strings in time independent of where they differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace slipway
