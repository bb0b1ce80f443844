// AwsClient over the real curl transport against a loopback server that fails a scripted number
// of times: what it receives is what AWS would.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "aws/aws_client.h"
#include "aws/testing/loopback_http_server.h"
#include "base/unique_fd.h"

namespace slipway::aws {
namespace {

/// How the server treats one request.
enum class Act { kOk, kServerError, kThrottle, kDrop };

/// A keep-alive HTTP/1.1 server on a loopback port that answers each request as its script says
/// (then kOk), and records the bodies it received.
class ScriptedServer {
 public:
  explicit ScriptedServer(std::deque<Act> script) : script_(std::move(script)) {
    listener_ = UniqueFd(::socket(AF_INET, SOCK_STREAM, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    ::listen(listener_.get(), 8);
    thread_ = std::thread([this] { Serve(); });
  }
  ~ScriptedServer() {
    ::shutdown(listener_.get(), SHUT_RDWR);
    thread_.join();
    for (auto& t : connections_) t.join();  // each ends when its client hangs up
  }
  ScriptedServer(const ScriptedServer&) = delete;
  ScriptedServer& operator=(const ScriptedServer&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }
  std::vector<std::string> bodies() {
    std::lock_guard<std::mutex> l(mu_);
    return bodies_;
  }

 private:
  // Reads one request from `fd` into `buf`; returns its body, or nullopt when the peer closed.
  static std::optional<std::string> ReadRequest(int fd, std::string& buf) {
    char chunk[4096];
    for (;;) {
      const size_t end = buf.find("\r\n\r\n");
      if (end != std::string::npos) {
        size_t length = 0;
        const size_t at = buf.find("Content-Length: ");
        if (at != std::string::npos && at < end) length = std::stoul(buf.substr(at + 16));
        if (buf.size() >= end + 4 + length) {
          std::string body = buf.substr(end + 4, length);
          buf.erase(0, end + 4 + length);
          return body;
        }
      }
      const ssize_t n = ::read(fd, chunk, sizeof chunk);
      if (n <= 0) return std::nullopt;
      buf.append(chunk, static_cast<size_t>(n));
    }
  }

  static void Reply(int fd, int status, const std::string& body) {
    const std::string head = "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/x-amz-json-1.1\r\n"
                             "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    const std::string all = head + body;
    (void)::write(fd, all.data(), all.size());
  }

  void Serve() {
    for (;;) {
      UniqueFd conn(::accept(listener_.get(), nullptr, nullptr));
      if (!conn.valid()) return;
      connections_.emplace_back([this, fd = std::make_shared<UniqueFd>(std::move(conn))] { ServeConnection(*fd); });
    }
  }

  void ServeConnection(const UniqueFd& conn) {
    {
      std::string buf;
      while (auto body = ReadRequest(conn.get(), buf)) {
        Act act = Act::kOk;
        {
          std::lock_guard<std::mutex> l(mu_);
          bodies_.push_back(*body);
          if (!script_.empty()) {
            act = script_.front();
            script_.pop_front();
          }
        }
        if (act == Act::kDrop) break;  // read it, then hang up without a reply
        if (act == Act::kServerError) Reply(conn.get(), 500, R"({"__type":"InternalFailure","message":"boom"})");
        if (act == Act::kThrottle) Reply(conn.get(), 400, R"({"__type":"ThrottlingException","message":"Rate exceeded"})");
        if (act == Act::kOk) Reply(conn.get(), 200, R"({"ok":true})");
      }
    }
  }

  std::deque<Act> script_;
  UniqueFd listener_;
  int port_ = 0;
  std::thread thread_;
  std::vector<std::thread> connections_;  // touched by thread_ only, until it is joined
  std::mutex mu_;
  std::vector<std::string> bodies_;
};

RetryPolicy NoJitter(int attempts) { return RetryPolicy{attempts, [] { return 0.0; }}; }

TEST(AwsClientLoopback, SucceedsAfterFailuresUpToItsAttempts) {
  ScriptedServer server({Act::kServerError, Act::kThrottle, Act::kDrop, Act::kServerError, Act::kThrottle});
  CurlTransport transport;
  FakeClock clock;
  AwsClient client(transport, clock, {"AKID", "SECRET", ""}, {"us-east-1", server.url()}, {}, NoJitter(6));
  auto r = client.Json(kEcs, "DescribeServices", {{"services", {"web"}}});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ((*r)["ok"], true);
  EXPECT_EQ(server.bodies().size(), 6u);
}

TEST(AwsClientLoopback, GivesUpWithTheLastErrorWhenFailuresOutlastItsAttempts) {
  ScriptedServer server({Act::kThrottle, Act::kThrottle, Act::kThrottle});
  CurlTransport transport;
  FakeClock clock;
  AwsClient client(transport, clock, {"AKID", "SECRET", ""}, {"us-east-1", server.url()}, {}, NoJitter(3));
  auto r = client.Json(kEcs, "DescribeServices", nlohmann::json::object());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "ThrottlingException");
  EXPECT_EQ(server.bodies().size(), 3u);
}

TEST(AwsClientLoopback, AChangeWhoseReplyIsLostOnAKeptAliveConnectionArrivesOnce) {
  // Given a connection kept alive by an earlier call, the server reads the change and hangs up.
  ScriptedServer server({Act::kOk, Act::kDrop});
  CurlTransport transport;
  FakeClock clock;
  AwsClient client(transport, clock, {"AKID", "SECRET", ""}, {"us-east-1", server.url()}, {}, NoJitter(6));
  ASSERT_TRUE(client.Json(kEcs, "DescribeServices", nlohmann::json::object()));
  auto r = client.Json(kEcs, "UpdateService", {{"service", "web"}});
  // Then neither slipway nor libcurl sent it again.
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, kOutcomeUnknown) << r.error().message;
  EXPECT_EQ(server.bodies().size(), 2u);
}

TEST(AwsClientLoopback, ACreateWithAClientTokenIsSentAgainUntilItIsAnswered) {
  ScriptedServer server({Act::kDrop, Act::kDrop});
  CurlTransport transport;
  FakeClock clock;
  AwsClient client(transport, clock, {"AKID", "SECRET", ""}, {"us-east-1", server.url()}, {}, NoJitter(3));
  auto r = client.Json(kEcs, "RunTask", {{"taskDefinition", "web:1"}, {"clientToken", "r1-migrate-web"}});
  ASSERT_TRUE(r) << r.error().message;
  const auto bodies = server.bodies();
  ASSERT_EQ(bodies.size(), 3u);
  EXPECT_EQ(bodies[0], bodies[2]);
}

TEST(AwsClientLoopback, AReplyPastTheSizeBoundIsAnErrorNotAnAnswer) {
  // Given an endpoint that answers with 20 MiB, more than any API reply slipway asks for.
  testing::LoopbackHttpServer server([](const testing::ReceivedRequest&) {
    return testing::Reply{200, R"({"events":[{"message":")" + std::string(20 << 20, 'x') + "\"}]}"};
  });
  CurlTransport transport;
  FakeClock clock;
  AwsClient client(transport, clock, {"AKID", "SECRET", ""}, {"us-east-1", server.url()}, {},
                   NoJitter(3));
  auto r = client.Json(kLogs, "GetLogEvents", nlohmann::json::object());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("logs GetLogEvents: the reply from " + server.url()),
            std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("is larger than 16777216 bytes"), std::string::npos)
      << r.error().message;
  EXPECT_EQ(server.requests().size(), 1u);
}

}  // namespace
}  // namespace slipway::aws
