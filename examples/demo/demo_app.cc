// The demo web app: answers / with its version and /healthz with 200; on SIGTERM it stops
// accepting, finishes in-flight requests, closes idle keep-alive connections and exits 0. It
// listens on 127.0.0.1:$PORT (default 8080), or on every address when DEMO_ANY_ADDR is set (in a
// container image, where the task's own address must reach it).
//
// DEMO_FAIL makes it misbehave the way real releases fail:
//   crash        exits 1 right after start
//   crash-once   the first task to start (the one that creates the file DEMO_MARKER) exits 1;
//                the others, and its replacement, serve
//   unhealthy    serves / but answers /healthz with 500
//   oom          allocates memory until the runtime kills it
//   missing-env  exits 1 complaining that DATABASE_URL is not set
//   wrong-body   serves a page without the expected text
//   migration    `slipway-demo-app migrate` fails instead of applying its migrations
//   no-sigterm   installs no SIGTERM handler (as PID 1 in a container it then ignores SIGTERM)
//
// The shop example (examples/shop) runs it in two roles:
//   slipway-demo-app frontend   renders / from the backend's /stats; needs BACKEND_URL (the
//                               load balancer's http://<DNSName>/api) and exits 1 without it
//   slipway-demo-app backend    answers /api/stats with a JSON summary
//
// Other modes, for container images (FROM scratch, so no shell and no resolver library):
//   slipway-demo-app check URL     exits 0 when GET URL answers 200 (a container healthCheck)
//   slipway-demo-app sidecar URL   GETs URL every second and prints the answer, until SIGTERM
// and GET /env/NAME answers the value of environment variable NAME, GET /whoami the user and
// group it runs as and whether it may write to its root file system. A sidecar told to stop
// makes one last request first, as a sidecar that flushes to its app would.
// GET /burn?ms=N spins the CPU for N ms (at most 100), for CPU metrics under load.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

std::atomic<bool> g_stopping{false};
std::atomic<bool> g_unhealthy{false};
std::atomic<bool> g_wrong_body{false};
std::string g_role;         // "", "frontend" or "backend"
std::string g_backend_url;  // the frontend's BACKEND_URL
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

// Resolves `host` as a FROM-scratch image can: a literal address, localhost, or /etc/hosts.
bool Resolve(const std::string& host, in_addr& out) {
  if (inet_pton(AF_INET, host.c_str(), &out) == 1) return true;
  if (host == "localhost") return inet_pton(AF_INET, "127.0.0.1", &out) == 1;
  FILE* f = std::fopen("/etc/hosts", "r");
  if (f == nullptr) return false;
  char line[512];
  bool found = false;
  while (!found && std::fgets(line, sizeof line, f)) {
    char* save = nullptr;
    char* addr = strtok_r(line, " \t\n", &save);
    if (addr == nullptr || addr[0] == '#') continue;
    for (char* name = strtok_r(nullptr, " \t\n", &save); name; name = strtok_r(nullptr, " \t\n", &save)) {
      if (host == name && inet_pton(AF_INET, addr, &out) == 1) found = true;
    }
  }
  std::fclose(f);
  return found;
}

// GET `url` (http://host[:port]/path): the status code, 0 when it could not be reached.
int Fetch(const std::string& url, std::string& body) {
  if (url.rfind("http://", 0) != 0) return 0;
  std::string rest = url.substr(7), path = "/";
  if (size_t slash = rest.find('/'); slash != std::string::npos) {
    path = rest.substr(slash);
    rest = rest.substr(0, slash);
  }
  int port = 80;
  std::string host = rest;
  if (size_t colon = rest.find(':'); colon != std::string::npos) {
    host = rest.substr(0, colon);
    port = std::atoi(rest.c_str() + colon + 1);
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (!Resolve(host, addr.sin_addr)) return 0;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  std::string response;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string req = "GET " + path + " HTTP/1.1\r\nHost: " + rest + "\r\nConnection: close\r\n\r\n";
    if (write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size())) {
      char chunk[4096];
      for (ssize_t n; (n = read(fd, chunk, sizeof chunk)) > 0;) response.append(chunk, static_cast<size_t>(n));
    }
  }
  close(fd);
  if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12) return 0;
  size_t head = response.find("\r\n\r\n");
  body = head == std::string::npos ? "" : response.substr(head + 4);
  return std::atoi(response.c_str() + 9);
}

// `slipway-demo-app sidecar URL`: a companion container that reaches another one.
int Sidecar(const std::string& url) {
  struct sigaction sa{};
  sa.sa_handler = OnSigterm;
  sigaction(SIGTERM, &sa, nullptr);
  while (!g_stopping) {
    std::string body;
    const int code = Fetch(url, body);
    while (!body.empty() && body.back() == '\n') body.pop_back();
    std::printf("sidecar: GET %s -> %d %s\n", url.c_str(), code, body.c_str());
    std::fflush(stdout);
    for (int i = 0; i < 10 && !g_stopping; ++i) usleep(100'000);
  }
  usleep(300'000);  // long enough for an app told to stop at the same moment to have closed
  std::string body;
  const int code = Fetch(url, body);
  while (!body.empty() && body.back() == '\n') body.pop_back();
  std::printf("sidecar: stopping; last GET %s -> %d %s\n", url.c_str(), code, body.c_str());
  std::fflush(stdout);
  return 0;
}

// "uid=U gid=G rootfs=writable|read-only": who the app runs as, and whether / takes a new file.
std::string WhoAmI() {
  const char* probe = "/.slipway-whoami-probe";
  int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  const bool writable = fd >= 0 || errno == EEXIST;
  if (fd >= 0) {
    close(fd);
    unlink(probe);
  }
  return "uid=" + std::to_string(getuid()) + " gid=" + std::to_string(getgid()) +
         " rootfs=" + (writable ? "writable" : "read-only") + "\n";
}

// `/burn?ms=N`: spins the CPU for N ms (at most 100), so that a load run shows in the task's
// CPUUtilization.
std::string Burn(const std::string& path) {
  const size_t at = path.find("ms=");
  const long ms = std::clamp(at == std::string::npos ? 10L : std::atol(path.c_str() + at + 3), 0L, 100L);
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  volatile unsigned long spins = 0;
  while (std::chrono::steady_clock::now() < until) spins = spins + 1;
  return "burned " + std::to_string(ms) + " ms\n";
}

void Serve(int fd, std::string version) {
  std::string buffer, line;
  bool keep_alive = true;
  while (ReadRequest(fd, buffer, line, keep_alive)) {
    std::string path = line.substr(line.find(' ') + 1);
    path = path.substr(0, path.find(' '));
    std::string status = "200 OK", body;
    if (path == "/healthz") {
      body = g_unhealthy ? "unhealthy: DEMO_FAIL=unhealthy\n" : "ok\n";
      if (g_unhealthy) status = "500 Internal Server Error";
    } else if (path.rfind("/env/", 0) == 0) {
      const char* value = std::getenv(path.substr(5).c_str());
      if (value) body = value;
      else status = "404 Not Found";
    } else if (path == "/whoami") {
      body = WhoAmI();
    } else if (path.rfind("/burn", 0) == 0) {
      body = Burn(path);
    } else if (g_role == "backend" && path == "/api/stats") {
      body = "{\"service\":\"backend\",\"version\":\"" + version + "\",\"items\":3}\n";
    } else if (g_role == "frontend" && (path == "/" || path.rfind("/?", 0) == 0)) {
      std::string stats;
      const int code = Fetch(g_backend_url + "/stats", stats);
      while (!stats.empty() && stats.back() == '\n') stats.pop_back();
      body = "shop frontend " + version + "\nbackend: " + (code == 200 ? stats : "unavailable") + "\n";
      if (code != 200) status = "502 Bad Gateway";
    } else if (path == "/" || path.rfind("/?", 0) == 0) {
      body = g_wrong_body ? "maintenance page " + version + "\n" : "slipway demo " + version + "\n";
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

// `slipway-demo-app migrate`: the one-off task slipway runs before a release moves traffic.
int Migrate(const std::string& version, const std::string& fail) {
  std::printf("migrating schema for %s\n", version.c_str());
  std::fflush(stdout);
  // DEMO_MIGRATION_SECONDS stretches the migration, to watch a release hold its lock meanwhile.
  if (int seconds = std::atoi(Env("DEMO_MIGRATION_SECONDS", "0").c_str()); seconds > 0) sleep(static_cast<unsigned>(seconds));
  std::printf("applying 0001_create_items ... ok\n");
  if (fail == "migration") {
    std::printf("applying 0002_add_price ... error: column \"price\" of relation \"items\" already exists\n");
    std::printf("migration failed; rolled back 0002_add_price\n");
    return 1;
  }
  std::printf("applying 0002_add_price ... ok\n");
  std::printf("schema is up to date\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string version = Env("APP_VERSION", "v1");
  if (argc > 1 && std::string(argv[1]) == "migrate") return Migrate(version, Env("DEMO_FAIL", ""));
  if (argc > 2 && std::string(argv[1]) == "check") {
    std::string body;
    return Fetch(argv[2], body) == 200 ? 0 : 1;
  }
  if (argc > 2 && std::string(argv[1]) == "sidecar") return Sidecar(argv[2]);
  const int port = std::atoi(Env("PORT", "8080").c_str());
  const std::string fail = Env("DEMO_FAIL", "");
  if (argc > 1 && (std::string(argv[1]) == "frontend" || std::string(argv[1]) == "backend")) g_role = argv[1];
  std::printf("slipway demo %s%s starting on port %d\n", version.c_str(), g_role.empty() ? "" : (" " + g_role).c_str(), port);
  std::fflush(stdout);
  if (g_role == "frontend") {
    g_backend_url = Env("BACKEND_URL", "");
    if (g_backend_url.empty()) {
      std::printf("fatal: BACKEND_URL is not set: the frontend cannot reach the backend's API\n");
      return 1;
    }
  }
  if (fail == "crash") {
    std::printf("fatal: DEMO_FAIL=crash: exiting at start\n");
    return 1;
  }
  if (fail == "crash-once") {
    const std::string marker = Env("DEMO_MARKER", "");
    int fd = marker.empty() ? -1 : open(marker.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
      close(fd);
      std::printf("fatal: DEMO_FAIL=crash-once: this task is the one that crashes\n");
      return 1;
    }
  }
  if (fail == "missing-env" && Env("DATABASE_URL", "").empty()) {
    std::printf("error: required environment variable DATABASE_URL is not set\n");
    return 1;
  }
  if (fail == "oom") {
    // Grows by 16 MiB every 20 ms, touching every page, until the memory limit stops it.
    std::vector<char*> blocks;
    for (int i = 1; i <= 512; ++i) {
      char* block = static_cast<char*>(std::malloc(16 << 20));
      if (block == nullptr) break;
      std::memset(block, i & 0xff, 16 << 20);
      blocks.push_back(block);
      std::printf("allocated %d MiB\n", i * 16);
      std::fflush(stdout);
      usleep(20'000);
    }
    std::printf("fatal: DEMO_FAIL=oom allocated 8 GiB without being stopped; no memory limit applies\n");
    return 1;
  }
  g_unhealthy = fail == "unhealthy";
  g_wrong_body = fail == "wrong-body";
  struct sigaction sa{};
  sa.sa_handler = OnSigterm;
  if (fail == "no-sigterm") {
    std::printf("DEMO_FAIL=no-sigterm: no SIGTERM handler\n");
    std::fflush(stdout);
  } else {
    sigaction(SIGTERM, &sa, nullptr);
  }
  sigaction(SIGINT, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(std::getenv("DEMO_ANY_ADDR") ? INADDR_ANY : INADDR_LOOPBACK);
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
