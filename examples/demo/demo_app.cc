// The demo web app: answers / with its version and /healthz with 200; on SIGTERM it stops
// accepting, finishes in-flight requests, closes idle keep-alive connections and exits 0.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

std::atomic<bool> g_stopping{false};
std::atomic<int> g_connections{0};

void OnSigterm(int) { g_stopping = true; }

std::string Env(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

// Reads one request head (and a Content-Length body) from `fd`; false on EOF or error.
bool ReadRequest(int fd, std::string& buffer, std::string& line, bool& keep_alive) {
  for (;;) {
    size_t end = buffer.find("\r\n\r\n");
    if (end != std::string::npos) {
      std::string head = buffer.substr(0, end);
      size_t body_len = 0;
      keep_alive = head.find("HTTP/1.1") != std::string::npos;
      std::string lower = head;
      for (char& c : lower) c = static_cast<char>(tolower(c));
      if (lower.find("connection: close") != std::string::npos) keep_alive = false;
      if (lower.find("connection: keep-alive") != std::string::npos) keep_alive = true;
      size_t cl = lower.find("content-length:");
      if (cl != std::string::npos) body_len = std::strtoul(lower.c_str() + cl + 15, nullptr, 10);
      if (buffer.size() < end + 4 + body_len) goto need_more;
      line = head.substr(0, head.find("\r\n"));
      buffer.erase(0, end + 4 + body_len);
      return true;
    }
  need_more:
    // Idle connections wake every 100 ms so a stopping app can close them.
    pollfd p{fd, POLLIN, 0};
    int r = poll(&p, 1, 100);
    if (r == 0) {
      if (g_stopping && buffer.empty()) return false;
      continue;
    }
    char chunk[8192];
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<size_t>(n));
  }
}

void Serve(int fd, std::string version) {
  std::string buffer, line;
  bool keep_alive = true;
  while (ReadRequest(fd, buffer, line, keep_alive)) {
    std::string path = line.substr(line.find(' ') + 1);
    path = path.substr(0, path.find(' '));
    std::string status = "200 OK", body;
    if (path == "/healthz") {
      body = "ok\n";
    } else if (path == "/" || path.rfind("/?", 0) == 0) {
      body = "slipway demo " + version + "\n";
    } else {
      status = "404 Not Found";
      body = "not found\n";
    }
    if (g_stopping) keep_alive = false;
    std::string resp = "HTTP/1.1 " + status + "\r\nContent-Type: text/plain\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\nConnection: " +
                       (keep_alive ? "keep-alive" : "close") + "\r\n\r\n" + body;
    if (write(fd, resp.data(), resp.size()) != static_cast<ssize_t>(resp.size()) || !keep_alive) break;
  }
  close(fd);
  --g_connections;
}

}  // namespace

int main() {
  const std::string version = Env("APP_VERSION", "v1");
  const int port = std::atoi(Env("PORT", "8080").c_str());
  const std::string fail = Env("DEMO_FAIL", "");
  std::printf("slipway demo %s starting on port %d\n", version.c_str(), port);
  std::fflush(stdout);
  if (fail == "crash") {
    std::printf("fatal: DEMO_FAIL=crash: exiting at start\n");
    return 1;
  }
  struct sigaction sa{};
  sa.sa_handler = OnSigterm;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(lfd, 1024) != 0) {
    std::printf("fatal: cannot listen on port %d: %s\n", port, std::strerror(errno));
    return 1;
  }
  while (!g_stopping) {
    pollfd p{lfd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    int fd = accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ++g_connections;
    std::thread(Serve, fd, version).detach();
  }
  close(lfd);
  std::printf("slipway demo %s: SIGTERM received, draining %d connections\n", version.c_str(), g_connections.load());
  std::fflush(stdout);
  while (g_connections > 0) usleep(10'000);
  std::printf("slipway demo %s: stopped cleanly\n", version.c_str());
  return 0;
}
