// IpPool: round-robin over a subnet's host addresses.
#include "engine/runtime/ip_pool.h"

#include <arpa/inet.h>

#include <cstdlib>

namespace slipway::engine {

namespace {

std::optional<uint32_t> ParseIp(const std::string& text) {
  in_addr a{};
  if (::inet_pton(AF_INET, text.c_str(), &a) != 1) return std::nullopt;
  return ntohl(a.s_addr);
}

std::string FormatIp(uint32_t ip) {
  in_addr a{htonl(ip)};
  char buf[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

}  // namespace

IpPool::IpPool(const std::string& cidr) {
  const size_t slash = cidr.find('/');
  if (slash == std::string::npos) return;
  auto base = ParseIp(cidr.substr(0, slash));
  const int bits = std::atoi(cidr.c_str() + slash + 1);
  if (!base || bits < 8 || bits > 30) return;
  const uint32_t mask = ~uint32_t{0} << (32 - bits);
  const uint32_t network = *base & mask;
  first_ = network + 2;           // .1 is the gateway
  last_ = (network | ~mask) - 1;  // below the broadcast address
  next_ = first_;
}

std::optional<std::string> IpPool::Acquire(const std::string& task_id) {
  if (empty()) return std::nullopt;
  const uint64_t size = uint64_t{last_} - first_ + 1;
  for (uint64_t i = 0; i < size; ++i) {
    const uint32_t ip = next_;
    next_ = next_ == last_ ? first_ : next_ + 1;
    if (held_.emplace(ip, task_id).second) return FormatIp(ip);
  }
  return std::nullopt;
}

bool IpPool::Hold(const std::string& ip, const std::string& task_id) {
  auto addr = ParseIp(ip);
  if (!addr || *addr < first_ || *addr > last_) return false;
  auto [it, inserted] = held_.emplace(*addr, task_id);
  return inserted || it->second == task_id;
}

void IpPool::Release(const std::string& task_id) {
  for (auto it = held_.begin(); it != held_.end();) {
    it = it->second == task_id ? held_.erase(it) : std::next(it);
  }
}

}  // namespace slipway::engine
