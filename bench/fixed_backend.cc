// slipway-bench-backend: the backend the proxy benchmarks put behind slipway, nginx and HAProxy.
// It answers every request, whatever its path, with a fixed "200 ok\n" over HTTP/1.1 keep-alive
// and does no other work, so that a benchmark measures the proxy in front of it and not the app.
//
// It listens on 127.0.0.1:$PORT (default 8080) with $BENCH_BACKEND_THREADS event loops (default
// 1), each an epoll loop on its own SO_REUSEPORT socket. Request bodies (Content-Length) are read
// and discarded; a chunked body, an HTTP/1.0 request without keep-alive or "Connection: close"
// gets its answer and then the connection is closed. SIGTERM or SIGINT stops it (exit 0).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

constexpr std::string_view kResponse =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n";
constexpr size_t kMaxHeaderBytes = 64 * 1024;  // a longer header block closes the connection
constexpr int kMaxEvents = 256;

std::atomic<bool> g_stopping{false};
void OnSignal(int) { g_stopping = true; }

/// Owns a file descriptor; closes it when destroyed.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Fd& operator=(Fd&&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

/// One client connection: unparsed input, unsent output, and how much body is still to skip.
struct Connection {
  explicit Connection(int fd) : fd(fd) {}
  Fd fd;
  std::string in;
  std::string out;
  size_t body_left = 0;
  bool close_after = false;  // answer what was asked, then close
  bool want_write = false;   // EPOLLOUT is in the epoll set
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// The value of header `name` (lower case) in a header block ending in "\r\n", or "" without one.
// Allocates nothing: it runs once per request for each header the loop cares about.
std::string_view Header(std::string_view head, std::string_view name) {
  size_t line = head.find("\r\n");
  while (line != std::string_view::npos && line + 2 < head.size()) {
    const size_t start = line + 2;
    const size_t end = head.find("\r\n", start);
    const std::string_view field = head.substr(start, end - start);
    const size_t colon = field.find(':');
    if (colon != std::string_view::npos && EqualsIgnoreCase(field.substr(0, colon), name)) {
      std::string_view value = field.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
      return value;
    }
    line = end;
  }
  return {};
}

bool HasToken(std::string_view value, std::string_view token) {
  for (size_t i = 0; i + token.size() <= value.size(); ++i) {
    if (EqualsIgnoreCase(value.substr(i, token.size()), token)) return true;
  }
  return false;
}

// Consumes whole requests from c.in and queues one answer for each. Returns false when the
// connection must be dropped at once (an oversized header block).
bool Parse(Connection& c) {
  size_t pos = 0;
  while (!c.close_after) {
    if (c.body_left > 0) {
      const size_t skip = std::min(c.body_left, c.in.size() - pos);
      c.body_left -= skip;
      pos += skip;
      if (c.body_left > 0) break;
    }
    const size_t end = c.in.find("\r\n\r\n", pos);
    if (end == std::string::npos) {
      if (c.in.size() - pos > kMaxHeaderBytes) return false;
      break;
    }
    const std::string_view head(c.in.data() + pos, end + 2 - pos);
    c.out.append(kResponse);
    const bool http10 = head.find(" HTTP/1.0\r\n") != std::string_view::npos;
    const std::string_view connection = Header(head, "connection");
    c.close_after = HasToken(connection, "close") || (http10 && !HasToken(connection, "keep-alive")) ||
                    HasToken(Header(head, "transfer-encoding"), "chunked");
    const std::string_view length = Header(head, "content-length");
    c.body_left = 0;
    std::from_chars(length.data(), length.data() + length.size(), c.body_left);
    pos = end + 4;
  }
  c.in.erase(0, pos);
  return true;
}

// Writes what it can of c.out. Returns false when the connection is broken, or finished (all
// answers sent to a client that asked for the connection to close).
bool Flush(Connection& c) {
  while (!c.out.empty()) {
    const ssize_t n = ::send(c.fd.get(), c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    c.out.erase(0, static_cast<size_t>(n));
  }
  return !c.close_after;
}

int Listen(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 4096) != 0) {
    std::fprintf(stderr, "fatal: cannot listen on 127.0.0.1:%d: %s\n", port, std::strerror(errno));
    ::close(fd);
    return -1;
  }
  return fd;
}

// One event loop: accepts on its own listening socket and serves its connections until stopped.
void Loop(int listen_fd) {
  const Fd listener(listen_fd);
  const Fd ep(::epoll_create1(EPOLL_CLOEXEC));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = listener.get();
  ::epoll_ctl(ep.get(), EPOLL_CTL_ADD, listener.get(), &ev);
  std::unordered_map<int, std::unique_ptr<Connection>> conns;
  std::vector<epoll_event> events(kMaxEvents);
  char buf[16384];
  const int one = 1;
  while (!g_stopping) {
    const int n = ::epoll_wait(ep.get(), events.data(), kMaxEvents, 100);
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == listener.get()) {
        for (int cfd; (cfd = ::accept4(listener.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0;) {
          ::setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          epoll_event cev{};
          cev.events = EPOLLIN | EPOLLRDHUP;
          cev.data.fd = cfd;
          ::epoll_ctl(ep.get(), EPOLL_CTL_ADD, cfd, &cev);
          conns.emplace(cfd, std::make_unique<Connection>(cfd));
        }
        continue;
      }
      auto it = conns.find(fd);
      if (it == conns.end()) continue;
      Connection& c = *it->second;
      bool alive = true;
      if (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        for (;;) {
          const ssize_t got = ::recv(fd, buf, sizeof buf, 0);
          if (got > 0) {
            c.in.append(buf, static_cast<size_t>(got));
            if (static_cast<size_t>(got) < sizeof buf) break;
            continue;
          }
          if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) alive = false;
          break;
        }
        if (alive && !Parse(c)) alive = false;
      }
      if (alive) alive = Flush(c);
      if (alive && c.out.empty() == c.want_write) {
        // Ask for EPOLLOUT only while answers wait for room in the socket buffer.
        c.want_write = !c.out.empty();
        epoll_event cev{};
        cev.events = EPOLLIN | EPOLLRDHUP | (c.want_write ? EPOLLOUT : 0u);
        cev.data.fd = fd;
        ::epoll_ctl(ep.get(), EPOLL_CTL_MOD, fd, &cev);
      }
      if (!alive) conns.erase(it);  // closing the fd also removes it from the epoll set
    }
  }
}

}  // namespace

int main() {
  const char* port_env = std::getenv("PORT");
  const char* threads_env = std::getenv("BENCH_BACKEND_THREADS");
  const int port = port_env ? std::atoi(port_env) : 8080;
  const int threads = std::clamp(threads_env ? std::atoi(threads_env) : 1, 1, 64);
  struct sigaction sa{};
  sa.sa_handler = OnSignal;
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  std::vector<int> listeners;
  for (int i = 0; i < threads; ++i) {
    const int fd = Listen(port);
    if (fd < 0) return 1;
    listeners.push_back(fd);
  }
  std::printf("slipway-bench-backend: answering 200 ok on 127.0.0.1:%d with %d loop(s)\n", port, threads);
  std::fflush(stdout);
  std::vector<std::thread> loops;
  for (int fd : listeners) loops.emplace_back(Loop, fd);
  for (auto& t : loops) t.join();
  return 0;
}
