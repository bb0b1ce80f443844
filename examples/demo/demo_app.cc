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
//
// Streaming, for the load balancer's data plane:
//   GET /ws                  a WebSocket that echoes text and binary frames, answers pings and
//                            honours a close
//   GET /sse?count=K         text/event-stream, chunked: K events (default 50) 100 ms apart, each
//                            "id: N\ndata: N <epoch-milliseconds>\n\n" with N from 1
//   POST /upload             reads the whole body (Content-Length or chunked), dropping it as it
//                            comes, and answers {"bytes":N}
//   GET /download?bytes=N    N bytes (Content-Length), made as they are written
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
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

// Reads more of `fd` into `buffer`; false on EOF or error. Waiting for a request, it wakes every
// 100 ms so that a stopping app can close an idle connection.
bool ReadMore(int fd, std::string& buffer, bool between_requests) {
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) == 0) {
      if (between_requests && g_stopping && buffer.empty()) return false;
      continue;
    }
    char chunk[65536];
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<size_t>(n));
    return true;
  }
}

bool WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = write(fd, data, size);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}
bool WriteAll(int fd, const std::string& s) { return WriteAll(fd, s.data(), s.size()); }

// Reads one request head from `fd` (its body stays in `buffer`, for ReadBody); false on EOF or
// error. `lower` is the head in lower case, to look headers up in.
bool ReadRequest(int fd, std::string& buffer, std::string& head, std::string& lower, bool& keep_alive) {
  size_t end;
  while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
    if (buffer.size() > 64 * 1024 || !ReadMore(fd, buffer, true)) return false;
  }
  head = buffer.substr(0, end + 2);
  buffer.erase(0, end + 4);
  lower = head;
  for (char& c : lower) c = static_cast<char>(tolower(c));
  keep_alive = head.find("HTTP/1.1") != std::string::npos;
  if (lower.find("connection: close") != std::string::npos) keep_alive = false;
  if (lower.find("connection: keep-alive") != std::string::npos) keep_alive = true;
  return true;
}

// The value of header `name` (lower case) in `head`, as sent; empty when absent.
std::string Header(const std::string& head, const std::string& lower, const std::string& name) {
  size_t at = lower.find("\r\n" + name + ":");
  if (at == std::string::npos) return "";
  at += name.size() + 3;
  while (at < head.size() && head[at] == ' ') ++at;
  return head.substr(at, head.find("\r\n", at) - at);
}

// Drops the next `n` bytes of the connection, read as they come.
bool Skip(int fd, std::string& buffer, unsigned long long n) {
  while (n > 0) {
    if (buffer.empty() && !ReadMore(fd, buffer, false)) return false;
    const size_t take = static_cast<size_t>(std::min<unsigned long long>(n, buffer.size()));
    buffer.erase(0, take);
    n -= take;
  }
  return true;
}

bool ReadLine(int fd, std::string& buffer, std::string& line) {
  size_t end;
  while ((end = buffer.find("\r\n")) == std::string::npos) {
    if (buffer.size() > 4096 || !ReadMore(fd, buffer, false)) return false;
  }
  line = buffer.substr(0, end);
  buffer.erase(0, end + 2);
  return true;
}

// Reads the request's body (Content-Length or chunked) and drops it: its size, -1 on error.
long long ReadBody(int fd, std::string& buffer, const std::string& head, const std::string& lower) {
  if (Header(head, lower, "transfer-encoding").find("chunked") == std::string::npos) {
    const unsigned long long n = std::strtoull(Header(head, lower, "content-length").c_str(), nullptr, 10);
    return Skip(fd, buffer, n) ? static_cast<long long>(n) : -1;
  }
  long long total = 0;
  for (std::string line;;) {
    if (!ReadLine(fd, buffer, line)) return -1;
    const unsigned long long size = std::strtoull(line.c_str(), nullptr, 16);
    if (size == 0) break;
    if (!Skip(fd, buffer, size + 2)) return -1;
    total += static_cast<long long>(size);
  }
  for (std::string trailer;;) {  // trailers, up to the empty line
    if (!ReadLine(fd, buffer, trailer)) return -1;
    if (trailer.empty()) return total;
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

// SHA-1 of `data`, for the WebSocket handshake's Sec-WebSocket-Accept.
std::string Sha1(const std::string& data) {
  uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  std::string m = data + '\x80';
  while (m.size() % 64 != 56) m += '\0';
  const uint64_t bits = static_cast<uint64_t>(data.size()) * 8;
  for (int i = 7; i >= 0; --i) m += static_cast<char>((bits >> (i * 8)) & 0xff);
  auto rol = [](uint32_t x, int n) { return (x << n) | (x >> (32 - n)); };
  for (size_t block = 0; block < m.size(); block += 64) {
    uint32_t w[80];
    for (int i = 0; i < 16; ++i) {
      const auto* b = reinterpret_cast<const unsigned char*>(m.data() + block + i * 4);
      w[i] = (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
    }
    for (int i = 16; i < 80; ++i) w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; ++i) {
      const uint32_t f = i < 20 ? (b & c) | (~b & d) : i < 40 ? b ^ c ^ d : i < 60 ? (b & c) | (b & d) | (c & d) : b ^ c ^ d;
      const uint32_t k = i < 20 ? 0x5A827999 : i < 40 ? 0x6ED9EBA1 : i < 60 ? 0x8F1BBCDC : 0xCA62C1D6;
      const uint32_t t = rol(a, 5) + f + e + k + w[i];
      e = d, d = c, c = rol(b, 30), b = a, a = t;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
  }
  std::string out;
  for (uint32_t x : h) {
    for (int i = 3; i >= 0; --i) out += static_cast<char>((x >> (i * 8)) & 0xff);
  }
  return out;
}

std::string Base64(const std::string& in) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t n = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<unsigned char>(in[i + 1]) << 8;
    if (i + 2 < in.size()) n |= static_cast<unsigned char>(in[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kAlphabet[n & 63] : '=';
  }
  return out;
}

// `GET /ws`: a WebSocket that echoes each text or binary frame, answers pings and honours a close.
void WebSocketEcho(int fd, std::string& buffer, const std::string& head, const std::string& lower) {
  const std::string key = Header(head, lower, "sec-websocket-key");
  if (key.empty() || lower.find("upgrade: websocket") == std::string::npos) {
    WriteAll(fd, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    return;
  }
  WriteAll(fd, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Accept: " + Base64(Sha1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC11B85")) + "\r\n\r\n");
  for (;;) {
    auto need = [&](size_t n) {
      while (buffer.size() < n) {
        if (!ReadMore(fd, buffer, false)) return false;
      }
      return true;
    };
    if (!need(2)) return;
    const unsigned char b0 = buffer[0], b1 = buffer[1];
    size_t at = 2;
    uint64_t len = b1 & 0x7f;
    if (len >= 126) {
      const size_t bytes = len == 126 ? 2 : 8;
      if (!need(2 + bytes)) return;
      len = 0;
      for (size_t i = 0; i < bytes; ++i) len = (len << 8) | static_cast<unsigned char>(buffer[2 + i]);
      at += bytes;
    }
    if (len > (16 << 20) || !(b1 & 0x80)) return;  // too large, or an unmasked client frame
    if (!need(at + 4 + len)) return;
    const std::string mask = buffer.substr(at, 4);
    std::string payload = buffer.substr(at + 4, len);
    buffer.erase(0, at + 4 + len);
    for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(payload[i] ^ mask[i % 4]);
    const int opcode = b0 & 0x0f;
    if (opcode == 0xA) continue;  // a pong
    // Echoed unmasked, with the same FIN bit; a ping gets a pong, a close its close back.
    std::string frame(1, static_cast<char>((b0 & 0x80) | (opcode == 0x9 ? 0xA : opcode)));
    if (payload.size() < 126) {
      frame += static_cast<char>(payload.size());
    } else if (payload.size() < 65536) {
      frame += static_cast<char>(126);
      frame += static_cast<char>(payload.size() >> 8);
      frame += static_cast<char>(payload.size() & 0xff);
    } else {
      frame += static_cast<char>(127);
      for (int i = 7; i >= 0; --i) frame += static_cast<char>((payload.size() >> (i * 8)) & 0xff);
    }
    if (!WriteAll(fd, frame + payload) || opcode == 0x8) return;
  }
}

// `GET /sse?count=K`: a text/event-stream of K events (default 50), one every 100 ms, each
// "id: N\ndata: N <epoch-milliseconds>\n\n", sent chunked as it happens.
bool EventStream(int fd, const std::string& path, bool head_only) {
  const size_t at = path.find("count=");
  const long count = at == std::string::npos ? 50 : std::atol(path.c_str() + at + 6);
  if (!WriteAll(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n")) {
    return false;
  }
  if (head_only) return true;
  for (long n = 1; n <= count; ++n) {
    if (n > 1) usleep(100'000);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch()).count();
    const std::string event = "id: " + std::to_string(n) + "\ndata: " + std::to_string(n) + " " + std::to_string(ms) + "\n\n";
    char size[16];
    std::snprintf(size, sizeof size, "%zx\r\n", event.size());
    if (!WriteAll(fd, size + event + "\r\n")) return false;
  }
  return WriteAll(fd, "0\r\n\r\n");
}

// `GET /download?bytes=N`: N bytes made as they are written, never held whole.
bool Download(int fd, const std::string& path, bool head_only) {
  const size_t at = path.find("bytes=");
  unsigned long long left = at == std::string::npos ? 0 : std::strtoull(path.c_str() + at + 6, nullptr, 10);
  if (!WriteAll(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
                        std::to_string(left) + "\r\n\r\n")) {
    return false;
  }
  if (head_only) return true;
  static const std::string block(64 * 1024, 'x');
  while (left > 0) {
    const size_t n = static_cast<size_t>(std::min<unsigned long long>(left, block.size()));
    if (!WriteAll(fd, block.data(), n)) return false;
    left -= n;
  }
  return true;
}

void Serve(int fd, std::string version) {
  std::string buffer, head, lower;
  bool keep_alive = true;
  while (ReadRequest(fd, buffer, head, lower, keep_alive)) {
    const std::string line = head.substr(0, head.find("\r\n"));
    const std::string method = line.substr(0, line.find(' '));
    std::string path = line.substr(line.find(' ') + 1);
    path = path.substr(0, path.find(' '));
    if (path == "/ws") {
      WebSocketEcho(fd, buffer, head, lower);
      break;
    }
    const long long body_bytes = ReadBody(fd, buffer, head, lower);
    if (body_bytes < 0) break;
    if (path.rfind("/sse", 0) == 0) {
      if (!EventStream(fd, path, method == "HEAD")) break;
      continue;
    }
    if (path.rfind("/download", 0) == 0) {
      if (!Download(fd, path, method == "HEAD")) break;
      continue;
    }
    std::string status = "200 OK", body;
    if (path == "/upload" && method == "POST") {
      body = "{\"bytes\":" + std::to_string(body_bytes) + "}\n";
    } else if (path == "/healthz") {
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
                       (keep_alive ? "keep-alive" : "close") + "\r\n\r\n" + (method == "HEAD" ? "" : body);
    if (!WriteAll(fd, resp) || !keep_alive) break;
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
