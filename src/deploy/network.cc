// The VPC and security groups of a release, from EC2 on provider aws (network.h).
#include "deploy/network.h"

#include <algorithm>
#include <set>

#include "base/strings.h"

namespace slipway::deploy {

using nlohmann::json;

namespace {

// The <item> children of the EC2 list at `path` ("subnetSet", "securityGroupInfo").
std::vector<const aws::XmlNode*> Items(const aws::XmlNode& reply, const std::string& path) {
  std::vector<const aws::XmlNode*> out;
  if (const aws::XmlNode* list = reply.Find(path)) {
    for (const auto& child : list->children) {
      if (child.name == "item") out.push_back(&child);
    }
  }
  return out;
}

std::vector<IngressRule> IngressOf(const aws::XmlNode& group) {
  std::vector<IngressRule> rules;
  for (const aws::XmlNode* p : Items(group, "ipPermissions")) {
    IngressRule r{p->Text("ipProtocol"), 0, 0, false, {}};
    r.from_port = std::atoi(p->Text("fromPort").c_str());
    r.to_port = std::atoi(p->Text("toPort").c_str());
    r.from_addresses = !Items(*p, "ipRanges").empty() || !Items(*p, "ipv6Ranges").empty() ||
                       !Items(*p, "prefixListIds").empty();
    for (const aws::XmlNode* g : Items(*p, "groups")) r.from_groups.push_back(g->Text("groupId"));
    rules.push_back(r);
  }
  return rules;
}

bool CoversTcpPort(const IngressRule& r, int port) {
  if (r.protocol == "-1" || r.protocol == "all") return true;
  return (r.protocol == "tcp" || r.protocol == "6") && r.from_port <= port && port <= r.to_port;
}

Result<std::string> SubnetsVpc(aws::AwsClient& c, const config::Environment& env) {
  aws::QueryParams p;
  for (size_t i = 0; i < env.subnets.size(); ++i) p["SubnetId." + std::to_string(i + 1)] = env.subnets[i];
  auto r = c.Query(aws::kEc2, "DescribeSubnets", p);
  if (!r) return tl::unexpected(r.error());
  std::map<std::string, std::string> vpc_by_subnet;
  for (const aws::XmlNode* s : Items(*r, "subnetSet")) vpc_by_subnet[s->Text("subnetId")] = s->Text("vpcId");
  return VpcOfSubnets(env.subnets, vpc_by_subnet, env.vpc);
}

// Adds the rules `group_id` lacks (MissingIngress). EC2 refuses the whole request when one
// rule in it is there already, so only missing ones are sent; one that appeared meanwhile (a
// concurrent release) counts as added.
Result<void> Authorize(aws::AwsClient& c, const std::string& group_id, const std::vector<IngressRule>& existing,
                       int port, const std::vector<int>& self_ports) {
  const auto grants = MissingIngress(existing, group_id, port, self_ports);
  if (grants.empty()) return {};
  aws::QueryParams p{{"GroupId", group_id}};
  for (size_t i = 0; i < grants.size(); ++i) {
    const std::string k = "IpPermissions." + std::to_string(i + 1) + ".";
    p[k + "IpProtocol"] = "tcp";
    p[k + "FromPort"] = p[k + "ToPort"] = std::to_string(grants[i].port);
    if (grants[i].from_group.empty()) {
      p[k + "IpRanges.1.CidrIp"] = "0.0.0.0/0";
      p[k + "IpRanges.1.Description"] = "slipway: the load balancer's listener";
    } else {
      p[k + "Groups.1.GroupId"] = grants[i].from_group;
    }
  }
  auto r = c.Query(aws::kEc2, "AuthorizeSecurityGroupIngress", p);
  if (!r && r.error().code != "InvalidPermission.Duplicate") return tl::unexpected(r.error());
  return {};
}

// The group slipway made for `env` in `vpc` before, or a new one, with the rules it lacks.
Result<std::string> EnsureCreatedGroup(aws::AwsClient& c, const config::Environment& env, const std::string& vpc,
                                       const std::vector<int>& task_ports) {
  const std::string name = CreatedSecurityGroupName(env);
  auto found = c.Query(aws::kEc2, "DescribeSecurityGroups",
                       {{"Filter.1.Name", "group-name"}, {"Filter.1.Value.1", name},
                        {"Filter.2.Name", "vpc-id"}, {"Filter.2.Value.1", vpc}});
  if (!found) return tl::unexpected(found.error());
  std::string id;
  std::vector<IngressRule> existing;
  if (auto groups = Items(*found, "securityGroupInfo"); !groups.empty()) {
    id = groups[0]->Text("groupId");
    existing = IngressOf(*groups[0]);
  } else {
    auto created = c.Query(aws::kEc2, "CreateSecurityGroup",
                           {{"GroupName", name}, {"VpcId", vpc},
                            {"GroupDescription", "slipway " + env.name + ": load balancer " + env.load_balancer_name +
                                                     " and its tasks"}});
    if (!created) return tl::unexpected(created.error());
    id = created->Text("groupId");
  }
  if (auto r = Authorize(c, id, existing, env.listener_port, task_ports); !r) return tl::unexpected(r.error());
  return id;
}

// A note when none of the named groups seems to admit the listener port. Only a note: the
// traffic may be admitted in ways this does not read (prefix lists, another group in front).
Result<std::vector<std::string>> CheckNamedGroups(aws::AwsClient& c, const config::Environment& env) {
  aws::QueryParams p;
  for (size_t i = 0; i < env.security_groups.size(); ++i) p["GroupId." + std::to_string(i + 1)] = env.security_groups[i];
  auto r = c.Query(aws::kEc2, "DescribeSecurityGroups", p);
  if (!r) return tl::unexpected(r.error());
  for (const aws::XmlNode* g : Items(*r, "securityGroupInfo")) {
    if (AdmitsTcpPort(IngressOf(*g), env.listener_port)) return std::vector<std::string>{};
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
  auto admitted = [&](int port, const std::string& from_group) {
    return std::any_of(existing.begin(), existing.end(), [&](const IngressRule& r) {
      if (!CoversTcpPort(r, port)) return false;
      if (r.from_addresses) return true;
      return !from_group.empty() &&
             std::find(r.from_groups.begin(), r.from_groups.end(), from_group) != r.from_groups.end();
    });
  };
  std::vector<IngressGrant> missing;
  const bool open_listener = !admitted(listener_port, "");
  if (open_listener) missing.push_back({listener_port, ""});
  for (int port : std::set<int>(task_ports.begin(), task_ports.end())) {
    // The listener's new rule admits the tasks too when they listen on the same port.
    if (port <= 0 || (open_listener && port == listener_port) || admitted(port, group_id)) continue;
    missing.push_back({port, group_id});
  }
  return missing;
}

std::string CreatedSecurityGroupName(const config::Environment& env) { return "slipway-" + env.load_balancer_name; }

Result<Network> EnsureNetwork(aws::AwsClient& c, const config::Environment& env, const std::vector<int>& task_ports) {
  if (env.provider != "aws") return Network{env.vpc.empty() ? kLocalVpc : env.vpc, env.security_groups, {}};
  auto vpc = SubnetsVpc(c, env);
  if (!vpc) return tl::unexpected(vpc.error());
  Network net{*vpc, env.security_groups, {}};
  if (env.security_groups.empty()) {
    auto id = EnsureCreatedGroup(c, env, *vpc, task_ports);
    if (!id) return tl::unexpected(id.error());
    net.security_groups = {*id};
  } else {
    auto notes = CheckNamedGroups(c, env);
    if (!notes) return tl::unexpected(notes.error());
    net.notes = *notes;
  }
  return net;
}

Result<SecurityGroupsAsRead> ReadSecurityGroups(aws::AwsClient& c, const config::Environment& env) {
  if (env.provider != "aws" || !env.security_groups.empty()) return SecurityGroupsAsRead{env.security_groups, ""};
  auto vpc = SubnetsVpc(c, env);
  if (!vpc) return tl::unexpected(vpc.error());
  const std::string name = CreatedSecurityGroupName(env);
  auto found = c.Query(aws::kEc2, "DescribeSecurityGroups",
                       {{"Filter.1.Name", "group-name"}, {"Filter.1.Value.1", name},
                        {"Filter.2.Name", "vpc-id"}, {"Filter.2.Value.1", *vpc}});
  if (!found) return tl::unexpected(found.error());
  if (auto groups = Items(*found, "securityGroupInfo"); !groups.empty()) {
    return SecurityGroupsAsRead{{groups[0]->Text("groupId")}, ""};
  }
  return SecurityGroupsAsRead{{}, name};
}

json NetworkConfiguration(const config::Environment& env, const std::vector<std::string>& security_groups) {
  if (env.subnets.empty()) return json();
  json vpc{{"subnets", env.subnets}, {"assignPublicIp", env.assign_public_ip ? "ENABLED" : "DISABLED"}};
  if (!security_groups.empty()) vpc["securityGroups"] = security_groups;
  return {{"awsvpcConfiguration", vpc}};
}

}  // namespace slipway::deploy
