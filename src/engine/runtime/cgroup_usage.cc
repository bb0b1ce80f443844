// cgroup files are read as the kernel writes them: one number, or "key value" lines.
#include "engine/runtime/cgroup_usage.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

namespace slipway::engine {

namespace {

std::optional<int64_t> ReadNumber(const std::string& path) {
  std::ifstream in(path);
  int64_t value = 0;
  if (!(in >> value)) return std::nullopt;
  return value;
}

// The value of `key` in a file of "key value" lines.
std::optional<int64_t> ReadKeyed(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  std::string k;
  int64_t value = 0;
  while (in >> k >> value) {
    if (k == key) return value;
  }
  return std::nullopt;
}

// Fields 14 to 17 of /proc/<pid>/stat (utime, stime, cutime, cstime) in clock ticks. The command
// name (field 2) may hold spaces and parentheses, so fields count from the last ')'.
std::optional<int64_t> ProcessTicks(const std::string& stat_path) {
  std::ifstream in(stat_path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(text.substr(close + 1));
  std::string field;
  int64_t ticks = 0;
  // After ')': state is field 3; utime is field 14.
  for (int i = 3; i <= 17; ++i) {
    if (!(rest >> field)) return std::nullopt;
    if (i >= 14) ticks += std::atoll(field.c_str());
  }
  return ticks;
}

}  // namespace

std::optional<double> CpuSecondsV2(const std::string& dir) {
  auto usec = ReadKeyed(dir + "/cpu.stat", "usage_usec");
  if (!usec) return std::nullopt;
  return static_cast<double>(*usec) / 1e6;
}

std::optional<double> CpuSecondsV1(const std::string& cpuacct_dir) {
  auto ns = ReadNumber(cpuacct_dir + "/cpuacct.usage");
  if (!ns) return std::nullopt;
  return static_cast<double>(*ns) / 1e9;
}

std::optional<double> MembersCpuSeconds(const std::string& dir, const std::string& proc) {
  std::ifstream procs(dir + "/cgroup.procs");
  if (!procs) return std::nullopt;
  static const long kTicksPerSecond = ::sysconf(_SC_CLK_TCK);
  int64_t ticks = 0;
  long pid = 0;
  while (procs >> pid) {
    // A member may end between the two reads: it then counts nothing.
    if (auto t = ProcessTicks(proc + "/" + std::to_string(pid) + "/stat")) ticks += *t;
  }
  return static_cast<double>(ticks) /
         static_cast<double>(kTicksPerSecond > 0 ? kTicksPerSecond : 100);
}

std::optional<int64_t> MemoryBytesV2(const std::string& dir) {
  auto current = ReadNumber(dir + "/memory.current");
  if (!current) return std::nullopt;
  const int64_t inactive = ReadKeyed(dir + "/memory.stat", "inactive_file").value_or(0);
  return *current > inactive ? *current - inactive : 0;
}

std::optional<int64_t> MemoryBytesV1(const std::string& dir) {
  auto usage = ReadNumber(dir + "/memory.usage_in_bytes");
  if (!usage) return std::nullopt;
  const int64_t inactive = ReadKeyed(dir + "/memory.stat", "total_inactive_file").value_or(0);
  return *usage > inactive ? *usage - inactive : 0;
}

}  // namespace slipway::engine
