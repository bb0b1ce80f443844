// Temporary credentials are renewed before they expire, also between the requests of one release.
#include "aws/credential_provider.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "aws/aws_client.h"
#include "aws/metadata_credentials.h"
#include "aws/testing/fake_credentials.h"
#include "aws/testing/loopback_http_server.h"

namespace slipway::aws {
namespace {

using testing::LoopbackHttpServer;
using testing::ReceivedRequest;
using testing::Reply;

TEST(RefreshingCredentials, FetchesAgainFiveMinutesBeforeExpiry) {
  FakeClock clock;
  int fetches = 0;
  RefreshingCredentialProvider provider(
      "test",
      [&]() -> Result<IssuedCredentials> {
        ++fetches;
        return IssuedCredentials{{"AKID" + std::to_string(fetches), "s", ""},
                                 clock.WallNow() + std::chrono::minutes(15)};
      },
      clock);
  EXPECT_EQ(provider.Get()->access_key_id, "AKID1");
  clock.Advance(std::chrono::minutes(9));
  EXPECT_EQ(provider.Get()->access_key_id, "AKID1");
  clock.Advance(std::chrono::minutes(1) + Millis(1));  // 4:59.999 left
  EXPECT_EQ(provider.Get()->access_key_id, "AKID2");
  EXPECT_EQ(fetches, 2);
}

TEST(RefreshingCredentials, KeepsValidCredentialsWhenARefreshFailsAndFailsOnceTheyExpire) {
  FakeClock clock;
  bool up = true;
  RefreshingCredentialProvider provider(
      "profile dev (role r)",
      [&]() -> Result<IssuedCredentials> {
        if (!up) return Fail("sts AssumeRole r: connection refused");
        return IssuedCredentials{{"AKID", "s", ""}, clock.WallNow() + std::chrono::minutes(10)};
      },
      clock);
  ASSERT_TRUE(provider.Get());
  up = false;
  clock.Advance(std::chrono::minutes(7));
  EXPECT_EQ(provider.Get()->access_key_id, "AKID");
  clock.Advance(std::chrono::minutes(4));
  auto expired = provider.Get();
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().message, "profile dev (role r): sts AssumeRole r: connection refused");
}

TEST(RefreshingCredentials, CredentialsWithoutExpirationAreFetchedOnce) {
  FakeClock clock;
  int fetches = 0;
  RefreshingCredentialProvider provider(
      "p",
      [&]() -> Result<IssuedCredentials> {
        ++fetches;
        return IssuedCredentials{{"AKID", "s", ""}, std::nullopt};
      },
      clock);
  ASSERT_TRUE(provider.Get());
  clock.Advance(std::chrono::hours(48));
  ASSERT_TRUE(provider.Get());
  EXPECT_EQ(fetches, 1);
}

TEST(ParseIsoTime, ReadsZuluFractionsAndOffsets) {
  const WallTime t = WallTime(std::chrono::seconds(1'700'000'000));
  EXPECT_EQ(ParseIsoTime("2023-11-14T22:13:20Z"), t);
  EXPECT_EQ(ParseIsoTime("2023-11-14T22:13:20.123Z"), t);
  EXPECT_EQ(ParseIsoTime("2023-11-15T00:13:20+02:00"), t);
  EXPECT_FALSE(ParseIsoTime("2023-11-14 22:13:20"));
  EXPECT_FALSE(ParseIsoTime("yesterday"));
}

// Given a container endpoint that issues 15-minute credentials, and a long release on a fake
// clock, when the release keeps calling ECS, then the calls are signed with new credentials
// before the first ones expire, without a failed call.
TEST(RefreshingCredentials, ALongReleaseIsSignedWithRenewedCredentials) {
  FakeClock clock;
  int issued = 0;
  LoopbackHttpServer agent([&](const ReceivedRequest&) {
    ++issued;
    return Reply{200,
                 testing::CredentialDocument("ASIA" + std::to_string(issued),
                                             IsoTime(clock.WallNow() + std::chrono::minutes(15)))};
  });
  LoopbackHttpServer ecs([](const ReceivedRequest&) { return Reply{200, R"({"services":[]})"}; });
  CurlTransport transport;
  const ContainerEndpoint endpoint{agent.url() + "/creds", "", ""};
  auto provider = std::make_shared<RefreshingCredentialProvider>(
      "container", [&] { return FetchContainerCredentials(transport, endpoint); }, clock);
  AwsClient client(transport, clock, provider, Endpoint{"us-east-1", ecs.url()});
  std::vector<std::string> keys;
  for (int minute = 0; minute < 40; ++minute) {
    ASSERT_TRUE(client.Json(kEcs, "DescribeServices", nlohmann::json::object()))
        << "minute " << minute;
    const std::string auth = ecs.requests().back().Header("authorization");
    keys.push_back(auth.substr(auth.find("Credential=") + 11, 5));
    clock.Advance(std::chrono::minutes(1));
  }
  EXPECT_EQ(keys[0], "ASIA1");
  EXPECT_EQ(keys[10], "ASIA2");  // renewed at 10 minutes, 5 before the first expire
  EXPECT_EQ(keys[39], "ASIA4");
  EXPECT_EQ(issued, 4);
  EXPECT_EQ(ecs.requests().at(10).Header("x-amz-security-token"), "TOKEN-ASIA2");
}

}  // namespace
}  // namespace slipway::aws
