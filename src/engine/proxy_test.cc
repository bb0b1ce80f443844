// The proxy against real loopback backends (the demo app): retries and draining.
#include "engine/proxy.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "aws/http_transport.h"
#include "base/child_process.h"

namespace slipway::engine {
namespace {

int FreePort() {
  auto probe = MakeProxy({.event_loops = 1});
  for (int port = 20000 + (getpid() % 20000);; ++port) {
    if (probe->OpenListener("127.0.0.1", port)) return port;  // closed when `probe` is destroyed
  }
}

class ProxyTest : public testing::Test {
 protected:
  void SetUp() override {
    proxy_ = MakeProxy({.event_loops = 2});
    listener_ = FreePort();
    ASSERT_TRUE(proxy_->OpenListener("127.0.0.1", listener_));
  }

  // Starts the demo app answering "slipway demo <version>" on a free port.
  Backend StartApp(const std::string& version) {
    int port = FreePort();
    auto child = ChildProcess::Spawn({.argv = {std::getenv("SLIPWAY_DEMO_APP")},
                                      .env = {{"APP_VERSION", version}, {"PORT", std::to_string(port)}}});
    EXPECT_TRUE(child);
    apps_.push_back(std::move(*child));
    aws::CurlTransport probe;
    for (int i = 0; i < 100; ++i) {
      if (probe.Send({"GET", "http://127.0.0.1:" + std::to_string(port) + "/healthz", {}, "", 1000})) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return {"127.0.0.1", port};
  }

  void Route(std::vector<Backend> backends) {
    auto table = std::make_shared<RoutingTable>();
    table->listeners[listener_] = {listener_, {{50001, {}, {}, "tg"}}};
    table->backends["tg"] = std::move(backends);
    proxy_->Publish(table);
  }

  std::map<std::string, int> Get(int n) {
    std::map<std::string, int> seen;
    for (int i = 0; i < n; ++i) {
      auto r = client_.Send({"GET", "http://127.0.0.1:" + std::to_string(listener_) + "/", {}, "", 5000});
      seen[r ? std::to_string(r->status) + " " + r->body : "error " + r.error().message]++;
    }
    return seen;
  }

  std::unique_ptr<DataPlane> proxy_;
  std::vector<ChildProcess> apps_;
  aws::CurlTransport client_;
  int listener_ = 0;
};

TEST_F(ProxyTest, RetriesARequestWhoseTargetRefusedTheConnectionOnAnotherTarget) {
  Backend a = StartApp("a");
  Backend dead{"127.0.0.1", FreePort()};  // nothing listens here
  Route({dead, a});
  auto seen = Get(20);
  EXPECT_EQ(seen["200 slipway demo a\n"], 20) << seen.begin()->first;
}

TEST_F(ProxyTest, AnswersAlb503WhenTheTargetGroupHasNoTarget) {
  Route({});
  auto seen = Get(1);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen.begin()->first.substr(0, 4), "503 ");
  EXPECT_NE(seen.begin()->first.find("503 Service Temporarily Unavailable"), std::string::npos);
}

TEST_F(ProxyTest, RoundRobinsAndSendsNothingNewToADrainingTarget) {
  Backend a = StartApp("a"), b = StartApp("b");
  Route({a, b});
  auto both = Get(20);
  EXPECT_EQ(both["200 slipway demo a\n"], 10);
  EXPECT_EQ(both["200 slipway demo b\n"], 10);
  // When a is deregistered (draining), it receives no new request, even on pooled connections.
  Route({b});
  auto after = Get(20);
  EXPECT_EQ(after["200 slipway demo b\n"], 20);
  EXPECT_EQ(after.count("200 slipway demo a\n"), 0u);
}

TEST_F(ProxyTest, ATargetStoppedAfterDrainingCausesNoFailure) {
  Backend a = StartApp("a"), b = StartApp("b");
  Route({a, b});
  Get(10);  // both now have pooled keep-alive connections
  Route({b});
  apps_[0].Signal(SIGTERM);  // a drains and exits, closing its idle connections
  apps_[0].Wait();
  auto after = Get(20);
  EXPECT_EQ(after["200 slipway demo b\n"], 20);
}

// Established connections from this process to 127.0.0.1:`port` (the proxy's upstream side).
int ConnectionsTo(int port) {
  char remote_wanted[16];
  std::snprintf(remote_wanted, sizeof remote_wanted, "0100007F:%04X", port);
  std::ifstream in("/proc/self/net/tcp");
  std::string line;
  std::getline(in, line);  // the header
  int n = 0;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state;
    fields >> slot >> local >> remote >> state;
    n += remote == remote_wanted && state == "01";  // 01: ESTABLISHED
  }
  return n;
}

TEST_F(ProxyTest, IdleConnectionsToATargetThatLeftRoutingCloseOnEveryLoop) {
  Backend a = StartApp("a");
  Route({a});
  // Four keep-alive clients at once: the listeners deal them to both loops, and each loop pools
  // its own upstream connections to a.
  std::atomic<int> answered{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([this, &answered] {
      aws::CurlTransport client;
      for (int i = 0; i < 5; ++i) {
        answered += client.Send({"GET", "http://127.0.0.1:" + std::to_string(listener_) + "/", {}, "", 5000}).has_value();
      }
    });
  }
  for (auto& t : clients) t.join();
  ASSERT_EQ(answered, 20);
  ASSERT_GT(ConnectionsTo(a.port), 0);
  Route({StartApp("b")});  // a leaves routing, and no request comes after
  int open = ConnectionsTo(a.port);
  for (int i = 0; i < 250 && open > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    open = ConnectionsTo(a.port);
  }
  EXPECT_EQ(open, 0) << "idle connections to a target that left routing stay open";
}

}  // namespace
}  // namespace slipway::engine
