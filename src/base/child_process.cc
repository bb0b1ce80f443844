// Process spawning with posix_spawn; signals go to the child's own process group.
#include "base/child_process.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <utility>

#include "base/unique_fd.h"

namespace slipway {

ChildProcess::ChildProcess(ChildProcess&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)), own_group_(o.own_group_), exit_(std::move(o.exit_)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& o) noexcept {
  if (this != &o) {
    KillAndReap();
    pid_ = std::exchange(o.pid_, -1);
    own_group_ = o.own_group_;
    exit_ = std::move(o.exit_);
  }
  return *this;
}

ChildProcess::~ChildProcess() { KillAndReap(); }

void ChildProcess::KillAndReap() {
  if (running()) {
    Signal(SIGKILL);
    Wait();
  }
  pid_ = -1;
}

Result<ChildProcess> ChildProcess::Spawn(const SpawnOptions& options) {
  if (options.argv.empty()) return Fail("spawn: empty command");
  if (!options.output_path.empty()) {
    // posix_spawn reports any failed file action as the program's; name this one for what it is.
    const size_t slash = options.output_path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : options.output_path.substr(0, slash + 1);
    if (::access(dir.c_str(), W_OK) != 0) {
      return Fail("spawn " + options.argv[0] + ": cannot write its output under " + dir + ": " + std::strerror(errno));
    }
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (options.new_process_group) {
    flags |= POSIX_SPAWN_SETPGROUP;
    posix_spawnattr_setpgroup(&attr, 0);
  }
  sigset_t mask, all;
  sigemptyset(&mask);
  sigfillset(&all);
  sigdelset(&all, SIGKILL);
  sigdelset(&all, SIGSTOP);
  for (int sig : options.blocked_signals) sigaddset(&mask, sig);
  posix_spawnattr_setsigmask(&attr, &mask);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, flags);

  const std::string out = options.output_path.empty() ? "/dev/null" : options.output_path;
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  // Passed descriptors first move out of the way of their targets, so no dup2 overwrites another.
  const int first_free = 3 + static_cast<int>(options.pass_fds.size());
  std::vector<UniqueFd> moved;
  for (size_t i = 0; i < options.pass_fds.size(); ++i) {
    moved.emplace_back(fcntl(options.pass_fds[i], F_DUPFD_CLOEXEC, first_free));
    if (!moved.back().valid()) {
      const int err = errno;
      posix_spawn_file_actions_destroy(&actions);
      posix_spawnattr_destroy(&attr);
      return Fail("spawn " + options.argv[0] + ": dup: " + std::strerror(err));
    }
    posix_spawn_file_actions_adddup2(&actions, moved.back().get(), 3 + static_cast<int>(i));
  }
  // Nothing else of the parent's reaches the child: no listening socket, no database.
  posix_spawn_file_actions_addclosefrom_np(&actions, first_free);
  if (!options.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, options.cwd.c_str());

  std::vector<char*> argv;
  for (const auto& a : options.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : options.env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t pid = -1;
  int rc;
  if (options.argv[0].find('/') != std::string::npos) {
    rc = posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
  } else {
    rc = posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
  }
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return Fail("spawn " + options.argv[0] + ": " + std::strerror(rc));
  ChildProcess child;
  child.pid_ = pid;
  child.own_group_ = options.new_process_group;
  return child;
}

void ChildProcess::Record(int wstatus) {
  ExitStatus st;
  if (WIFEXITED(wstatus)) {
    st.code = WEXITSTATUS(wstatus);
  } else if (WIFSIGNALED(wstatus)) {
    st.signal = WTERMSIG(wstatus);
    st.code = 128 + st.signal;
  }
  exit_ = st;
}

std::optional<ExitStatus> ChildProcess::Poll() {
  if (exit_ || pid_ <= 0) return exit_;
  int wstatus = 0;
  pid_t r = waitpid(pid_, &wstatus, WNOHANG);
  if (r == pid_) Record(wstatus);
  return exit_;
}

ExitStatus ChildProcess::Wait() {
  if (exit_) return *exit_;
  int wstatus = 0;
  while (waitpid(pid_, &wstatus, 0) < 0 && errno == EINTR) {
  }
  Record(wstatus);
  return *exit_;
}

void ChildProcess::Signal(int sig) {
  if (!running()) return;
  // The group may hold grandchildren started by a shell entry point.
  if (own_group_ && ::kill(-pid_, sig) == 0) return;
  ::kill(pid_, sig);
}

Result<CommandOutput> RunCommand(const std::vector<std::string>& argv,
                                 const std::map<std::string, std::string>& extra_env) {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry(*e);
    if (!extra_env.count(std::string(entry.substr(0, entry.find('='))))) env_strings.emplace_back(entry);
  }
  for (const auto& [k, v] : extra_env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Fail(std::string("pipe: ") + std::strerror(errno));
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), 2);
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, cargv[0], &actions, nullptr, cargv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return Fail("run " + argv[0] + ": " + std::strerror(rc));
  write_end.Reset();
  CommandOutput result;
  std::array<char, 4096> buf;
  ssize_t n;
  while ((n = read(read_end.get(), buf.data(), buf.size())) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) result.output.append(buf.data(), static_cast<size_t>(n));
  }
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(wstatus)) result.status.code = WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus)) {
    result.status.signal = WTERMSIG(wstatus);
    result.status.code = 128 + result.status.signal;
  }
  return result;
}

}  // namespace slipway
