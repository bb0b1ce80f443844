// /proc readings against real processes and sockets.
#include "base/proc.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "base/unique_fd.h"

namespace slipway {
namespace {

TEST(Proc, AZombieCountsAsGone) {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  // Not reaped yet: a zombie until waitpid.
  siginfo_t info{};
  ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOWAIT), 0);
  EXPECT_EQ(ProcessStartTime(child), 0u);
  ::waitpid(child, nullptr, 0);
  EXPECT_EQ(ProcessStartTime(child), 0u);
}

TEST(Proc, ALiveProcessHasAStableStartTime) {
  const auto start = ProcessStartTime(::getpid());
  EXPECT_NE(start, 0u);
  EXPECT_EQ(ProcessStartTime(::getpid()), start);
}

TEST(Proc, SignalsOnlyTheProcessThatStartedAtTheRecordedTime) {
  const pid_t child = ::fork();
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  ASSERT_GT(child, 0);
  unsigned long long start = 0;
  while ((start = ProcessStartTime(child)) == 0) std::this_thread::yield();
  // A record with another start time names a different process that once had this pid.
  EXPECT_FALSE(SignalProcess(child, start + 1, SIGTERM));
  EXPECT_NE(ProcessStartTime(child), 0u);
  EXPECT_TRUE(SignalProcess(child, start, SIGTERM));
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
  EXPECT_FALSE(SignalProcess(child, start, SIGTERM));
}

TEST(Proc, TellsWhoListensOnAPort) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd.get(), 1), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  auto holder = ListeningPortHolder(port);
  ASSERT_TRUE(holder);
  EXPECT_EQ(holder->pid, ::getpid());
  fd.Reset();
  EXPECT_FALSE(ListeningPortHolder(port));
}

}  // namespace
}  // namespace slipway
