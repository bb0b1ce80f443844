// Supervisor records as "key=value" lines, written atomically so a reader never sees half a file.
#include "engine/runtime/supervisor_files.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>

#include "base/unique_fd.h"

namespace slipway::engine {

namespace {

using Fields = std::map<std::string, std::string>;

Result<void> WriteFields(const std::string& path, const Fields& fields) {
  std::string text;
  for (const auto& [k, v] : fields) text += k + "=" + v + "\n";
  const std::string tmp = path + ".tmp";
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid()) return Fail("write " + tmp + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Fail("write " + tmp + ": " + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  fd.Reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) return Fail("rename " + tmp + ": " + std::strerror(errno));
  return {};
}

std::optional<Fields> ReadFields(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  Fields out;
  std::string line;
  while (std::getline(in, line)) {
    size_t eq = line.find('=');
    if (eq == std::string::npos) return std::nullopt;
    out[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return out;
}

// Parses a whole decimal field; false when it is missing or not a number.
bool Number(const Fields& f, const std::string& key, unsigned long long& out) {
  auto it = f.find(key);
  if (it == f.end() || it->second.empty()) return false;
  char* end = nullptr;
  errno = 0;
  out = std::strtoull(it->second.c_str(), &end, 10);
  return errno == 0 && *end == '\0';
}

}  // namespace

std::string LockPath(const std::string& dir, const std::string& name) { return dir + "/" + name + ".lock"; }
std::string SupervisorPath(const std::string& dir, const std::string& name) { return dir + "/" + name + ".sup"; }
std::string ExitPath(const std::string& dir, const std::string& name) { return dir + "/" + name + ".exit"; }
std::string LogPath(const std::string& dir, const std::string& name) { return dir + "/" + name + ".log"; }

Result<void> WriteSupervisorRecord(const std::string& path, const SupervisorRecord& r) {
  return WriteFields(path, {{"supervisor_pid", std::to_string(r.supervisor_pid)},
                            {"supervisor_start", std::to_string(r.supervisor_start)},
                            {"container_pid", std::to_string(r.container_pid)},
                            {"container_start", std::to_string(r.container_start)}});
}

Result<void> WriteExitRecord(const std::string& path, const ExitRecord& r) {
  std::string error = r.start_error;
  for (char& c : error) {
    if (c == '\n') c = ' ';
  }
  return WriteFields(path, {{"code", std::to_string(r.code)},
                            {"signal", std::to_string(r.signal)},
                            {"oom", r.out_of_memory ? "1" : "0"},
                            {"start_error", error}});
}

std::optional<SupervisorRecord> ReadSupervisorRecord(const std::string& path) {
  auto f = ReadFields(path);
  if (!f) return std::nullopt;
  unsigned long long sp = 0, ss = 0, cp = 0, cs = 0;
  if (!Number(*f, "supervisor_pid", sp) || !Number(*f, "supervisor_start", ss) ||
      !Number(*f, "container_pid", cp) || !Number(*f, "container_start", cs)) {
    return std::nullopt;
  }
  return SupervisorRecord{static_cast<pid_t>(sp), ss, static_cast<pid_t>(cp), cs};
}

std::optional<ExitRecord> ReadExitRecord(const std::string& path) {
  auto f = ReadFields(path);
  if (!f) return std::nullopt;
  unsigned long long code = 0, sig = 0, oom = 0;
  if (!Number(*f, "code", code) || !Number(*f, "signal", sig) || !Number(*f, "oom", oom)) return std::nullopt;
  return ExitRecord{static_cast<int>(code), static_cast<int>(sig), oom != 0, (*f)["start_error"]};
}

bool LockHeld(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return false;
  if (::flock(fd.get(), LOCK_SH | LOCK_NB) == 0) return false;  // nobody holds it (closing drops ours)
  return errno == EWOULDBLOCK;
}

}  // namespace slipway::engine
