// Where a release places its load balancer, target groups and tasks: the VPC and the security
// groups. On provider aws they come from EC2 (the subnets' VPC; a security group slipway creates
// when the config names none); the engine has one VPC and takes any group.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aws/aws_client.h"
#include "config/config.h"

namespace slipway::deploy {

/// The engine's only VPC, which its target groups name.
inline constexpr const char* kLocalVpc = "vpc-local";

/// The VPC and security groups of an environment, as a release uses them.
struct Network {
  std::string vpc_id;
  /// Of the load balancer and of every task (awsvpcConfiguration.securityGroups).
  std::vector<std::string> security_groups;
  /// Things the user should know that do not stop the release (e.g. a named group that does not
  /// seem to admit the listener port).
  std::vector<std::string> notes;
};

/// One ingress permission of a security group, as EC2 describes it.
struct IngressRule {
  std::string protocol;  ///< "tcp", "udp", "icmp", or "-1" for every protocol
  int from_port = 0;
  int to_port = 0;
  /// Whether it admits from addresses (an IPv4 or IPv6 range or a prefix list), and from which
  /// security groups.
  bool from_addresses = false;
  std::vector<std::string> from_groups;
};

/// A rule slipway adds to the group it created: TCP `port` from 0.0.0.0/0 when `from_group` is
/// empty, else from that group.
struct IngressGrant {
  int port = 0;
  std::string from_group;
  bool operator==(const IngressGrant&) const = default;
};

/// The single VPC that every one of `subnets` lies in, from `vpc_by_subnet` (what EC2
/// DescribeSubnets answered). An error names a subnet EC2 does not know, or the VPCs when the
/// subnets span more than one, or `configured` (the `vpc:` key) when they lie elsewhere.
[[nodiscard]] Result<std::string> VpcOfSubnets(const std::vector<std::string>& subnets,
                                               const std::map<std::string, std::string>& vpc_by_subnet,
                                               const std::string& configured);

/// True when one of `rules` admits TCP traffic to `port`, from any source.
bool AdmitsTcpPort(const std::vector<IngressRule>& rules, int port);

/// What slipway's own group `group_id`, with `existing` rules, lacks: `listener_port` from
/// anywhere unless some rule admits it from addresses (a range narrowed by hand stays), and each
/// of `task_ports` from the group itself unless a rule admits it from the group or from addresses.
std::vector<IngressGrant> MissingIngress(const std::vector<IngressRule>& existing, const std::string& group_id,
                                         int listener_port, const std::vector<int>& task_ports);

/// The name of the security group slipway creates for `env` when the config names none.
std::string CreatedSecurityGroupName(const config::Environment& env);

/// Finds (or, on provider aws, creates) what `env` needs: see Network. `task_ports` are the
/// container ports the load balancer sends traffic to, which a created group admits from itself.
[[nodiscard]] Result<Network> EnsureNetwork(aws::AwsClient& c, const config::Environment& env,
                                            const std::vector<int>& task_ports);

/// The security groups a release would give `env`'s load balancer and tasks, read without
/// changing anything: the named ones, else the group slipway created for the environment before.
struct SecurityGroupsAsRead {
  std::vector<std::string> ids;
  /// The name of the group a release would create (provider aws, none named, none created yet).
  std::string to_create;
};
[[nodiscard]] Result<SecurityGroupsAsRead> ReadSecurityGroups(aws::AwsClient& c, const config::Environment& env);

/// The services' and one-off tasks' awsvpcConfiguration; null when the environment names no
/// subnets (the engine without networking settings).
nlohmann::json NetworkConfiguration(const config::Environment& env, const std::vector<std::string>& security_groups);

}  // namespace slipway::deploy
