// The proxy against real loopback backends (the demo app): retries and draining.
#include "engine/proxy.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace slipway::engine
