// The ECR login: the registry's host and the user and password its token decodes to.
#include "deploy/ecr.h"

#include <gtest/gtest.h>

#include "deploy/fake_ecs_test.h"

namespace slipway::deploy {
namespace {

using nlohmann::json;

Result<EcrLogin> LoginWith(const json& reply) {
  FakeEcsTransport t([&](const std::string& op, const json&) -> Result<aws::HttpResponse> {
    if (op != "GetAuthorizationToken") return Fail("unexpected " + op);
    return Reply(reply);
  });
  FakeClock clock;
  aws::AwsClient client(t, clock, {"AKID", "SECRET", ""}, {"us-east-1", "http://x"});
  return LoginToEcr(client);
}

TEST(LoginToEcr, NamesTheRegistryHostAndDecodesTheToken) {
  // base64("AWS:pass:word")
  auto login = LoginWith({{"authorizationData",
                           {{{"authorizationToken", "QVdTOnBhc3M6d29yZA=="},
                             {"expiresAt", 1700043200.0},
                             {"proxyEndpoint", "https://123456789012.dkr.ecr.us-east-1.amazonaws.com/"}}}}});
  ASSERT_TRUE(login) << login.error().message;
  EXPECT_EQ(login->registry, "123456789012.dkr.ecr.us-east-1.amazonaws.com");
  EXPECT_EQ(login->credentials.user, "AWS");
  EXPECT_EQ(login->credentials.password, "pass:word");
}

TEST(LoginToEcr, SaysWhatTheReplyLacks) {
  auto none = LoginWith({{"authorizationData", json::array()}});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message, "ecr GetAuthorizationToken: the reply has no authorizationData");
  auto nowhere = LoginWith({{"authorizationData", {{{"authorizationToken", "QVdTOnBhc3M="}}}}});
  ASSERT_FALSE(nowhere);
  EXPECT_EQ(nowhere.error().message, "ecr GetAuthorizationToken: the reply names no proxyEndpoint");
  auto garbled = LoginWith({{"authorizationData",
                             {{{"authorizationToken", "bm8gY29sb24="}, {"proxyEndpoint", "http://127.0.0.1:5000"}}}}});
  ASSERT_FALSE(garbled);
  EXPECT_EQ(garbled.error().message, "ecr GetAuthorizationToken: the token is not user:password");
}

}  // namespace
}  // namespace slipway::deploy
