// Lines and descriptors over a real unix socket pair.
#include "base/unix_socket.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>

namespace slipway {
namespace {

TEST(UnixSocket, ADescriptorArrivesWithItsLineAndStillWorks) {
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  UniqueFd a(pair[0]), b(pair[1]);
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
  ASSERT_TRUE(SendLine(a.get(), R"({"port": 8080})", {write_end.get()}));
  ASSERT_TRUE(SendLine(a.get(), "done"));
  auto got = ReceiveLine(b.get(), 1000);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->line, R"({"port": 8080})");
  ASSERT_EQ(got->fds.size(), 1u);
  write_end.Reset();  // the received copy keeps the pipe open
  ASSERT_EQ(::write(got->fds[0].get(), "x", 1), 1);
  char c = 0;
  ASSERT_EQ(::read(read_end.get(), &c, 1), 1);
  EXPECT_EQ(c, 'x');
  auto second = ReceiveLine(b.get(), 1000);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->line, "done");
  EXPECT_TRUE(second->fds.empty());
}

TEST(UnixSocket, EndOfStreamAndSilenceAreErrors) {
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  UniqueFd a(pair[0]), b(pair[1]);
  EXPECT_FALSE(ReceiveLine(b.get(), 50)) << "nothing was sent";
  ASSERT_TRUE(SendLine(a.get(), "partial"));
  a.Reset();
  auto got = ReceiveLine(b.get(), 1000);
  ASSERT_TRUE(got);
  EXPECT_FALSE(ReceiveLine(b.get(), 1000)) << "the writer closed";
}

TEST(UnixSocket, AListenerAcceptsAConnectionByPath) {
  const std::string path = std::filesystem::temp_directory_path() / ("slipway-sock-" + std::to_string(::getpid()));
  auto listener = ListenUnix(path);
  ASSERT_TRUE(listener) << listener.error().message;
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto client = ConnectUnix(path);
  ASSERT_TRUE(client);
  UniqueFd server(::accept4(listener->get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(server.valid());
  ASSERT_TRUE(SendLine(client->get(), "handoff"));
  auto got = ReceiveLine(server.get(), 1000);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->line, "handoff");
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace slipway
