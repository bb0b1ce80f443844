// The registry's lifecycle: settings kept per data dir, clear errors when it cannot run, and (when
// docker-registry is installed) start, adoption by a second engine, and stop.
#include "engine/registry/registry.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/proc.h"
#include "base/unique_fd.h"

namespace slipway::engine {
namespace {

namespace fs = std::filesystem;

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("slipway-registry-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  RegistryOptions Options(const std::string& program) {
    RegistryOptions o;
    o.data_dir = dir_.string();
    o.program = program;
    o.collect_delay = Millis(10);
    return o;
  }

  fs::path dir_;
};

TEST_F(RegistryTest, WithoutTheProgramTheErrorSaysWhatToInstall) {
  auto r = Registry::Open(Options("/nonexistent/docker-registry"));
  auto up = r->Available();
  ASSERT_FALSE(up);
  EXPECT_NE(up.error().message.find("docker-registry is not installed"), std::string::npos) << up.error().message;
  EXPECT_NE(up.error().message.find("apt-get install docker-registry"), std::string::npos);
}

TEST_F(RegistryTest, PortAndPasswordAreChosenOnceAndKeptPrivate) {
  std::string endpoint, password;
  {
    auto r = Registry::Open(Options("/nonexistent/docker-registry"));
    endpoint = r->Endpoint();
    password = r->Password();
  }
  EXPECT_EQ(endpoint.rfind("127.0.0.1:", 0), 0u) << endpoint;
  EXPECT_GE(password.size(), 32u);
  auto again = Registry::Open(Options("/nonexistent/docker-registry"));
  EXPECT_EQ(again->Endpoint(), endpoint);
  EXPECT_EQ(again->Password(), password);
  struct stat st {};
  ASSERT_EQ(::stat((dir_ / "registry/settings.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(RegistryTest, ATakenPortIsNamedInTheError) {
  const std::string endpoint = Registry::Open(Options("/nonexistent/docker-registry"))->Endpoint();
  const int port = std::stoi(endpoint.substr(endpoint.find(':') + 1));
  // Given something else listening on the registry's port
  UniqueFd s(::socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  ASSERT_EQ(::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(s.get(), 1), 0);
  // When a registry would start there
  auto r = Registry::Open(Options("/bin/true"));
  auto up = r->Available();
  ASSERT_FALSE(up);
  EXPECT_NE(up.error().message.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << up.error().message;
  EXPECT_NE(up.error().message.find("is taken"), std::string::npos) << up.error().message;
}

TEST_F(RegistryTest, ConfigIsLoopbackOnlyWithBasicAuthAndDeletes) {
  const auto config = nlohmann::json::parse(RegistryConfig("/d/storage", 5001, "/d/htpasswd", "s", true));
  EXPECT_EQ(config["http"]["addr"], "127.0.0.1:5001");
  EXPECT_EQ(config["auth"]["htpasswd"]["path"], "/d/htpasswd");
  EXPECT_EQ(config["storage"]["delete"]["enabled"], true);
  EXPECT_EQ(config["storage"]["filesystem"]["rootdirectory"], "/d/storage");
  EXPECT_EQ(config["storage"]["maintenance"]["readonly"]["enabled"], true);
  EXPECT_FALSE(nlohmann::json::parse(RegistryConfig("/d", 1, "/h", "s", false))["storage"].contains("maintenance"));
}

pid_t RecordedPid(const fs::path& dir) {
  std::ifstream in(dir / "registry/process.json");
  auto j = nlohmann::json::parse(in, nullptr, false);
  return j.is_object() ? j.value("pid", 0) : 0;
}

TEST_F(RegistryTest, ASecondEngineAdoptsTheRunningRegistryAndStopEndsIt) {
  if (::access("/usr/bin/docker-registry", X_OK) != 0) GTEST_SKIP() << "docker-registry is not installed";
  auto first = Registry::Open(Options("/usr/bin/docker-registry"));
  ASSERT_TRUE(first->Available()) << first->Available().error().message;
  EXPECT_FALSE(first->adopted());
  const pid_t pid = RecordedPid(dir_);
  ASSERT_GT(pid, 0);
  // A handoff: the first engine leaves it running, the next one takes it over.
  first->Release();
  first.reset();
  EXPECT_GT(ProcessStartTime(pid), 0u);
  auto second = Registry::Open(Options("/usr/bin/docker-registry"));
  ASSERT_TRUE(second->Available()) << second->Available().error().message;
  EXPECT_TRUE(second->adopted());
  EXPECT_EQ(RecordedPid(dir_), pid);
  second->Stop();
  for (int i = 0; i < 500 && !ProcessGone(pid); ++i) ::usleep(10'000);
  EXPECT_TRUE(ProcessGone(pid));
  EXPECT_FALSE(fs::exists(dir_ / "registry/process.json"));
}

}  // namespace
}  // namespace slipway::engine
