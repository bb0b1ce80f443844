// Ec2 against a scripted transport: the parameters each call sends, and replies shaped as EC2
// sends them (no Result wrapper, <item> lists, nextToken), paged and garbled.
#include "aws/ec2.h"

#include <gtest/gtest.h>

#include "aws/aws_client.h"
#include "aws/testing/query_transport.h"

namespace slipway::aws {
namespace {

using Params = std::map<std::string, std::string>;

// An EC2 reply to `action` holding `inner` right under its root.
std::string Reply(const std::string& action, const std::string& inner) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<" + action +
         "Response xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">\n"
         "  <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>\n" +
         inner + "\n</" + action + "Response>\n";
}

std::string ErrorReply(const std::string& code, const std::string& message) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>" + code +
         "</Code><Message>" + message +
         "</Message></Error></Errors><RequestID>r</RequestID></Response>";
}

class Ec2Test : public ::testing::Test {
 protected:
  testing::QueryTransport transport_;
  FakeClock clock_;
  AwsClient client_{transport_, clock_, Credentials{"AKID", "SECRET", ""},
                    Endpoint{"us-west-2", "http://x"}};
  Ec2 ec2_{client_};
};

TEST_F(Ec2Test, DescribeSubnetsSendsNumberedIdsAndReadsEveryPage) {
  transport_.Reply(Reply("DescribeSubnets", R"(
  <subnetSet>
    <item>
      <subnetId>subnet-9d4a7b6c</subnetId>
      <subnetArn>arn:aws:ec2:us-west-2:123456789012:subnet/subnet-9d4a7b6c</subnetArn>
      <state>available</state>
      <vpcId>vpc-1a2b3c4d</vpcId>
      <cidrBlock>10.0.1.0/24</cidrBlock>
      <ipv6CidrBlockAssociationSet/>
      <availableIpAddressCount>251</availableIpAddressCount>
      <availabilityZone>us-west-2a</availabilityZone>
      <defaultForAz>false</defaultForAz>
      <mapPublicIpOnLaunch>false</mapPublicIpOnLaunch>
      <tagSet><item><key>Name</key><value>public-a</value></item></tagSet>
    </item>
  </subnetSet>
  <nextToken>token-2</nextToken>)"));
  transport_.Reply(Reply("DescribeSubnets", R"(
  <subnetSet>
    <item><subnetId>subnet-6e7f829e</subnetId><vpcId>vpc-1a2b3c4d</vpcId></item>
  </subnetSet>)"));
  auto subnets = ec2_.DescribeSubnets({"subnet-9d4a7b6c", "subnet-6e7f829e"});
  ASSERT_TRUE(subnets) << subnets.error().message;
  EXPECT_EQ(transport_.sent[0], (Params{{"Action", "DescribeSubnets"},
                                        {"Version", "2016-11-15"},
                                        {"SubnetId.1", "subnet-9d4a7b6c"},
                                        {"SubnetId.2", "subnet-6e7f829e"}}));
  ASSERT_EQ(transport_.sent.size(), 2u);
  EXPECT_EQ(transport_.sent[1].at("NextToken"), "token-2");
  EXPECT_EQ(transport_.sent[1].at("SubnetId.2"), "subnet-6e7f829e");
  ASSERT_EQ(subnets->size(), 2u);
  EXPECT_EQ((*subnets)[0].id, "subnet-9d4a7b6c");
  EXPECT_EQ((*subnets)[0].vpc_id, "vpc-1a2b3c4d");
  EXPECT_EQ((*subnets)[1].id, "subnet-6e7f829e");
}

TEST_F(Ec2Test, AnUnknownSubnetKeepsEc2sCodeAndMessage) {
  transport_.Reply(
      ErrorReply("InvalidSubnetID.NotFound", "The subnet ID 'subnet-2' does not exist"), 400);
  auto subnets = ec2_.DescribeSubnets({"subnet-2"});
  ASSERT_FALSE(subnets);
  EXPECT_EQ(subnets.error().code, "InvalidSubnetID.NotFound");
  EXPECT_EQ(
      subnets.error().message,
      "ec2 DescribeSubnets: InvalidSubnetID.NotFound: The subnet ID 'subnet-2' does not exist");
}

TEST_F(Ec2Test, DescribeSecurityGroupsSendsFiltersAndReadsIngress) {
  transport_.Reply(Reply("DescribeSecurityGroups", R"(
  <securityGroupInfo>
    <item>
      <ownerId>123456789012</ownerId>
      <groupId>sg-1a2b3c4d</groupId>
      <groupName>slipway-shop-prod</groupName>
      <groupDescription>slipway prod: load balancer shop-prod and its tasks</groupDescription>
      <vpcId>vpc-1a2b3c4d</vpcId>
      <ipPermissions>
        <item>
          <ipProtocol>tcp</ipProtocol>
          <fromPort>80</fromPort>
          <toPort>80</toPort>
          <groups/>
          <ipRanges><item><cidrIp>0.0.0.0/0</cidrIp><description>slipway: load balancer listener</description></item></ipRanges>
          <ipv6Ranges><item><cidrIpv6>::/0</cidrIpv6></item></ipv6Ranges>
          <prefixListIds/>
        </item>
        <item>
          <ipProtocol>tcp</ipProtocol>
          <fromPort>8080</fromPort>
          <toPort>8080</toPort>
          <groups><item><userId>123456789012</userId><groupId>sg-1a2b3c4d</groupId></item></groups>
          <ipRanges/>
          <ipv6Ranges/>
          <prefixListIds><item><prefixListId>pl-12345678</prefixListId></item></prefixListIds>
        </item>
        <item>
          <ipProtocol>-1</ipProtocol>
          <groups/><ipRanges/><ipv6Ranges/><prefixListIds/>
        </item>
      </ipPermissions>
      <ipPermissionsEgress>
        <item><ipProtocol>-1</ipProtocol><groups/><ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges></item>
      </ipPermissionsEgress>
    </item>
  </securityGroupInfo>)"));
  auto groups = ec2_.DescribeSecurityGroups(
      {}, {{"group-name", {"slipway-shop-prod"}}, {"vpc-id", {"vpc-1a2b3c4d"}}});
  ASSERT_TRUE(groups) << groups.error().message;
  EXPECT_EQ(transport_.sent[0], (Params{{"Action", "DescribeSecurityGroups"},
                                        {"Version", "2016-11-15"},
                                        {"Filter.1.Name", "group-name"},
                                        {"Filter.1.Value.1", "slipway-shop-prod"},
                                        {"Filter.2.Name", "vpc-id"},
                                        {"Filter.2.Value.1", "vpc-1a2b3c4d"}}));
  ASSERT_EQ(groups->size(), 1u);
  const SecurityGroup& g = groups->front();
  EXPECT_EQ(g.id, "sg-1a2b3c4d");
  EXPECT_EQ(g.name, "slipway-shop-prod");
  EXPECT_EQ(g.vpc_id, "vpc-1a2b3c4d");
  ASSERT_EQ(g.ingress.size(), 3u);  // egress is not ingress
  EXPECT_EQ(g.ingress[0].ip_protocol, "tcp");
  EXPECT_EQ(g.ingress[0].from_port, 80);
  EXPECT_EQ(g.ingress[0].to_port, 80);
  ASSERT_EQ(g.ingress[0].ip_ranges.size(), 1u);
  EXPECT_EQ(g.ingress[0].ip_ranges[0].cidr_ip, "0.0.0.0/0");
  EXPECT_EQ(g.ingress[0].ip_ranges[0].description, "slipway: load balancer listener");
  ASSERT_EQ(g.ingress[0].ipv6_ranges.size(), 1u);
  EXPECT_EQ(g.ingress[0].ipv6_ranges[0].cidr_ipv6, "::/0");
  EXPECT_TRUE(g.ingress[0].groups.empty());
  ASSERT_EQ(g.ingress[1].groups.size(), 1u);
  EXPECT_EQ(g.ingress[1].groups[0].group_id, "sg-1a2b3c4d");
  EXPECT_EQ(g.ingress[1].prefix_list_ids, std::vector<std::string>{"pl-12345678"});
  EXPECT_EQ(g.ingress[2].ip_protocol, "-1");
  EXPECT_EQ(g.ingress[2].from_port, 0);
}

TEST_F(Ec2Test, DescribeSecurityGroupsByIdSendsNumberedIds) {
  transport_.Reply(Reply("DescribeSecurityGroups", "<securityGroupInfo/>"));
  auto groups = ec2_.DescribeSecurityGroups({"sg-1", "sg-2"});
  ASSERT_TRUE(groups) << groups.error().message;
  EXPECT_TRUE(groups->empty());
  EXPECT_EQ(transport_.sent[0], (Params{{"Action", "DescribeSecurityGroups"},
                                        {"Version", "2016-11-15"},
                                        {"GroupId.1", "sg-1"},
                                        {"GroupId.2", "sg-2"}}));
}

TEST_F(Ec2Test, CreateSecurityGroupReturnsTheNewId) {
  transport_.Reply(
      Reply("CreateSecurityGroup", "<return>true</return><groupId>sg-0a42d66a</groupId>"));
  auto id = ec2_.CreateSecurityGroup("slipway-shop-prod", "vpc-1a2b3c4d",
                                     "slipway prod: load balancer shop-prod");
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(*id, "sg-0a42d66a");
  EXPECT_EQ(transport_.sent[0],
            (Params{{"Action", "CreateSecurityGroup"},
                    {"Version", "2016-11-15"},
                    {"GroupName", "slipway-shop-prod"},
                    {"VpcId", "vpc-1a2b3c4d"},
                    {"GroupDescription", "slipway prod: load balancer shop-prod"}}));
}

TEST_F(Ec2Test, AuthorizeSendsOnePermissionWithItsRangeOrGroup) {
  transport_.Reply(Reply("AuthorizeSecurityGroupIngress", "<return>true</return>"));
  transport_.Reply(ErrorReply("InvalidPermission.Duplicate", "the specified rule already exists"),
                   400);
  IpPermission open{"tcp", 80, 80, {{"0.0.0.0/0", "slipway: load balancer listener"}}, {}, {}, {}};
  IpPermission self{"tcp", 8080, 8080, {}, {}, {}, {{"sg-1a2b3c4d", ""}}};
  auto first = ec2_.AuthorizeSecurityGroupIngress("sg-1a2b3c4d", {open});
  ASSERT_TRUE(first) << first.error().message;
  auto second = ec2_.AuthorizeSecurityGroupIngress("sg-1a2b3c4d", {self});
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, "InvalidPermission.Duplicate");
  EXPECT_EQ(
      transport_.sent[0],
      (Params{{"Action", "AuthorizeSecurityGroupIngress"},
              {"Version", "2016-11-15"},
              {"GroupId", "sg-1a2b3c4d"},
              {"IpPermissions.1.IpProtocol", "tcp"},
              {"IpPermissions.1.FromPort", "80"},
              {"IpPermissions.1.ToPort", "80"},
              {"IpPermissions.1.IpRanges.1.CidrIp", "0.0.0.0/0"},
              {"IpPermissions.1.IpRanges.1.Description", "slipway: load balancer listener"}}));
  EXPECT_EQ(transport_.sent[1], (Params{{"Action", "AuthorizeSecurityGroupIngress"},
                                        {"Version", "2016-11-15"},
                                        {"GroupId", "sg-1a2b3c4d"},
                                        {"IpPermissions.1.IpProtocol", "tcp"},
                                        {"IpPermissions.1.FromPort", "8080"},
                                        {"IpPermissions.1.ToPort", "8080"},
                                        {"IpPermissions.1.Groups.1.GroupId", "sg-1a2b3c4d"}}));
}

TEST_F(Ec2Test, GarbledRepliesGiveDefaultsOrErrorsNeverCrashes) {
  transport_.Reply(Reply("CreateSecurityGroup", "<return>true</return>"));
  transport_.Reply(
      Reply("DescribeSecurityGroups", R"(<securityGroupInfo><item><groupId>sg-1</groupId>
      <ipPermissions><item><ipProtocol>tcp</ipProtocol><fromPort>http</fromPort></item><junk/></ipPermissions>
      </item><member>not an item</member></securityGroupInfo>)"));
  transport_.Reply("<html><body>Bad Gateway</body></html>");
  transport_.Reply("<<<");
  auto id = ec2_.CreateSecurityGroup("slipway-shop-prod", "vpc-1", "d");
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().message, "ec2 CreateSecurityGroup: unexpected reply: no groupId");
  auto groups = ec2_.DescribeSecurityGroups({"sg-1"});
  ASSERT_TRUE(groups) << groups.error().message;
  ASSERT_EQ(groups->size(), 1u);
  ASSERT_EQ((*groups)[0].ingress.size(), 1u);
  EXPECT_EQ((*groups)[0].ingress[0].from_port, 0);
  EXPECT_TRUE((*groups)[0].ingress[0].ip_ranges.empty());
  auto subnets = ec2_.DescribeSubnets({"subnet-1"});
  ASSERT_TRUE(subnets) << subnets.error().message;
  EXPECT_TRUE(subnets->empty());
  auto broken = ec2_.DescribeSubnets({"subnet-1"});
  ASSERT_FALSE(broken);
  EXPECT_NE(broken.error().message.find("ec2 DescribeSubnets: xml:"), std::string::npos)
      << broken.error().message;
}

TEST_F(Ec2Test, ATokenThatComesBackIsAnErrorNotALoop) {
  for (int i = 0; i < 3; ++i)
    transport_.Reply(Reply("DescribeSubnets", "<subnetSet/><nextToken>t</nextToken>"));
  auto subnets = ec2_.DescribeSubnets({"subnet-1"});
  ASSERT_FALSE(subnets);
  EXPECT_EQ(subnets.error().message,
            "ec2 DescribeSubnets: unexpected reply: nextToken t came twice");
}

}  // namespace
}  // namespace slipway::aws
