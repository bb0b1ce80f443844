// slipway-supervisor: owns one container process for the engine, as conmon does for podman.
//
// It starts the container in its own process group (and memory cgroup), forwards the engine's
// signals to it, reaps it, and writes how it ended to the task directory. It runs in its own
// session and holds no descriptor of the engine's, so the container keeps running, and its
// ports stay free of engine sockets, when the engine dies or restarts; the next engine adopts it.
//
//   slipway-supervisor --dir DIR --name NAME [--cgroup DIR --cgroup-version 1|2]
//                      [--memory-watchdog BYTES] [--cwd DIR] -- ARGV...
//
// Signals: SIGTERM, SIGINT, SIGHUP, SIGQUIT and SIGUSR2 are forwarded to the container's process
// group; SIGUSR1 means SIGKILL (which cannot be forwarded). The container's environment is the
// supervisor's own. Its stdout and stderr are the supervisor's (the engine points them at the log).
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "engine/runtime/supervisor_files.h"

namespace {

using slipway::engine::ExitRecord;

constexpr int kExitUsage = 64;
constexpr int kExitAlreadySupervised = 75;

struct Options {
  std::string dir, name, cgroup, cwd;
  int cgroup_version = 0;
  long long watchdog_bytes = 0;
  std::vector<std::string> argv;
};

bool Parse(int argc, char** argv, Options& o) {
  int i = 1;
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (i + 1 >= argc) return false;
    std::string v = argv[++i];
    if (a == "--dir") o.dir = v;
    else if (a == "--name") o.name = v;
    else if (a == "--cgroup") o.cgroup = v;
    else if (a == "--cgroup-version") o.cgroup_version = std::atoi(v.c_str());
    else if (a == "--memory-watchdog") o.watchdog_bytes = std::atoll(v.c_str());
    else if (a == "--cwd") o.cwd = v;
    else return false;
  }
  for (; i < argc; ++i) o.argv.emplace_back(argv[i]);
  return !o.dir.empty() && !o.name.empty() && !o.argv.empty();
}

long long ReadKeyed(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  std::string k;
  long long v = 0;
  while (in >> k >> v) {
    if (k == key) return v;
  }
  return 0;
}

long long ResidentBytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atoll(line.c_str() + 6) * 1024;
  }
  return 0;
}

bool WriteText(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

// In the forked child: join the cgroup and a new process group, then exec. On failure the errno
// goes down `report` (close-on-exec, so a successful exec closes it with nothing written).
[[noreturn]] void ExecContainer(const Options& o, int report) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  ::setpgid(0, 0);
  int err = 0;
  if (!o.cgroup.empty() && !WriteText(o.cgroup + "/cgroup.procs", std::to_string(::getpid()))) err = errno ? errno : EIO;
  if (!err && !o.cwd.empty() && ::chdir(o.cwd.c_str()) != 0) err = errno;
  if (!err) {
    ::umask(022);  // what a container process sees by default
    std::vector<char*> args;
    for (const auto& a : o.argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    err = errno;
  }
  (void)!::write(report, &err, sizeof err);
  ::_exit(127);
}

// Kills every process still in the container's cgroup: one that left the process group (setsid)
// must not outlive its container.
void KillCgroup(const std::string& cgroup) {
  for (int round = 0; round < 50; ++round) {
    std::ifstream procs(cgroup + "/cgroup.procs");
    bool any = false;
    for (pid_t pid; procs >> pid;) {
      any = true;
      ::kill(pid, SIGKILL);
    }
    if (!any) return;
    ::usleep(10'000);
  }
}

void Finish(const Options& o, ExitRecord exit) {
  if (auto w = slipway::engine::WriteExitRecord(slipway::engine::ExitPath(o.dir, o.name), exit); !w) {
    std::fprintf(stderr, "slipway-supervisor: %s\n", w.error().message.c_str());
  }
  if (!o.cgroup.empty()) {
    KillCgroup(o.cgroup);
    // Killed members leave the cgroup a moment after they are reaped.
    for (int i = 0; i < 50 && ::rmdir(o.cgroup.c_str()) != 0 && errno == EBUSY; ++i) ::usleep(10'000);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!Parse(argc, argv, o)) {
    std::fprintf(stderr, "usage: slipway-supervisor --dir DIR --name NAME [--cgroup DIR --cgroup-version N] "
                         "[--memory-watchdog BYTES] [--cwd DIR] -- ARGV...\n");
    return kExitUsage;
  }
  // Nothing of the engine's may stay open here: not its listening sockets, not its database.
  ::close_range(3, ~0U, 0);
  ::setsid();
  ::umask(077);

  const std::string lock_path = slipway::engine::LockPath(o.dir, o.name);
  int lock = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock < 0 || ::flock(lock, LOCK_EX | LOCK_NB) != 0) {
    std::fprintf(stderr, "slipway-supervisor: %s is already supervised\n", o.name.c_str());
    return kExitAlreadySupervised;
  }

  sigset_t handled;
  sigemptyset(&handled);
  for (int s : slipway::engine::kSupervisorSignals) sigaddset(&handled, s);
  sigprocmask(SIG_BLOCK, &handled, nullptr);

  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) return 71;
  const pid_t child = ::fork();
  if (child < 0) {
    Finish(o, {127, 0, false, std::string("fork: ") + std::strerror(errno)});
    return 0;
  }
  if (child == 0) ExecContainer(o, report[1]);
  ::close(report[1]);
  int exec_errno = 0;
  const bool exec_failed = ::read(report[0], &exec_errno, sizeof exec_errno) == sizeof exec_errno;
  ::close(report[0]);
  if (exec_failed) {
    int ignored = 0;
    ::waitpid(child, &ignored, 0);
    Finish(o, {127, 0, false, "exec " + o.argv[0] + ": " + std::strerror(exec_errno)});
    return 0;
  }
  (void)slipway::engine::WriteSupervisorRecord(
      slipway::engine::SupervisorPath(o.dir, o.name),
      {::getpid(), slipway::ProcessStartTime(::getpid()), child, slipway::ProcessStartTime(child)});

  // The container ends with its main process; whatever it left in its group goes with it.
  bool killed_for_memory = false;
  int wstatus = 0;
  const timespec tick{0, o.watchdog_bytes > 0 ? 100'000'000L : 500'000'000L};
  for (;;) {
    siginfo_t info{};
    const int sig = ::sigtimedwait(&handled, &info, &tick);
    if (sig == SIGUSR1) {
      ::kill(-child, SIGKILL);
    } else if (sig > 0 && sig != SIGCHLD) {
      ::kill(-child, sig);
    }
    // Seen without reaping: while the exited child is a zombie its pid, and so its process group's
    // id, cannot be reused, so what it left in its group can be killed safely first.
    siginfo_t ended{};
    if (::waitid(P_PID, static_cast<id_t>(child), &ended, WEXITED | WNOHANG | WNOWAIT) == 0 && ended.si_pid == child) {
      ::kill(-child, SIGKILL);
      while (::waitpid(child, &wstatus, 0) < 0 && errno == EINTR) {
      }
      break;
    }
    if (o.watchdog_bytes > 0 && !killed_for_memory && ResidentBytes(child) > o.watchdog_bytes) {
      killed_for_memory = true;
      ::kill(-child, SIGKILL);
    }
  }
  ExitRecord exit;
  if (WIFEXITED(wstatus)) {
    exit.code = WEXITSTATUS(wstatus);
  } else if (WIFSIGNALED(wstatus)) {
    exit.signal = WTERMSIG(wstatus);
    exit.code = 128 + exit.signal;
  }
  if (exit.signal == SIGKILL) {
    exit.out_of_memory = killed_for_memory;
    if (o.cgroup_version == 2) exit.out_of_memory |= ReadKeyed(o.cgroup + "/memory.events", "oom_kill") > 0;
    if (o.cgroup_version == 1) exit.out_of_memory |= ReadKeyed(o.cgroup + "/memory.oom_control", "oom_kill") > 0;
  }
  Finish(o, exit);
  return 0;
}
