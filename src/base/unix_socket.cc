// SCM_RIGHTS framing: descriptors travel with the first byte of a line; lines end at '\n'.
#include "base/unix_socket.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace slipway {

namespace {

constexpr size_t kMaxFds = 64;
constexpr size_t kMaxLine = 64 * 1024;

Result<sockaddr_un> Address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return Fail("unix socket path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

}  // namespace

Result<UniqueFd> ListenUnix(const std::string& path) {
  auto addr = Address(path);
  if (!addr) return tl::unexpected(addr.error());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Fail("socket: " + std::string(std::strerror(errno)));
  ::unlink(path.c_str());
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&*addr), sizeof *addr) != 0 || ::listen(fd.get(), 4) != 0) {
    return Fail("listen on " + path + ": " + std::strerror(errno));
  }
  ::chmod(path.c_str(), 0600);
  return fd;
}

Result<UniqueFd> ConnectUnix(const std::string& path) {
  auto addr = Address(path);
  if (!addr) return tl::unexpected(addr.error());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Fail("socket: " + std::string(std::strerror(errno)));
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&*addr), sizeof *addr) != 0) {
    return Fail("connect to " + path + ": " + std::strerror(errno));
  }
  return fd;
}

Result<void> SendLine(int sock, const std::string& line, const std::vector<int>& fds) {
  if (fds.size() > kMaxFds) return Fail("too many descriptors to send");
  const std::string data = line + "\n";
  size_t sent = 0;
  bool fds_sent = fds.empty();
  while (sent < data.size()) {
    iovec iov{const_cast<char*>(data.data() + sent), data.size() - sent};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
    if (!fds_sent) {
      msg.msg_control = control;
      msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
      cmsghdr* c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
      std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    }
    const ssize_t n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Fail("send: " + std::string(std::strerror(errno)));
    fds_sent = true;
    sent += static_cast<size_t>(n);
  }
  return {};
}

Result<ReceivedLine> ReceiveLine(int sock, int timeout_ms) {
  ReceivedLine out;
  for (;;) {
    pollfd p{sock, POLLIN, 0};
    const int ready = ::poll(&p, 1, timeout_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) return Fail("timed out waiting for a message");
    char c;
    iovec iov{&c, 1};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail("receive: " + std::string(std::strerror(errno)));
    for (cmsghdr* h = CMSG_FIRSTHDR(&msg); h != nullptr; h = CMSG_NXTHDR(&msg, h)) {
      if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS) continue;
      const size_t count = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof fd);
        out.fds.emplace_back(fd);
      }
    }
    if (n == 0) return Fail("the other side closed the connection");
    if (c == '\n') return out;
    if (out.line.size() >= kMaxLine) return Fail("message too long");
    out.line += c;
  }
}

}  // namespace slipway
