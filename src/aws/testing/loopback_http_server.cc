// Accept, read one request, answer, close: enough HTTP for credential endpoints in tests.
#include "aws/testing/loopback_http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>

#include "base/strings.h"

namespace slipway::aws::testing {

std::string ReceivedRequest::Header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return "";
}

std::string ReceivedRequest::FormValue(const std::string& name) const {
  for (const std::string& pair : Split(body, '&')) {
    const size_t eq = pair.find('=');
    if (eq != std::string::npos && pair.substr(0, eq) == name)
      return UriDecode(pair.substr(eq + 1), true);
  }
  return "";
}

LoopbackHttpServer::LoopbackHttpServer(Handler handler) : handler_(std::move(handler)) {
  listener_.Reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener_.get(), 16) != 0) {
    std::abort();  // a test machine without loopback cannot run these tests at all
  }
  socklen_t len = sizeof addr;
  ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { Serve(); });
}

LoopbackHttpServer::~LoopbackHttpServer() {
  // shutdown() wakes the blocked accept(); the thread then ends.
  ::shutdown(listener_.get(), SHUT_RDWR);
  thread_.join();
}

std::vector<ReceivedRequest> LoopbackHttpServer::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

void LoopbackHttpServer::Serve() {
  for (;;) {
    UniqueFd conn(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!conn.valid()) return;
    std::string got;
    char buf[4096];
    size_t header_end = std::string::npos, want = 0;
    for (;;) {
      if (header_end == std::string::npos &&
          (header_end = got.find("\r\n\r\n")) != std::string::npos) {
        const std::string lower = Lower(got.substr(0, header_end));
        if (const size_t at = lower.find("content-length:"); at != std::string::npos) {
          want = std::strtoul(lower.c_str() + at + 15, nullptr, 10);
        }
      }
      if (header_end != std::string::npos && got.size() >= header_end + 4 + want) break;
      const ssize_t n = ::read(conn.get(), buf, sizeof buf);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
    if (header_end == std::string::npos) continue;
    ReceivedRequest req;
    std::vector<std::string> lines = Split(got.substr(0, header_end), '\n');
    std::vector<std::string> start = Split(Trim(lines[0]), ' ');
    if (start.size() < 2) continue;
    req.method = start[0];
    req.target = start[1];
    for (size_t i = 1; i < lines.size(); ++i) {
      const size_t colon = lines[i].find(':');
      if (colon != std::string::npos)
        req.headers.emplace_back(Lower(Trim(lines[i].substr(0, colon))),
                                 Trim(lines[i].substr(colon + 1)));
    }
    req.body = got.substr(header_end + 4, want);
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(req);
    }
    const Reply reply = handler_(req);
    const std::string out = "HTTP/1.1 " + std::to_string(reply.status) +
                            " X\r\nContent-Type: " + reply.content_type +
                            "\r\nContent-Length: " + std::to_string(reply.body.size()) +
                            "\r\nConnection: close\r\n\r\n" + reply.body;
    for (size_t sent = 0; sent < out.size();) {
      const ssize_t n = ::write(conn.get(), out.data() + sent, out.size() - sent);
      if (n <= 0) break;
      sent += static_cast<size_t>(n);
    }
  }
}

}  // namespace slipway::aws::testing
