// Reading and writing the local engine's credentials file.
#include "aws/credentials.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "base/strings.h"
#include "base/unique_fd.h"

namespace slipway::aws {

Result<Credentials> LoadCredentialsFile(const std::string& path, const std::string& profile) {
  std::ifstream in(path);
  if (!in) return Fail("credentials file " + path + ": cannot open");
  Credentials creds;
  std::string line, section;
  bool found = false;
  while (std::getline(in, line)) {
    line = Trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = Trim(line.substr(1, line.size() - 2));
      if (section == profile) found = true;
      continue;
    }
    if (section != profile) continue;
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = Trim(line.substr(0, eq)), value = Trim(line.substr(eq + 1));
    if (key == "aws_access_key_id") creds.access_key_id = value;
    if (key == "aws_secret_access_key") creds.secret_access_key = value;
    if (key == "aws_session_token") creds.session_token = value;
  }
  if (!found) return Fail("credentials file " + path + ": no profile [" + profile + "]");
  if (creds.access_key_id.empty() || creds.secret_access_key.empty()) {
    return Fail("credentials file " + path + ": profile [" + profile +
                "] lacks aws_access_key_id or aws_secret_access_key");
  }
  return creds;
}

Result<void> WriteCredentialsFile(const std::string& path, const std::string& profile,
                                  const Credentials& creds) {
  std::string tmp = path + ".tmp";
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid()) return Fail("write " + tmp + ": " + std::strerror(errno));
  std::string text = "[" + profile + "]\naws_access_key_id = " + creds.access_key_id +
                     "\naws_secret_access_key = " + creds.secret_access_key + "\n";
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    return Fail("write " + tmp + ": " + std::strerror(errno));
  }
  fd.Reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return Fail("rename " + path + ": " + std::strerror(errno));
  }
  return {};
}

}  // namespace slipway::aws
