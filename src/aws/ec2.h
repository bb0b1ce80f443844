// A typed thin client for the EC2 calls slipway makes on provider aws: the subnets' VPC and the
// security groups. Names and shapes follow botocore's ec2 2016-11-15 model.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace slipway::aws {

class AwsClient;

/// A subnet and the VPC it lies in.
struct Subnet {
  std::string id;
  std::string vpc_id;
};

/// An IPv4 range a permission admits from.
struct IpRange {
  std::string cidr_ip;      ///< "0.0.0.0/0"
  std::string description;  ///< empty: none
};

/// An IPv6 range a permission admits from.
struct Ipv6Range {
  std::string cidr_ipv6;  ///< "::/0"
  std::string description;
};

/// A security group a permission admits from (botocore's UserIdGroupPair).
struct GroupPair {
  std::string group_id;
  std::string description;
};

/// One ingress permission: a protocol and port range, and the sources it admits.
struct IpPermission {
  std::string ip_protocol;  ///< "tcp", "udp", "icmp", or "-1" for every protocol
  int from_port = 0;        ///< not sent for protocol "-1"
  int to_port = 0;          ///< the range is from_port..to_port; ICMP puts type and code here
  std::vector<IpRange> ip_ranges;
  std::vector<Ipv6Range> ipv6_ranges;
  std::vector<std::string> prefix_list_ids;  ///< managed lists of ranges, e.g. "pl-12345678"
  std::vector<GroupPair> groups;
};

/// A security group and what it admits.
struct SecurityGroup {
  std::string id;
  std::string name;
  std::string vpc_id;
  std::vector<IpPermission> ingress;  ///< what it admits (egress is not read)
};

/// A Describe filter: the objects whose `name` ("group-name", "vpc-id") is one of `values`.
struct Filter {
  std::string name;
  std::vector<std::string> values;
};

/// EC2 over an AwsClient. Errors keep AwsClient's message and code (e.g.
/// InvalidSubnetID.NotFound); a reply without what the call must return fails with
/// "ec2 <Action>: unexpected reply: ...". Describe calls read every page.
class Ec2 {
 public:
  explicit Ec2(AwsClient& client) : client_(client) {}

  /// The subnets `subnet_ids`; EC2 refuses an ID it does not know (InvalidSubnetID.NotFound).
  [[nodiscard]] Result<std::vector<Subnet>> DescribeSubnets(
      const std::vector<std::string>& subnet_ids);
  /// The security groups `group_ids` (every group when empty) that match all of `filters`.
  [[nodiscard]] Result<std::vector<SecurityGroup>> DescribeSecurityGroups(
      const std::vector<std::string>& group_ids, const std::vector<Filter>& filters = {});
  /// Creates the group `name` in `vpc_id`; returns its ID.
  [[nodiscard]] Result<std::string> CreateSecurityGroup(const std::string& name,
                                                        const std::string& vpc_id,
                                                        const std::string& description);
  /// Adds `permissions` to the group `group_id`. EC2 refuses the whole call when one of them
  /// exists already (InvalidPermission.Duplicate).
  [[nodiscard]] Result<void> AuthorizeSecurityGroupIngress(
      const std::string& group_id, const std::vector<IpPermission>& permissions);

 private:
  AwsClient& client_;
};

}  // namespace slipway::aws
