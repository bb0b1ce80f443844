// cgroup readings from file trees laid out as the kernel lays them out, and one real process.
#include "engine/runtime/cgroup_usage.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace slipway::engine {
namespace {

namespace fs = std::filesystem;

class FakeCgroup {
 public:
  FakeCgroup()
      : path_(fs::temp_directory_path() /
              ("slipway-cgroup-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++))) {
    fs::create_directories(path_);
  }
  ~FakeCgroup() { fs::remove_all(path_); }
  void Write(const std::string& file, const std::string& text) const {
    std::ofstream(path_ / file) << text;
  }
  std::string str() const { return path_.string(); }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

TEST(CgroupUsage, ReadsV2CpuAndMemoryWithoutInactiveFiles) {
  FakeCgroup g;
  g.Write("cpu.stat", "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n");
  g.Write("memory.current", "104857600\n");
  g.Write("memory.stat",
          "anon 80000000\nfile 24857600\nactive_file 4857600\ninactive_file 20000000\n");
  EXPECT_DOUBLE_EQ(*CpuSecondsV2(g.str()), 2.5);
  EXPECT_EQ(*MemoryBytesV2(g.str()), 104857600 - 20000000);
}

TEST(CgroupUsage, ReadsV1CpuacctAndMemory) {
  FakeCgroup g;
  g.Write("cpuacct.usage", "1500000000\n");
  g.Write("memory.usage_in_bytes", "50000000\n");
  g.Write("memory.stat", "cache 100\ninactive_file 7\ntotal_inactive_file 10000000\n");
  EXPECT_DOUBLE_EQ(*CpuSecondsV1(g.str()), 1.5);
  EXPECT_EQ(*MemoryBytesV1(g.str()), 40000000);
}

TEST(CgroupUsage, MissingFilesAreNoReading) {
  FakeCgroup g;
  EXPECT_FALSE(CpuSecondsV2(g.str()));
  EXPECT_FALSE(CpuSecondsV1(g.str()));
  EXPECT_FALSE(MemoryBytesV2(g.str()));
  EXPECT_FALSE(MemoryBytesV1(g.str()));
  EXPECT_FALSE(MembersCpuSeconds(g.str()));
}

TEST(CgroupUsage, MembersCpuSumsTheListedProcessesTimes) {
  // Given a fake /proc with two members, one whose command name holds ") (" and spaces.
  FakeCgroup g, proc;
  g.Write("cgroup.procs", "11\n12\n13\n");  // 13 has ended: it counts nothing
  fs::create_directories(proc.str() + "/11");
  fs::create_directories(proc.str() + "/12");
  const long hz = ::sysconf(_SC_CLK_TCK);
  // Fields: pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
  // utime stime cutime cstime ...
  proc.Write("11/stat", "11 (app) S 1 11 11 0 -1 4194560 100 0 0 0 " + std::to_string(hz) + " " +
                            std::to_string(hz) + " 0 0 20 0 1 0\n");
  proc.Write("12/stat", "12 (odd) (name x) R 1 11 11 0 -1 4194560 100 0 0 0 0 0 " +
                            std::to_string(hz) + " 0 20 0 1 0\n");
  EXPECT_DOUBLE_EQ(*MembersCpuSeconds(g.str(), proc.str()), 3.0);
}

TEST(CgroupUsage, MembersCpuOfThisProcessGrowsAsItWorks) {
  FakeCgroup g;
  g.Write("cgroup.procs", std::to_string(::getpid()) + "\n");
  const double before = *MembersCpuSeconds(g.str());
  volatile double x = 0;
  for (long i = 0; MembersCpuSeconds(g.str()).value_or(0) <= before && i < 1'000'000L; ++i)
    x = x + 1;
  EXPECT_GT(*MembersCpuSeconds(g.str()), before);
}

}  // namespace
}  // namespace slipway::engine
