// A reader for AWS's config files. Debian's inih truncates lines at 200 bytes (session tokens in a
// credentials file run to 1,000 and more), so this small reader stays hand-written.
#include "aws/config_file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/strings.h"

namespace slipway::aws {

namespace {

// "profile   dev" and "profile dev" name the same section.
std::string NormalizeHeader(const std::string& header) {
  std::string out;
  for (const std::string& word : Split(header, ' ')) {
    if (word.empty()) continue;
    out += (out.empty() ? "" : " ") + word;
  }
  return out;
}

// Splits "key = value" (or "key: value") at the first separator; false without one.
bool SplitSetting(const std::string& line, std::string& key, std::string& value) {
  const size_t at = line.find_first_of("=:");
  if (at == std::string::npos) return false;
  key = Lower(Trim(line.substr(0, at)));
  value = Trim(line.substr(at + 1));
  return !key.empty();
}

}  // namespace

Result<IniFile> ParseIni(std::string_view text, const std::string& path) {
  IniFile file;
  IniSection* section = nullptr;
  std::string last_key;  // the key an indented line belongs to
  int number = 0;
  std::istringstream in{std::string(text)};
  for (std::string raw; std::getline(in, raw);) {
    ++number;
    if (!raw.empty() && raw.back() == '\r') raw.pop_back();
    const std::string line = Trim(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    const std::string where = path + ":" + std::to_string(number) + ": ";
    const bool indented = raw[0] == ' ' || raw[0] == '\t';
    if (!indented && line.front() == '[') {
      if (line.back() != ']') return Fail(where + "section header without ']'");
      section = &file[NormalizeHeader(Trim(line.substr(1, line.size() - 2)))];
      *section = IniSection{};
      last_key.clear();
      continue;
    }
    if (section == nullptr) return Fail(where + "setting before any [section]");
    std::string key, value;
    if (indented && !last_key.empty()) {
      // A sub-key of the key above (services sections), or a continuation of its value.
      if (section->values[last_key].empty() && SplitSetting(line, key, value)) {
        section->nested[last_key][key] = value;
      } else {
        section->values[last_key] += "\n" + line;
      }
      continue;
    }
    if (!SplitSetting(line, key, value)) return Fail(where + "expected 'key = value'");
    section->values[key] = value;
    section->nested.erase(key);
    last_key = key;
  }
  return file;
}

Result<std::optional<IniFile>> ReadIniFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    if (errno == ENOENT) return std::optional<IniFile>();
    return Fail(path + ": " + std::strerror(errno));
  }
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = ParseIni(text.str(), path);
  if (!parsed) return tl::unexpected(parsed.error());
  return std::optional<IniFile>(std::move(*parsed));
}

}  // namespace slipway::aws
