// Reverse proxy and health checker on Boost.Beast coroutines, on one single-threaded event loop
// per core. Routing comes from immutable snapshots swapped atomically, so a target-set change
// never blocks or drops a request; each loop reads its own copy of the latest one without a lock.
// Bodies stream through in pieces (proxy_stream.h), and a WebSocket becomes a tunnel.
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
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "base/netns.h"
#include "engine/bad_request.h"
#include "engine/listen.h"
#include "engine/metrics/request_meter.h"
#include "engine/proxy_stream.h"

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
/// Bodies stream through, as large as they come (parsers take no "none": the largest length is it).
constexpr uint64_t kNoBodyLimit = std::numeric_limits<uint64_t>::max();
constexpr uint32_t kHeaderLimit = 64 * 1024;  ///< ALB: 64 KB for the request line and headers
/// The most a connection's read buffer holds: a header up to its limit and a relay piece. A chunk
/// line (its extensions) or a trailer section must fit in it whole before the parser takes it, so
/// without this bound one connection could make the engine hold any number of bytes.
constexpr size_t kReadBufferLimit = kHeaderLimit + kRelayPiece;
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
  explicit BeastHeaders(const http::fields& req) : req_(req) {}
  bool AnyValue(std::string_view name, const std::function<bool(std::string_view)>& match) const override {
    auto [first, last] = req_.equal_range(beast::string_view(name.data(), name.size()));
    for (auto it = first; it != last; ++it) {
      if (match(std::string_view(it->value().data(), it->value().size()))) return true;
    }
    return false;
  }

 private:
  const http::fields& req_;
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
  int status = 0;            ///< the answer's status; 0: none was written (nothing to count)
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
  using RequestParser = http::request_parser<http::buffer_body>;
  using ResponseParser = http::response_parser<http::buffer_body>;

  /// Cancels the reads of a request's line and headers when they take past the header timeout
  /// (rather than closing the socket, as a stream timeout would: the client gets a 408 first).
  struct HeaderWatch {
    tcp::socket* socket = nullptr;  ///< null once the connection has ended
    bool fired = false;
    /// Counts the header reads timed; a timer that came due as its read completed finds a newer
    /// count, and leaves alone the body and response reads that followed.
    uint64_t reads = 0;
  };

  /// One client connection's state, reused from request to request.
  struct Client {
    Client(tcp::socket socket, int listener_port) : stream(std::move(socket)), port(listener_port) {}
    beast::tcp_stream stream;
    int port;
    std::string ip;
    beast::flat_buffer buffer{kReadBufferLimit};     ///< read from the client, not parsed yet
    beast::flat_buffer up_buffer{kReadBufferLimit};  ///< read from the target, not parsed yet
    std::unique_ptr<char[]> piece;  ///< the relay buffer, made for the first body
    size_t piece_size = 0;
    std::string held;              ///< a small request body, held whole so that it can be sent again
    bool keep_alive = false;       ///< the client's connection may stay open after this request
    /// The relay buffer for a body of `length` bytes (none: unknown). It grows to kRelayPiece only
    /// for a body that needs it, so connections that carry small bodies keep 4 KiB.
    void FitPiece(const boost::optional<uint64_t>& length) {
      const size_t want = length ? static_cast<size_t>(std::min<uint64_t>(*length, kRelayPiece)) : kRelayPiece;
      if (piece_size >= want) return;
      piece_size = want <= 4096 ? 4096 : kRelayPiece;
      piece = std::make_unique_for_overwrite<char[]>(piece_size);
    }
  };

  /// Whether `buffer` holds a whole request line and headers (up to the header limit).
  static bool HeaderBuffered(const beast::flat_buffer& buffer) {
    const auto data = buffer.data();
    const std::string_view text(static_cast<const char*>(data.data()), std::min<size_t>(data.size(), kHeaderLimit));
    return text.find("\r\n\r\n") != std::string_view::npos;
  }

  std::chrono::milliseconds Idle() const { return std::chrono::milliseconds(options_.idle_timeout_ms); }

  awaitable<void> Serve(tcp::socket socket, int port, [[maybe_unused]] ConnectionCount::Open open) {
    boost::system::error_code ec;
    Client c(std::move(socket), port);
    c.ip = c.stream.socket().remote_endpoint(ec).address().to_string();
    // Past the listener's cap the connection is answered 503 (the load balancer's own 5XX).
    if (!listener_cap_->Enter(port, options_.max_connections_per_listener)) {
      co_await Refuse(c.stream, port, 503);
      co_return;
    }
    struct Leave {  // the counts outlive the proxy: a connection may end after it
      std::shared_ptr<ListenerCap> cap;
      int port;
      ~Leave() { cap->Leave(port); }
    } leave{listener_cap_, port};
    auto watch = std::make_shared<HeaderWatch>(HeaderWatch{&c.stream.socket()});
    struct Unwatch {
      HeaderWatch& w;
      ~Unwatch() { w.socket = nullptr; }
    } unwatch{*watch};
    asio::steady_timer deadline(c.stream.get_executor());
    for (;;) {
      if (c.buffer.size() == 0) {
        // Between requests a connection may stay idle for the idle timeout; then it closes silently.
        c.stream.expires_after(Idle());
        const size_t n = co_await c.stream.async_read_some(c.buffer.prepare(1024), asio::redirect_error(use_awaitable, ec));
        c.buffer.commit(n);
        if (ec) break;
      }
      RequestParser parser;
      parser.header_limit(kHeaderLimit);
      parser.body_limit(kNoBodyLimit);
      // From its first byte, a request's line and headers must arrive within the header timeout.
      // Usually they came whole in the first read, and no timer is needed.
      c.stream.expires_never();
      watch->fired = false;
      const bool whole = HeaderBuffered(c.buffer);
      if (!whole) {
        deadline.expires_after(std::chrono::milliseconds(options_.header_timeout_ms));
        deadline.async_wait([watch, read = ++watch->reads](boost::system::error_code e) {
          if (e || watch->socket == nullptr || watch->reads != read) return;
          watch->fired = true;
          watch->socket->cancel(e);
        });
      }
      co_await http::async_read_header(c.stream, c.buffer, parser, asio::redirect_error(use_awaitable, ec));
      if (!whole) {
        deadline.cancel();  // cannot recall a completion already queued: the count does
        ++watch->reads;
      }
      // Nothing of an answer to this request has been written yet: the previous one was
      // written whole before this read began.
      int refused = 0;
      if (watch->fired) {
        refused = 408;
      } else {
        refused = ec ? StatusForUnreadableRequest(ec) : StatusForRequestHead(parser.get());
        if (refused == 0 && !ec && !ToOriginForm(parser.get())) refused = 400;
      }
      if (refused != 0) {
        co_await Refuse(c.stream, port, refused);
        co_return;
      }
      if (ec) break;
      // Winding down after a handoff: this answer is the connection's last; the client's next
      // connection reaches the new engine through the same listening socket.
      c.keep_alive = parser.get().keep_alive() && !connections_->closing;
      const bool keep_alive = co_await Route(c, parser);
      if (!keep_alive) break;
    }
    c.stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  // Answers a request the load balancer will not forward, as ALB does: a small page,
  // `Connection: close`, and the connection closed after it. It counts as the load balancer's
  // own 4XX (or 5XX) on the listener's load balancer.
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
    client.expires_after(Idle());
    co_await http::async_write(client, res, asio::redirect_error(use_awaitable, ec));
    if (ec) co_return;
    co_await Linger(client);
  }

  // Half-closes, then reads and drops what the client still sends (an upload nobody will read),
  // for a bounded time: closing with unread bytes would reset the connection before the answer
  // arrived.
  static awaitable<void> Linger(beast::tcp_stream& client) {
    boost::system::error_code ec;
    client.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) co_return;
    client.expires_after(kLingerTime);
    std::array<char, 16 * 1024> sink;
    while (!ec) {
      co_await client.async_read_some(asio::buffer(sink), asio::redirect_error(use_awaitable, ec));
    }
  }

  // Answers one request, whose header `parser` has read: routes it, forwards it or answers for the
  // load balancer, and counts it. True when the client connection may carry another request.
  awaitable<bool> Route(Client& c, RequestParser& parser) {
    auto& req = parser.get();
    boost::system::error_code ec;
    c.held.clear();
    if (!parser.is_done() && beast::iequals(req[http::field::expect], "100-continue")) {
      // The proxy asks for the body itself: it relays it as it comes.
      req.erase(http::field::expect);
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      c.stream.expires_after(Idle());
      co_await asio::async_write(c.stream, asio::buffer(kContinue), asio::redirect_error(use_awaitable, ec));
      if (ec) co_return false;
    }
    if (!parser.is_done() && parser.content_length() && *parser.content_length() <= kRelayPiece) {
      // A small body is read whole first, so that the request can be sent to another target when
      // its connection fails.
      c.held.resize(static_cast<size_t>(*parser.content_length()));
      req.body().data = c.held.data();
      req.body().size = c.held.size();
      c.stream.expires_after(Idle());
      co_await http::async_read(c.stream, c.buffer, parser, asio::redirect_error(use_awaitable, ec));
      if (ec || !parser.is_done()) co_return false;  // the client went away or stalled
    }
    RouteOutcome outcome;
    bool keep_alive = co_await Dispatch(c, parser, outcome);
    if (options_.meter != nullptr && outcome.load_balancer_arn != nullptr && outcome.status != 0) {
      options_.meter->Record(*outcome.load_balancer_arn, *outcome.target_group_arn, outcome.status,
                             outcome.from_target, outcome.seconds);
    }
    if (!parser.is_done() && c.stream.socket().is_open()) {
      keep_alive = false;  // answered before the body was read: the connection ends after the answer
      co_await Linger(c.stream);
    }
    co_return keep_alive;
  }

  // Writes an answer of the load balancer's own; true when the connection may stay open.
  awaitable<bool> Answer(Client& c, const RequestParser& parser, Response& res, RouteOutcome& outcome) {
    const auto& req = parser.get();
    outcome.status = static_cast<int>(res.result_int());
    FitBodyToClient(res, req.method(), req.version());
    res.version(req.version());
    const bool keep_alive = c.keep_alive && parser.is_done();
    res.keep_alive(keep_alive);
    boost::system::error_code ec;
    c.stream.expires_after(Idle());
    http::response_serializer<http::string_body> sr{res};
    if (req.method() == http::verb::head) {
      co_await http::async_write_header(c.stream, sr, asio::redirect_error(use_awaitable, ec));
    } else {
      co_await http::async_write(c.stream, sr, asio::redirect_error(use_awaitable, ec));
    }
    co_return keep_alive && !ec;
  }

  awaitable<bool> Dispatch(Client& c, RequestParser& parser, RouteOutcome& outcome) {
    auto& req = parser.get();
    auto table = Table();
    const unsigned version = req.version();
    auto listener = table ? table->listeners.find(c.port) : decltype(table->listeners.end()){};
    if (!table || listener == table->listeners.end()) {
      Response res = AlbError(503, "503 Service Temporarily Unavailable", version);
      co_return co_await Answer(c, parser, res, outcome);
    }
    outcome.table = table;
    outcome.load_balancer_arn = &listener->second.load_balancer_arn;
    const std::string_view target(req.target().data(), req.target().size());
    const std::string_view path = target.substr(0, target.find('?'));
    const BeastHeaders headers(req);
    const auto host = req[http::field::host];
    const RouteRule* rule = MatchRoute(listener->second, {std::string_view(host.data(), host.size()), path,
                                                          PeerOf(c.ip), &headers});
    if (rule == nullptr) {
      Response res = AlbError(404, "404 Not Found", version);
      co_return co_await Answer(c, parser, res, outcome);
    }
    if (rule->target_group_arn.empty()) {
      Response res{static_cast<http::status>(rule->fixed_status), version};
      res.set(http::field::server, "awselb/2.0");
      res.set(http::field::content_type, rule->fixed_content_type.empty() ? "text/plain" : rule->fixed_content_type);
      res.body() = rule->fixed_body;
      res.prepare_payload();
      co_return co_await Answer(c, parser, res, outcome);
    }
    outcome.target_group_arn = &rule->target_group_arn;
    auto backends = table->backends.find(rule->target_group_arn);
    if (backends == table->backends.end() || backends->second.empty()) {
      Response res = AlbError(503, "503 Service Temporarily Unavailable", version);
      co_return co_await Answer(c, parser, res, outcome);
    }
    // "Content-Length: 4, 4", or the field twice: the parser takes either for 4, and so must the
    // target, which might read it otherwise (as no length, and the body as the next request).
    if (parser.content_length()) req.content_length(*parser.content_length());
    AddForwardedHeaders(req, c.ip, c.port);
    co_return co_await Forward(c, parser, backends->second, outcome);
  }

  static void AddForwardedHeaders(http::request<http::buffer_body>& req, const std::string& client_ip, int port) {
    auto xff = req["X-Forwarded-For"];
    req.set("X-Forwarded-For", xff.empty() ? client_ip : std::string(xff) + ", " + client_ip);
    req.set("X-Forwarded-Proto", "http");
    req.set("X-Forwarded-Port", std::to_string(port));
    req.keep_alive(true);  // hop-by-hop: the upstream connection is pooled (an Upgrade token stays)
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
      while (idle != nullptr && !idle->streams.empty()) {
        std::unique_ptr<beast::tcp_stream> stream = std::move(idle->streams.back());
        idle->streams.pop_back();
        // One its target closed cannot carry a request; one with bytes no request asked for (a
        // target that wrote past its response) would hand them to this client as its answer.
        if (!PeerClosed(stream->socket())) co_return Upstream{std::move(stream), true};
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

  // Sends the request to one target after another, then relays the answer to the client as it
  // arrives. A request goes to another target only when it cannot have reached an app, or can
  // safely reach one twice: the connection failed before any byte was sent; or it failed before
  // any response byte, and the request is idempotent with its body (if any) held whole.
  // Sets outcome.from_target and outcome.seconds when a target answers: the time from sending the
  // request to it until its whole response was read, as ALB's TargetResponseTime counts it.
  // True when the client connection may carry another request.
  awaitable<bool> Forward(Client& c, RequestParser& parser, const std::vector<Backend>& backends,
                          RouteOutcome& outcome) {
    auto& req = parser.get();
    const unsigned version = req.version();
    const bool head = req.method() == http::verb::head;
    const bool upgrade = IsWebSocketUpgrade(req);
    const bool held = parser.is_done();  // no body, or held whole in c.held
    const bool resendable = held && Idempotent(req.method());
    req.version(11);
    const size_t n = backends.size();
    const size_t start = next_++;
    int attempts = 0;
    for (size_t i = 0; i < n && attempts < options_.max_attempts; ++i) {
      const Backend& b = backends[(start + i) % n];
      for (;;) {  // pooled connections to b may have been closed: then another one
        Upstream up = co_await Connect(b);
        if (!up.stream) {
          ++attempts;
          break;  // nothing was sent: the next target
        }
        boost::system::error_code ec;
        const auto sent = std::chrono::steady_clock::now();
        http::request_serializer<http::buffer_body> to_target{req};
        up.stream->expires_after(Idle());
        if (held) {
          req.body().data = c.held.empty() ? nullptr : c.held.data();
          req.body().size = c.held.size();
          req.body().more = false;
          co_await http::async_write(*up.stream, to_target, asio::redirect_error(use_awaitable, ec));
        } else {
          co_await http::async_write_header(*up.stream, to_target, asio::redirect_error(use_awaitable, ec));
          if (!ec) {
            boost::system::error_code body_ec;
            c.FitPiece(parser.content_length());
            const RelayEnd end = co_await RelayBody(c.stream, c.buffer, parser, *up.stream, to_target, c.piece.get(),
                                                    c.piece_size, Idle(), [] {}, body_ec);
            if (end == RelayEnd::kReadFailed) {
              // A malformed body is refused as its header would have been; a client that stopped
              // sending gets nothing. The target's connection, with half a request, is dropped.
              if (const int status = StatusForUnreadableRequest(body_ec); status != 0) {
                co_await Refuse(c.stream, c.port, status);
              }
              c.stream.socket().close(ec);
              co_return false;
            }
            if (end == RelayEnd::kWriteFailed) ec = asio::error::broken_pipe;
          }
        }
        // The answer, past interim 1xx ones. A target that stopped reading may still have answered.
        c.up_buffer.consume(c.up_buffer.size());
        std::optional<ResponseParser> from_target;
        bool received = false;
        boost::system::error_code read_ec;
        for (;;) {
          from_target.emplace();
          from_target->body_limit(kNoBodyLimit);
          if (head) from_target->skip(true);  // never a body, whatever its header says
          up.stream->expires_after(Idle());
          co_await http::async_read_header(*up.stream, c.up_buffer, *from_target,
                                           asio::redirect_error(use_awaitable, read_ec));
          received = received || from_target->got_some() || c.up_buffer.size() > 0;
          const unsigned status = read_ec ? 0 : from_target->get().result_int();
          if (read_ec || status < 100 || status >= 200 || status == 101) break;
        }
        if (read_ec) {
          if (!received && read_ec != beast::error::timeout && resendable) {
            if (up.reused) continue;  // a kept-alive connection the target had closed
            ++attempts;
            break;
          }
          Response res = AlbError(read_ec == beast::error::timeout ? 504 : 502,
                                  read_ec == beast::error::timeout ? "504 Gateway Time-out" : "502 Bad Gateway", version);
          co_return co_await Answer(c, parser, res, outcome);
        }
        outcome.from_target = true;
        auto& res = from_target->get();
        outcome.status = static_cast<int>(res.result_int());
        auto read_whole = [&outcome, sent] {
          outcome.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
        };
        if (outcome.status == 101) {
          if (!upgrade) {
            Response bad = AlbError(502, "502 Bad Gateway", version);
            co_return co_await Answer(c, parser, bad, outcome);
          }
          read_whole();
          http::response_serializer<http::buffer_body> to_client{res};
          c.stream.expires_after(Idle());
          co_await http::async_write_header(c.stream, to_client, asio::redirect_error(use_awaitable, ec));
          if (ec) co_return false;
          co_await Tunnel(c.stream.socket(), c.buffer, up.stream->socket(), c.up_buffer, Idle());
          co_return false;
        }
        const bool target_keep_alive = from_target->keep_alive() && !ec;
        const bool has_body = !from_target->is_done();
        const bool keep_alive = FrameForClient(res, has_body, version, c.keep_alive && parser.is_done() && !ec);
        http::response_serializer<http::buffer_body> to_client{res};
        // When body bytes came with the header (a small response usually comes whole), the
        // relay's first write carries the header with them: one send instead of two. Otherwise
        // (an event stream that has sent nothing yet) the header goes at once.
        if (!has_body || c.up_buffer.size() == 0) {
          c.stream.expires_after(Idle());
          co_await http::async_write_header(c.stream, to_client, asio::redirect_error(use_awaitable, ec));
          if (ec) co_return false;
        }
        if (has_body) {
          boost::system::error_code body_ec;
          c.FitPiece(from_target->content_length());
          const RelayEnd end = co_await RelayBody(*up.stream, c.up_buffer, *from_target, c.stream, to_client,
                                                  c.piece.get(), c.piece_size, Idle(), read_whole, body_ec);
          // Cut short: the client's connection ends with it, and the target's is not kept.
          if (end != RelayEnd::kDone) co_return false;
        } else {
          read_whole();
        }
        if (target_keep_alive && c.up_buffer.size() == 0) Release(b, std::move(up.stream));
        co_return keep_alive;
      }
    }
    Response res = AlbError(502, "502 Bad Gateway", version);
    co_return co_await Answer(c, parser, res, outcome);
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
  std::shared_ptr<ListenerCap> listener_cap_ = std::make_shared<ListenerCap>();
};

}  // namespace

std::unique_ptr<ProxyServer> MakeProxy(ProxyOptions options) {
  return std::make_unique<Proxy>(options);
}

}  // namespace slipway::engine
