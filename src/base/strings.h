// Small string helpers shared by every module (no heavy includes).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace slipway {

/// Removes leading and trailing ASCII whitespace.
std::string Trim(std::string_view s);
/// Lower-cases ASCII letters.
std::string Lower(std::string_view s);
/// Splits on every occurrence of `sep`; keeps empty pieces.
std::vector<std::string> Split(std::string_view s, char sep);
/// Joins with `sep` between pieces.
std::string Join(const std::vector<std::string>& parts, std::string_view sep);
/// Lower-case hex of raw bytes.
std::string HexEncode(std::string_view bytes);
/// Percent-encodes all but RFC 3986 unreserved characters (A-Z a-z 0-9 - _ . ~), as SigV4 does.
/// With keep_slash, '/' stays literal.
std::string UriEncode(std::string_view s, bool keep_slash = false);
/// Decodes %XX escapes; with plus_as_space, '+' becomes ' ' (form encoding).
std::string UriDecode(std::string_view s, bool plus_as_space = false);
/// `n` random lower-case hex digits from a cryptographic source.
std::string RandomHex(size_t n);
/// `n` random characters drawn from `alphabet`.
std::string RandomFrom(std::string_view alphabet, size_t n);
/// Whether `s` is well-formed UTF-8: no stray or missing continuation bytes, overlong forms,
/// surrogates or code points past U+10FFFF.
bool IsUtf8(std::string_view s);
/// `s` with every byte that is not part of well-formed UTF-8 replaced by U+FFFD.
std::string ToValidUtf8(std::string_view s);
/// The length of the longest prefix of `s` that does not end inside a UTF-8 sequence, for cutting
/// text into pieces without splitting a character (bytes that are not UTF-8 count as whole).
size_t Utf8CutLength(std::string_view s);
/// `s` safe to write to a terminal: U+FFFD for bytes that are not UTF-8, for control characters
/// other than tab and newline (ESC, CR, BEL, DEL and the C1 range, which start or end terminal
/// control sequences) and for the bidirectional overrides and isolates (U+202A-U+202E,
/// U+2066-U+2069), which would make text read in another order than it runs.
std::string TerminalSafe(std::string_view s);
/// Standard base64 (RFC 4648 section 4) with padding.
std::string Base64Encode(std::string_view bytes);
/// The bytes `text` encodes in padded standard base64, or nullopt when it is anything else: a
/// character outside the alphabet (whitespace too), a length not a multiple of 4, misplaced '='.
std::optional<std::string> Base64Decode(std::string_view text);
/// `s` as well-formed XML 1.0 text or attribute value: &, <, >, " and ' escaped, CR as &#13;, and
/// U+FFFD for what XML cannot carry (bytes that are not UTF-8, other control characters, U+FFFE/F).
std::string XmlEscape(std::string_view s);

/// Whether the JSON text `body` nests arrays and objects deeper than `max_depth`. Scans the text
/// without parsing it (strings are skipped), so it is safe on any input however deep.
bool NestsDeeperThan(std::string_view body, int max_depth);

}  // namespace slipway
