// Sockets inside another network namespace: a socket belongs to the namespace of the thread that
// created it, so the thread enters the namespace for the socket() call alone and then returns.
#include "base/netns.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/statfs.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace slipway {

namespace {

constexpr long kNsfsMagic = 0x6e736673;

// Runs `fn` with the calling thread inside `ns`, then puts the thread back in `home`. A thread that
// could not return would open every later socket in the wrong namespace, so that aborts.
template <typename Fn>
auto InNamespace(int ns, int home, Fn fn) -> decltype(fn()) {
  if (::setns(ns, CLONE_NEWNET) != 0) return decltype(fn())(-1);
  auto result = fn();
  const int saved = errno;
  if (::setns(home, CLONE_NEWNET) != 0) std::abort();
  errno = saved;
  return result;
}

}  // namespace

Result<NetNamespace> NetNamespace::Open(const std::string& path) {
  if (!IsPinnedNamespace(path)) return Fail(path + " is not a network namespace");
  NetNamespace n;
  n.ns_.Reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!n.ns_.valid()) return Fail("open " + path + ": " + std::strerror(errno));
  n.home_.Reset(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!n.home_.valid()) return Fail(std::string("open /proc/thread-self/ns/net: ") + std::strerror(errno));
  return n;
}

int NetNamespace::OpenSocket(int domain, int type) const {
  return InNamespace(ns_.get(), home_.get(),
                     [&] { return ::socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0); });
}

Result<void> NetNamespace::LoopbackUp() const {
  UniqueFd s(InNamespace(ns_.get(), home_.get(), [] { return ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0); }));
  if (!s.valid()) return Fail(std::string("socket in the task namespace: ") + std::strerror(errno));
  struct ifreq ifr {};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(s.get(), SIOCGIFFLAGS, &ifr) != 0) return Fail(std::string("read lo flags: ") + std::strerror(errno));
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
  if (::ioctl(s.get(), SIOCSIFFLAGS, &ifr) != 0) return Fail(std::string("bring lo up: ") + std::strerror(errno));
  return {};
}

bool IsPinnedNamespace(const std::string& path) {
  struct statfs st {};
  return ::statfs(path.c_str(), &st) == 0 && static_cast<long>(st.f_type) == kNsfsMagic;
}

}  // namespace slipway
