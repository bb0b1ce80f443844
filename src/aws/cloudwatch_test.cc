// CloudWatch against a scripted transport: the Query parameters each call sends, and replies
// shaped as CloudWatch sends them.
#include "aws/cloudwatch.h"

#include <gtest/gtest.h>

#include "aws/testing/query_transport.h"
#include "base/clock.h"

namespace slipway::aws {
namespace {

std::string Reply(const std::string& action, const std::string& inner) {
  return "<" + action + "Response xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\"><" +
         action + "Result>" + inner + "</" + action +
         "Result><ResponseMetadata><RequestId>r</RequestId>"
         "</ResponseMetadata></" +
         action + "Response>";
}

class CloudWatchClientTest : public ::testing::Test {
 protected:
  testing::QueryTransport transport_;
  FakeClock clock_;
  AwsClient client_{transport_, clock_, Credentials{"AKID", "SECRET", ""},
                    Endpoint{"eu-west-1", "http://x"}};
  CloudWatch cloudwatch_{client_};
};

TEST_F(CloudWatchClientTest, PutDashboardSendsNameAndBodyAndReadsWarnings) {
  transport_.Reply(
      Reply("PutDashboard",
            "<DashboardValidationMessages><member><DataPath>/widgets/0</DataPath>"
            "<Message>unknown metric</Message></member></DashboardValidationMessages>"));
  auto put = cloudwatch_.PutDashboard("shop-prod", R"({"widgets":[]})");
  ASSERT_TRUE(put) << put.error().message;
  ASSERT_EQ(put->size(), 1u);
  EXPECT_EQ((*put)[0].data_path, "/widgets/0");
  EXPECT_EQ((*put)[0].message, "unknown metric");
  ASSERT_EQ(transport_.sent.size(), 1u);
  EXPECT_EQ(transport_.sent[0].at("Action"), "PutDashboard");
  EXPECT_EQ(transport_.sent[0].at("Version"), "2010-08-01");
  EXPECT_EQ(transport_.sent[0].at("DashboardName"), "shop-prod");
  EXPECT_EQ(transport_.sent[0].at("DashboardBody"), R"({"widgets":[]})");
}

TEST_F(CloudWatchClientTest, GetDashboardReadsTheStoredBody) {
  transport_.Reply(Reply("GetDashboard",
                         "<DashboardArn>arn:aws:cloudwatch::123456789012:dashboard/shop-prod"
                         "</DashboardArn><DashboardBody>{&quot;widgets&quot;:[]}</DashboardBody>"
                         "<DashboardName>shop-prod</DashboardName>"));
  auto got = cloudwatch_.GetDashboard("shop-prod");
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->name, "shop-prod");
  EXPECT_EQ(got->body, R"({"widgets":[]})");
  EXPECT_EQ(got->arn, "arn:aws:cloudwatch::123456789012:dashboard/shop-prod");
}

TEST_F(CloudWatchClientTest, AReplyWithoutANameIsAnError) {
  transport_.Reply(Reply("GetDashboard", ""));
  auto got = cloudwatch_.GetDashboard("shop-prod");
  ASSERT_FALSE(got);
  EXPECT_NE(got.error().message.find("monitoring GetDashboard: unexpected reply"),
            std::string::npos)
      << got.error().message;
}

}  // namespace
}  // namespace slipway::aws
