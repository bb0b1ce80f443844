// The VPC and security groups of a release, from EC2 on provider aws (network.h).
#include "deploy/network.h"

#include <algorithm>
#include <cctype>
#include <string_view>
#include <set>

#include "aws/ec2.h"
#include "base/strings.h"

namespace slipway::deploy {

using nlohmann::json;

namespace {

std::vector<IngressRule> IngressOf(const aws::SecurityGroup& group) {
  std::vector<IngressRule> rules;
  for (const aws::IpPermission& p : group.ingress) {
    IngressRule r{p.ip_protocol, p.from_port, p.to_port, false, {}};
    r.from_addresses = !p.ip_ranges.empty() || !p.ipv6_ranges.empty() || !p.prefix_list_ids.empty();
    for (const aws::GroupPair& g : p.groups) r.from_groups.push_back(g.group_id);
    for (const aws::IpRange& range : p.ip_ranges) r.from_anywhere |= range.cidr_ip == "0.0.0.0/0";
    for (const aws::Ipv6Range& range : p.ipv6_ranges) r.from_anywhere |= range.cidr_ipv6 == "::/0";
    rules.push_back(r);
  }
  return rules;
}

bool CoversTcpPort(const IngressRule& r, int port) {
  if (r.protocol == "-1" || r.protocol == "all") return true;
  return (r.protocol == "tcp" || r.protocol == "6") && r.from_port <= port && port <= r.to_port;
}

Result<std::string> SubnetsVpc(aws::Ec2& ec2, const config::Environment& env) {
  auto subnets = ec2.DescribeSubnets(env.subnets);
  if (!subnets) return tl::unexpected(subnets.error());
  std::map<std::string, std::string> vpc_by_subnet;
  for (const aws::Subnet& s : *subnets) vpc_by_subnet[s.id] = s.vpc_id;
  return VpcOfSubnets(env.subnets, vpc_by_subnet, env.vpc);
}

// The group slipway created for `env` in `vpc`, found by its name.
Result<std::vector<aws::SecurityGroup>> FindCreatedGroup(aws::Ec2& ec2, const config::Environment& env,
                                                         const std::string& vpc) {
  return ec2.DescribeSecurityGroups({}, {{"group-name", {CreatedSecurityGroupName(env)}}, {"vpc-id", {vpc}}});
}

// Adds the rules `group_id` lacks (MissingIngress), one request each: EC2 refuses a whole
// request when one rule in it exists already, so a rule that appeared meanwhile (a concurrent
// release, a hand edit) must not keep the others from being added. It counts as added.
Result<void> Authorize(aws::Ec2& ec2, const std::string& group_id, const std::vector<IngressRule>& existing,
                       int port, const std::vector<int>& self_ports) {
  for (const IngressGrant& grant : MissingIngress(existing, group_id, port, self_ports)) {
    aws::IpPermission permission{"tcp", grant.port, grant.port, {}, {}, {}, {}};
    if (grant.from_group.empty()) {
      permission.ip_ranges.push_back({"0.0.0.0/0", kListenerRuleDescription});
    } else {
      permission.groups.push_back({grant.from_group, ""});
    }
    auto r = ec2.AuthorizeSecurityGroupIngress(group_id, {permission});
    if (!r && r.error().code != "InvalidPermission.Duplicate") return tl::unexpected(r.error());
  }
  return {};
}

// The group slipway made for `env` in `vpc` before, or a new one, with the rules it lacks.
Result<std::string> EnsureCreatedGroup(aws::Ec2& ec2, const config::Environment& env, const std::string& vpc,
                                       const std::vector<int>& task_ports) {
  auto found = FindCreatedGroup(ec2, env, vpc);
  if (!found) return tl::unexpected(found.error());
  std::string id;
  std::vector<IngressRule> existing;
  if (!found->empty()) {
    id = found->front().id;
    existing = IngressOf(found->front());
  } else {
    auto created = ec2.CreateSecurityGroup(CreatedSecurityGroupName(env), vpc, CreatedSecurityGroupDescription(env));
    if (!created) return tl::unexpected(created.error());
    id = *created;
  }
  if (auto r = Authorize(ec2, id, existing, env.listener_port, task_ports); !r) return tl::unexpected(r.error());
  return id;
}

// A note when none of the named groups seems to admit the listener port. Only a note: the
// traffic may be admitted in ways this does not read (prefix lists, another group in front).
Result<std::vector<std::string>> CheckNamedGroups(aws::Ec2& ec2, const config::Environment& env) {
  auto groups = ec2.DescribeSecurityGroups(env.security_groups);
  if (!groups) return tl::unexpected(groups.error());
  for (const aws::SecurityGroup& g : *groups) {
    if (AdmitsTcpPort(IngressOf(g), env.listener_port)) return std::vector<std::string>{};
  }
  return std::vector<std::string>{"none of the security groups " + Join(env.security_groups, ", ") +
                                  " admits TCP port " + std::to_string(env.listener_port) +
                                  ": the load balancer's listener may be unreachable"};
}

}  // namespace

Result<std::string> VpcOfSubnets(const std::vector<std::string>& subnets,
                                 const std::map<std::string, std::string>& vpc_by_subnet, const std::string& configured) {
  std::set<std::string> vpcs;
  for (const auto& s : subnets) {
    auto it = vpc_by_subnet.find(s);
    if (it == vpc_by_subnet.end() || it->second.empty()) return Fail("subnet " + s + " was not found by EC2 DescribeSubnets");
    vpcs.insert(it->second);
  }
  if (vpcs.empty()) return Fail("no subnets: provider aws needs the environment's subnets");
  if (vpcs.size() > 1) {
    return Fail("the subnets " + Join(subnets, ", ") + " lie in more than one VPC (" +
                Join(std::vector<std::string>(vpcs.begin(), vpcs.end()), ", ") + "); they must share one");
  }
  if (!configured.empty() && *vpcs.begin() != configured) {
    return Fail("the subnets " + Join(subnets, ", ") + " lie in " + *vpcs.begin() + ", not in vpc " + configured);
  }
  return *vpcs.begin();
}

bool AdmitsTcpPort(const std::vector<IngressRule>& rules, int port) {
  return std::any_of(rules.begin(), rules.end(), [&](const IngressRule& r) { return CoversTcpPort(r, port); });
}

std::vector<IngressGrant> MissingIngress(const std::vector<IngressRule>& existing, const std::string& group_id,
                                         int listener_port, const std::vector<int>& task_ports) {
  auto any_rule = [&](int port, auto&& admits) {
    return std::any_of(existing.begin(), existing.end(),
                       [&](const IngressRule& r) { return CoversTcpPort(r, port) && admits(r); });
  };
  std::vector<IngressGrant> missing;
  const bool open_listener = !any_rule(listener_port, [](const IngressRule& r) { return r.from_addresses; });
  if (open_listener) missing.push_back({listener_port, ""});
  for (int port : std::set<int>(task_ports.begin(), task_ports.end())) {
    if (port <= 0) continue;
    // The listener's new rule admits everywhere, so also the tasks when they listen on its port.
    if (open_listener && port == listener_port) continue;
    const bool admitted = any_rule(port, [&](const IngressRule& r) {
      return r.from_anywhere || std::find(r.from_groups.begin(), r.from_groups.end(), group_id) != r.from_groups.end();
    });
    if (!admitted) missing.push_back({port, group_id});
  }
  return missing;
}

bool IsValidEc2Description(const std::string& text) {
  static constexpr std::string_view kAllowed = " ._-:/()#,@[]+=&;{}!$*";
  return text.size() <= 255 && std::all_of(text.begin(), text.end(), [](char ch) {
           const auto u = static_cast<unsigned char>(ch);
           return std::isalnum(u) || kAllowed.find(ch) != std::string_view::npos;
         });
}

std::string CreatedSecurityGroupDescription(const config::Environment& env) {
  std::string text = "slipway " + env.name + ": load balancer " + env.load_balancer_name + " and its tasks";
  for (char& ch : text) {
    if (!IsValidEc2Description(std::string(1, ch))) ch = '-';
  }
  return text.substr(0, 255);
}

std::string CreatedSecurityGroupName(const config::Environment& env) { return "slipway-" + env.load_balancer_name; }

Result<Network> EnsureNetwork(aws::AwsClient& c, const config::Environment& env, const std::vector<int>& task_ports) {
  if (env.provider != "aws") return Network{env.vpc.empty() ? kLocalVpc : env.vpc, env.security_groups, {}};
  aws::Ec2 ec2(c);
  auto vpc = SubnetsVpc(ec2, env);
  if (!vpc) return tl::unexpected(vpc.error());
  Network net{*vpc, env.security_groups, {}};
  if (env.security_groups.empty()) {
    auto id = EnsureCreatedGroup(ec2, env, *vpc, task_ports);
    if (!id) return tl::unexpected(id.error());
    net.security_groups = {*id};
  } else {
    auto notes = CheckNamedGroups(ec2, env);
    if (!notes) return tl::unexpected(notes.error());
    net.notes = *notes;
  }
  return net;
}

Result<SecurityGroupsAsRead> ReadSecurityGroups(aws::AwsClient& c, const config::Environment& env) {
  if (env.provider != "aws" || !env.security_groups.empty()) return SecurityGroupsAsRead{env.security_groups, ""};
  aws::Ec2 ec2(c);
  auto vpc = SubnetsVpc(ec2, env);
  if (!vpc) return tl::unexpected(vpc.error());
  auto found = FindCreatedGroup(ec2, env, *vpc);
  if (!found) return tl::unexpected(found.error());
  if (!found->empty()) return SecurityGroupsAsRead{{found->front().id}, ""};
  return SecurityGroupsAsRead{{}, CreatedSecurityGroupName(env)};
}

json NetworkConfiguration(const config::Environment& env, const std::vector<std::string>& security_groups) {
  if (env.subnets.empty()) return json();
  json vpc{{"subnets", env.subnets}, {"assignPublicIp", env.assign_public_ip ? "ENABLED" : "DISABLED"}};
  if (!security_groups.empty()) vpc["securityGroups"] = security_groups;
  return {{"awsvpcConfiguration", vpc}};
}

}  // namespace slipway::deploy
