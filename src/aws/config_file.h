// AWS's INI dialect for ~/.aws/config and ~/.aws/credentials, including indented sub-sections.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace slipway::aws {

/// One [section] of an AWS config or credentials file.
struct IniSection {
  /// `key = value` lines; keys are lower-cased, values trimmed.
  std::map<std::string, std::string> values;
  /// Indented sub-keys under a key with an empty value, as the config file's [services x]
  /// sections carry them: "ecs =\n  endpoint_url = http://…" is nested["ecs"]["endpoint_url"].
  std::map<std::string, std::map<std::string, std::string>> nested;
};

/// Sections by their header with inner spaces collapsed: "default", "profile dev", "sso-session
/// corp".
using IniFile = std::map<std::string, IniSection>;

/// Parses `text` as botocore does: '#' or ';' starts a comment line, keys are case-insensitive,
/// `=` or `:` separates key and value, a later section or key of the same name wins.
/// Errors name `path`, the line number and what is wrong.
[[nodiscard]] Result<IniFile> ParseIni(std::string_view text, const std::string& path);

/// Reads and parses the file at `path`; nullopt when it does not exist.
[[nodiscard]] Result<std::optional<IniFile>> ReadIniFile(const std::string& path);

}  // namespace slipway::aws
