// Reverse proxy and health checker on Boost.Beast coroutines, on one single-threaded event loop
// per core. Routing comes from immutable snapshots swapped atomically, so a target-set change
// never blocks or drops a request; each loop reads its own copy of the latest one without a lock.
#include "engine/proxy.h"

#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <map>
#include <mutex>
#include <thread>

#include "base/netns.h"
#include "engine/bad_request.h"
#include "engine/listen.h"
#include "engine/metrics/request_meter.h"

namespace slipway::engine {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;

namespace {

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;
constexpr size_t kBodyLimit = 64 * 1024 * 1024;
constexpr uint32_t kHeaderLimit = 64 * 1024;  ///< ALB: 64 KB for the request line and headers
/// After refusing a request, how long the proxy keeps reading what the client still sends, so
/// that closing with unread bytes does not reset the connection before the answer arrives.
constexpr auto kLingerTime = std::chrono::seconds(2);

Response AlbError(int status, const std::string& title, unsigned version) {
  Response res{static_cast<http::status>(status), version};
  res.set(http::field::server, "awselb/2.0");
  res.set(http::field::content_type, "text/html");
  res.body() = "<html>\r\n<head><title>" + title + "</title></head>\r\n<body>\r\n<center><h1>" + title +
               "</h1></center>\r\n</body>\r\n</html>\r\n";
  res.prepare_payload();
  return res;
}

bool Idempotent(http::verb v) {
  return v == http::verb::get || v == http::verb::head || v == http::verb::options ||
         v == http::verb::put || v == http::verb::delete_ || v == http::verb::trace;
}

/// A parsed request's headers, for http-header rule conditions.
class BeastHeaders final : public RequestHeaders {
 public:
  explicit BeastHeaders(const Request& req) : req_(req) {}
  bool AnyValue(std::string_view name, const std::function<bool(std::string_view)>& match) const override {
    auto [first, last] = req_.equal_range(beast::string_view(name.data(), name.size()));
    for (auto it = first; it != last; ++it) {
      if (match(std::string_view(it->value().data(), it->value().size()))) return true;
    }
    return false;
  }

 private:
  const Request& req_;
};

/// The connection's peer as source-ip conditions match it (an address the socket reported).
IpAddress PeerOf(const std::string& client_ip) { return ParseIp(client_ip).value_or(IpAddress{}); }

const std::string kNoTargetGroup;

/// Idle keep-alive connections to one backend, on one event loop.
struct IdleConnections {
  Backend backend;
  std::vector<std::unique_ptr<beast::tcp_stream>> streams;
};

IdleConnections* FindIdle(std::vector<IdleConnections>& idle, const Backend& b) {
  for (auto& entry : idle) {
    if (entry.backend.port == b.port && entry.backend.host == b.host) return &entry;
  }
  return nullptr;
}

/// One event loop of the proxy: a single-threaded io_context, and what only its own thread
/// touches: the routing snapshot it last took and its idle upstream connections. A client
/// connection and the upstream connections it uses live on one loop, so none needs a strand.
struct EventLoop {
  explicit EventLoop(const void* owner) : owner(owner) {}

  const void* const owner;  ///< the proxy this loop belongs to
  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  std::thread thread;
  uint64_t generation = 0;  ///< the published snapshot `table` is; 0: none taken yet
  /// The snapshot, under a control block of this loop's own, so that the requests' copies of it do
  /// not bounce one reference count between cores.
  std::shared_ptr<const RoutingTable> table;
  /// One entry per backend of `table`: an upstream connection to a target that left routing has
  /// no entry to return to, and closes.
  std::vector<IdleConnections> idle;
};

/// The event loop whose thread this is; null on other threads.
thread_local EventLoop* this_thread_loop = nullptr;

/// Where Route sent a request, for its metrics. `table` keeps the strings alive.
struct RouteOutcome {
  std::shared_ptr<const RoutingTable> table;
  const std::string* load_balancer_arn = nullptr;  ///< null: no listener, nothing to count
  const std::string* target_group_arn = &kNoTargetGroup;
  bool from_target = false;  ///< the response came from a target, not the load balancer
  double seconds = 0;        ///< how long the target took, when it answered
};

class Proxy final : public ProxyServer {
 public:
  // The listeners accept on the first loop (one kernel queue per listening socket, so a handoff
  // passes one descriptor per port) and deal the connections out to all loops in turn.
  explicit Proxy(ProxyOptions options)
      : options_(options),
        loops_(MakeLoops(this, options.event_loops)),
        listeners_(
            loops_[0]->io, [this](tcp::socket socket, int port) { Admit(std::move(socket), port); },
            [this] { return asio::any_io_executor(NextLoop().io.get_executor()); }),
        inside_(
            loops_[0]->io, [this](tcp::socket socket, int port) { Admit(std::move(socket), port); },
            [this] { return asio::any_io_executor(NextLoop().io.get_executor()); }) {
    for (auto& loop : loops_) {
      loop->thread = std::thread([l = loop.get()] {
        this_thread_loop = l;
        l->io.run();
      });
    }
  }

  ~Proxy() override { Stop(); }
  Proxy(const Proxy&) = delete;
  Proxy& operator=(const Proxy&) = delete;

  void Stop() override {
    for (auto& loop : loops_) {
      loop->work.reset();
      loop->io.stop();
    }
    for (auto& loop : loops_) {
      if (loop->thread.joinable()) loop->thread.join();
    }
  }

  static std::vector<std::unique_ptr<EventLoop>> MakeLoops(const Proxy* owner, int count) {
    if (count <= 0) count = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
    std::vector<std::unique_ptr<EventLoop>> loops;
    for (int i = 0; i < count; ++i) loops.push_back(std::make_unique<EventLoop>(owner));
    return loops;
  }

  EventLoop& NextLoop() { return *loops_[next_loop_.fetch_add(1, std::memory_order_relaxed) % loops_.size()]; }

  void Admit(tcp::socket socket, int port) {
    boost::system::error_code ec;
    // Past the cap the engine would run out of descriptors for its own work (health checks,
    // task logs, the store): the connection is closed at once instead.
    auto open = ConnectionCount::Admit(connections_, max_connections_);
    if (!open) {
      socket.close(ec);
      return;
    }
    socket.set_option(tcp::no_delay(true), ec);
    auto executor = socket.get_executor();  // the connection's event loop
    asio::co_spawn(executor, Serve(std::move(socket), port, std::move(*open)), asio::detached);
  }

  Result<void> OpenListener(const std::string& host, int port) override {
    std::lock_guard lock(inherited_mu_);
    auto bound = listeners_.Open(host, port, &inherited_);
    if (!bound) return tl::unexpected(bound.error());
    if (options_.task_namespace != nullptr) OpenInsideListener(port);
    return {};
  }

  // Tasks reach the load balancer by its DNSName, which their hosts files map to the task
  // network's gateway: the same listener, inside the task namespace. SO_REUSEPORT lets a new
  // engine open it while the one it replaces still winds down. Best effort: tasks that cannot
  // reach it fail their own requests, and the host's listener is what matters to clients.
  void OpenInsideListener(int port) {
    UniqueFd fd(options_.task_namespace->OpenSocket(AF_INET, SOCK_STREAM));
    const int one = 1;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    if (!fd.valid() || ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
        ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd.get(), 1024) != 0) {
      std::fprintf(stderr, "slipway engine: tasks cannot reach listener %d by its DNS name: %s\n", port,
                   std::strerror(errno));
      return;
    }
    std::map<int, UniqueFd> handed;
    handed[port] = std::move(fd);
    if (auto r = inside_.Open("", port, &handed); !r) {
      std::fprintf(stderr, "slipway engine: listener %d in the task network: %s\n", port, r.error().message.c_str());
    }
  }

  void Inherit(std::map<int, UniqueFd> listeners) override {
    std::lock_guard lock(inherited_mu_);
    inherited_ = std::move(listeners);
  }
  std::map<int, UniqueFd> DuplicateListeners() override { return listeners_.Duplicate(); }
  void StopAccepting() override {
    listeners_.StopAccepting();
    inside_.StopAccepting();
  }
  void ResumeAccepting() override {
    listeners_.ResumeAccepting();
    inside_.ResumeAccepting();
  }
  void WindDown() override {
    connections_->closing = true;
    listeners_.Close();
    inside_.Close();
  }
  int OpenConnections() const override { return connections_->open; }

  /// Client connections the proxy keeps at most: each may need an upstream descriptor too, and
  /// the engine keeps a reserve for its own work.
  static int MaxClientConnections() {
    rlimit limit{};
    const long n = ::getrlimit(RLIMIT_NOFILE, &limit) == 0 ? static_cast<long>(limit.rlim_cur) : 1024;
    return static_cast<int>(std::max(64L, (n - 512) / 2));
  }

  void Publish(std::shared_ptr<const RoutingTable> table) override {
    {
      std::lock_guard lock(published_mu_);
      published_ = std::move(table);
      generation_.fetch_add(1, std::memory_order_release);
    }
    // Each loop takes the snapshot at its next request anyway; this closes its idle connections
    // to targets that left routing now, so draining apps can exit.
    for (auto& loop : loops_) asio::post(loop->io, [this, l = loop.get()] { Refresh(*l); });
  }

  void Check(const HealthCheckSpec& spec, std::function<void(HealthCheckResult)> done) override {
    if (connections_->closing) return;  // handed over: the new engine checks
    asio::co_spawn(NextLoop().io, RunCheck(spec, std::move(done)), asio::detached);
  }

 private:
  awaitable<void> Serve(tcp::socket socket, int port, [[maybe_unused]] ConnectionCount::Open open) {
    boost::system::error_code ec;
    std::string client_ip = socket.remote_endpoint(ec).address().to_string();
    beast::tcp_stream client(std::move(socket));
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(kHeaderLimit);
      parser.body_limit(kBodyLimit);
      client.expires_after(std::chrono::milliseconds(options_.idle_timeout_ms));
      co_await http::async_read(client, buffer, parser, asio::redirect_error(use_awaitable, ec));
      // Nothing of an answer to this request has been written yet: the previous one was
      // written whole before this read began.
      const int refused = ec ? StatusForUnreadableRequest(ec) : StatusForRequestHead(parser.get());
      if (refused != 0) {
        co_await Refuse(client, port, refused);
        co_return;
      }
      if (ec) break;
      Request req = parser.release();
      // Winding down after a handoff: this answer is the connection's last; the client's next
      // connection reaches the new engine through the same listening socket.
      const bool keep_alive = req.keep_alive() && !connections_->closing;
      RouteOutcome outcome;
      Response res = co_await Route(req, port, client_ip, outcome);
      if (options_.meter != nullptr && outcome.load_balancer_arn != nullptr) {
        options_.meter->Record(*outcome.load_balancer_arn, *outcome.target_group_arn, res.result_int(),
                               outcome.from_target, outcome.seconds);
      }
      FitBodyToClient(res, req.method(), req.version());
      res.keep_alive(keep_alive);
      client.expires_after(std::chrono::milliseconds(options_.idle_timeout_ms));
      co_await http::async_write(client, res, asio::redirect_error(use_awaitable, ec));
      if (ec || !keep_alive) break;
    }
    client.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  // Answers a request the load balancer will not forward, as ALB does: a small page,
  // `Connection: close`, and the connection closed after it. It counts as the load balancer's
  // own 4XX on the listener's load balancer.
  awaitable<void> Refuse(beast::tcp_stream& client, int port, int status) {
    if (options_.meter != nullptr) {
      auto table = Table();
      auto listener = table ? table->listeners.find(port) : decltype(table->listeners.end()){};
      if (table && listener != table->listeners.end()) {
        options_.meter->Record(listener->second.load_balancer_arn, kNoTargetGroup, status, false, 0);
      }
    }
    Response res = AlbError(status, ErrorTitle(status), 11);
    res.keep_alive(false);
    boost::system::error_code ec;
    client.expires_after(std::chrono::milliseconds(options_.idle_timeout_ms));
    co_await http::async_write(client, res, asio::redirect_error(use_awaitable, ec));
    if (ec) co_return;
    client.socket().shutdown(tcp::socket::shutdown_send, ec);
    // Reads and drops what the client still sends (an upload past the limit), for a bounded time.
    client.expires_after(kLingerTime);
    std::array<char, 16 * 1024> sink;
    while (!ec) {
      co_await client.async_read_some(asio::buffer(sink), asio::redirect_error(use_awaitable, ec));
    }
  }

  awaitable<Response> Route(Request& req, int port, const std::string& client_ip, RouteOutcome& outcome) {
    auto table = Table();
    const unsigned version = req.version();
    auto listener = table ? table->listeners.find(port) : decltype(table->listeners.end()){};
    if (!table || listener == table->listeners.end()) co_return AlbError(503, "503 Service Temporarily Unavailable", version);
    outcome.table = table;
    outcome.load_balancer_arn = &listener->second.load_balancer_arn;
    const std::string_view target(req.target().data(), req.target().size());
    const std::string_view path = target.substr(0, target.find('?'));
    const BeastHeaders headers(req);
    const auto host = req[http::field::host];
    const RouteRule* rule = MatchRoute(listener->second, {std::string_view(host.data(), host.size()), path,
                                                          PeerOf(client_ip), &headers});
    if (rule == nullptr) co_return AlbError(404, "404 Not Found", version);
    if (rule->target_group_arn.empty()) {
      Response res{static_cast<http::status>(rule->fixed_status), version};
      res.set(http::field::server, "awselb/2.0");
      res.set(http::field::content_type, rule->fixed_content_type.empty() ? "text/plain" : rule->fixed_content_type);
      res.body() = rule->fixed_body;
      res.prepare_payload();
      co_return res;
    }
    outcome.target_group_arn = &rule->target_group_arn;
    auto backends = table->backends.find(rule->target_group_arn);
    if (backends == table->backends.end() || backends->second.empty()) {
      co_return AlbError(503, "503 Service Temporarily Unavailable", version);
    }
    AddForwardedHeaders(req, client_ip, port);
    co_return co_await Forward(req, backends->second, outcome);
  }

  static void AddForwardedHeaders(Request& req, const std::string& client_ip, int port) {
    auto xff = req["X-Forwarded-For"];
    req.set("X-Forwarded-For", xff.empty() ? client_ip : std::string(xff) + ", " + client_ip);
    req.set("X-Forwarded-Proto", "http");
    req.set("X-Forwarded-Port", std::to_string(port));
    req.keep_alive(true);  // hop-by-hop: the upstream connection is pooled
  }

  struct Upstream {
    std::unique_ptr<beast::tcp_stream> stream;
    bool reused = false;
  };

  // Opens the socket for `ep` in the namespace the address lives in: a task address only exists in
  // the task network, and a socket stays in the namespace it was made in. False when it could not.
  bool OpenIn(tcp::socket& socket, const tcp::endpoint& ep) {
    if (options_.task_namespace == nullptr || ep.address().is_loopback() || !ep.address().is_v4()) return true;
    const int fd = options_.task_namespace->OpenSocket(AF_INET, SOCK_STREAM);
    if (fd < 0) return false;
    boost::system::error_code ec;
    socket.assign(tcp::v4(), fd, ec);
    return !ec;
  }

  // The latest routing snapshot. On an event loop, the loop's own copy, which it takes again only
  // when a newer one was published: no lock, no shared reference count.
  std::shared_ptr<const RoutingTable> Table() {
    if (EventLoop* loop = ThisThreadsLoop()) {
      Refresh(*loop);
      return loop->table;
    }
    std::lock_guard lock(published_mu_);
    return published_;
  }

  EventLoop* ThisThreadsLoop() const {
    return this_thread_loop != nullptr && this_thread_loop->owner == this ? this_thread_loop : nullptr;
  }

  // Brings `loop` (on its own thread) to the latest published snapshot: the loop keeps idle
  // connections only to the snapshot's backends, and closes the rest.
  void Refresh(EventLoop& loop) {
    if (generation_.load(std::memory_order_acquire) == loop.generation) return;
    std::shared_ptr<const RoutingTable> table;
    {
      std::lock_guard lock(published_mu_);
      table = published_;
      loop.generation = generation_.load(std::memory_order_relaxed);
    }
    std::vector<IdleConnections> idle;
    if (table) {
      for (const auto& [tg, backends] : table->backends) {
        for (const auto& b : backends) {
          if (FindIdle(idle, b) != nullptr) continue;
          IdleConnections* kept = FindIdle(loop.idle, b);
          idle.push_back(kept != nullptr ? std::move(*kept) : IdleConnections{b, {}});
        }
      }
      auto holder = std::make_shared<std::shared_ptr<const RoutingTable>>(std::move(table));
      loop.table = std::shared_ptr<const RoutingTable>(holder, holder->get());
    } else {
      loop.table = nullptr;
    }
    loop.idle = std::move(idle);  // connections to targets that left routing close here
  }

  awaitable<Upstream> Connect(const Backend& b) {
    if (EventLoop* loop = ThisThreadsLoop()) {
      Refresh(*loop);
      IdleConnections* idle = FindIdle(loop->idle, b);
      if (idle != nullptr && !idle->streams.empty()) {
        Upstream u{std::move(idle->streams.back()), true};
        idle->streams.pop_back();
        co_return u;
      }
    }
    // On the connection's own loop, like the client connection it serves.
    auto executor = co_await asio::this_coro::executor;
    auto stream = std::make_unique<beast::tcp_stream>(executor);
    boost::system::error_code ec;
    tcp::endpoint ep(asio::ip::make_address(b.host, ec), static_cast<unsigned short>(b.port));
    if (!OpenIn(stream->socket(), ep)) co_return Upstream{};
    stream->expires_after(std::chrono::milliseconds(options_.connect_timeout_ms));
    co_await stream->async_connect(ep, asio::redirect_error(use_awaitable, ec));
    if (ec) co_return Upstream{};
    stream->socket().set_option(tcp::no_delay(true), ec);
    co_return Upstream{std::move(stream), false};
  }

  void Release(const Backend& b, std::unique_ptr<beast::tcp_stream> stream) {
    EventLoop* loop = ThisThreadsLoop();
    if (loop == nullptr) return;
    Refresh(*loop);
    // A target that left routing (it is draining) has no entry: the connection closes.
    if (IdleConnections* idle = FindIdle(loop->idle, b)) idle->streams.push_back(std::move(stream));
  }

  // Sends to one backend after another. A request is retried on another target only when it
  // cannot have reached an app: the connection failed, or a reused keep-alive connection was
  // closed before any response byte (then only for idempotent methods).
  // Sets outcome.from_target and outcome.seconds when a target answers: the time from sending the
  // request to it until its whole response was read, as ALB's TargetResponseTime counts it.
  awaitable<Response> Forward(Request& req, const std::vector<Backend>& backends, RouteOutcome& outcome) {
    const unsigned version = req.version();
    req.version(11);
    std::vector<Backend> failed;  // rarely more than empty: no allocation per request
    const size_t start = next_++;
    int attempts = 0;
    for (size_t i = 0; attempts < options_.max_attempts && failed.size() < backends.size(); ++i) {
      const Backend& b = backends[(start + i) % backends.size()];
      if (std::find(failed.begin(), failed.end(), b) != failed.end()) continue;
      Upstream up = co_await Connect(b);
      if (!up.stream) {
        failed.push_back(b);
        ++attempts;
        continue;
      }
      boost::system::error_code ec;
      const auto sent = std::chrono::steady_clock::now();
      up.stream->expires_after(std::chrono::milliseconds(options_.idle_timeout_ms));
      co_await http::async_write(*up.stream, req, asio::redirect_error(use_awaitable, ec));
      if (ec) {
        if (up.reused) continue;  // stale pooled connection: try a fresh one
        failed.push_back(b);
        ++attempts;
        continue;
      }
      beast::flat_buffer buffer;
      http::response_parser<http::string_body> parser;
      parser.body_limit(kBodyLimit);
      if (req.method() == http::verb::head) parser.skip(true);
      co_await http::async_read(*up.stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
      if (ec) {
        bool nothing_received = !parser.got_some() && buffer.size() == 0;
        if (up.reused && nothing_received && Idempotent(req.method())) continue;
        if (ec == beast::error::timeout) co_return AlbError(504, "504 Gateway Time-out", version);
        co_return AlbError(502, "502 Bad Gateway", version);
      }
      outcome.from_target = true;
      outcome.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
      Response res = parser.release();
      res.version(version);
      if (res.keep_alive()) Release(b, std::move(up.stream));
      co_return res;
    }
    co_return AlbError(502, "502 Bad Gateway", version);
  }

  awaitable<void> RunCheck(HealthCheckSpec spec, std::function<void(HealthCheckResult)> done) {
    HealthCheckResult result;
    beast::tcp_stream stream(co_await asio::this_coro::executor);
    boost::system::error_code ec;
    tcp::endpoint ep(asio::ip::make_address(spec.host, ec), static_cast<unsigned short>(spec.port));
    stream.expires_after(std::chrono::milliseconds(spec.timeout_ms));
    if (!OpenIn(stream.socket(), ep)) {
      ec = asio::error::no_descriptors;
    } else {
      co_await stream.async_connect(ep, asio::redirect_error(use_awaitable, ec));
    }
    if (!ec) {
      Request req{http::verb::get, spec.path, 11};
      req.set(http::field::host, spec.host + ":" + std::to_string(spec.port));
      req.set(http::field::user_agent, "ELB-HealthChecker/2.0");
      req.keep_alive(false);
      co_await http::async_write(stream, req, asio::redirect_error(use_awaitable, ec));
    }
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(1024 * 1024);
    if (!ec) co_await http::async_read(stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
    if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space || ec == asio::error::no_memory) {
      result.inconclusive = true;
    } else if (ec == beast::error::timeout) {
      result = {.reason = "Target.Timeout", .description = "Request timed out"};
    } else if (ec) {
      result = {.reason = "Target.FailedHealthChecks", .description = "Health checks failed"};
    } else {
      int code = static_cast<int>(parser.get().result_int());
      result.ok = MatcherAccepts(spec.matcher, code);
      if (!result.ok) {
        result = {.reason = "Target.ResponseCodeMismatch",
                  .description = "Health checks failed with these codes: [" + std::to_string(code) + "]"};
      }
    }
    stream.socket().close(ec);
    done(result);
  }

  ProxyOptions options_;
  /// Declared before the listeners, whose sockets are on the first loop, so destroyed after them.
  std::vector<std::unique_ptr<EventLoop>> loops_;
  std::atomic<size_t> next_loop_{0};
  ListenerSet listeners_;
  ListenerSet inside_;  ///< the same listeners inside the task namespace, for tasks
  std::mutex inherited_mu_;
  std::map<int, UniqueFd> inherited_;
  std::shared_ptr<ConnectionCount> connections_ = std::make_shared<ConnectionCount>();
  /// Read once: the engine has raised its descriptor limit before it makes the proxy.
  const int max_connections_ = MaxClientConnections();
  std::mutex published_mu_;
  std::shared_ptr<const RoutingTable> published_;  ///< the latest snapshot; loops copy it
  std::atomic<uint64_t> generation_{0};            ///< counts Publish calls
  std::atomic<size_t> next_{0};
};

}  // namespace

std::unique_ptr<ProxyServer> MakeProxy(ProxyOptions options) {
  return std::make_unique<Proxy>(options);
}

}  // namespace slipway::engine
