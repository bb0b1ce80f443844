// SHA-256 and HMAC-SHA256 (the primitives SigV4 needs), SHA-1 for cache file names and AES-256-GCM sealing, over OpenSSL.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace slipway {

/// Raw 32-byte SHA-256 digest.
std::string Sha256(std::string_view data);
/// Lower-case hex SHA-256 digest.
std::string Sha256Hex(std::string_view data);
/// Lower-case hex SHA-1 digest (only for names that others derive with SHA-1, never for security).
std::string Sha1Hex(std::string_view data);
/// Raw 32-byte HMAC-SHA256 of `data` under `key`.
std::string HmacSha256(std::string_view key, std::string_view data);
/// Compares two strings in time independent of where they differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

/// `n` bytes from OpenSSL's cryptographic generator.
std::string RandomBytes(size_t n);

/// The size of a key for Seal and Open: AES-256.
inline constexpr size_t kSealKeyBytes = 32;
/// Encrypts and authenticates `plaintext` under a kSealKeyBytes `key` with AES-256-GCM and a fresh
/// random nonce. `context` is authenticated but not stored: Open must be given the same one, so a
/// sealed value copied to another place (another row) does not open there. The result is a format
/// byte, the 12-byte nonce, the ciphertext and the 16-byte tag.
std::string Seal(std::string_view key, std::string_view plaintext, std::string_view context);
/// The plaintext of a Seal result, or nullopt when `sealed` was not made by Seal under `key` and
/// `context` (a wrong key, a changed byte, another context).
std::optional<std::string> Open(std::string_view key, std::string_view sealed, std::string_view context);

}  // namespace slipway
