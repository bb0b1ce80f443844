// Port allocation: round-robin over the range, skipping held ports and ports something is bound to.
#include "engine/runtime/port_pool.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <random>

#include "base/unique_fd.h"

namespace slipway::engine {

namespace {

bool Bindable(const std::string& host, int port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return false;
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);  // as servers bind
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

}  // namespace

PortPool::PortPool(std::string host, int first, int last, Probe probe)
    : host_(std::move(host)), first_(first), last_(last), probe_(probe ? std::move(probe) : Probe(&Bindable)) {
  // Engines on one machine start their searches apart, so they rarely probe the same port at once.
  std::random_device rd;
  next_ = first_ + static_cast<int>(rd() % static_cast<unsigned>(last_ - first_ + 1));
}

std::optional<int> PortPool::Acquire(const std::string& owner) {
  const int size = last_ - first_ + 1;
  for (int i = 0; i < size; ++i) {
    const int port = first_ + (next_ - first_ + i) % size;
    if (held_.count(port) || !probe_(host_, port)) continue;
    held_[port] = owner;
    next_ = port == last_ ? first_ : port + 1;
    return port;
  }
  return std::nullopt;
}

bool PortPool::Hold(int port, const std::string& owner) {
  auto [it, inserted] = held_.emplace(port, owner);
  return inserted || it->second == owner;
}

void PortPool::Release(const std::string& owner) {
  std::erase_if(held_, [&](const auto& kv) { return kv.second == owner; });
}

std::string PortPool::Holder(int port) const {
  auto it = held_.find(port);
  return it == held_.end() ? "" : it->second;
}

}  // namespace slipway::engine
