// EC2 calls as typed requests and replies: EC2's "SubnetId.1" lists and <item> replies are
// written and read here only.
#include "aws/ec2.h"

#include "aws/aws_client.h"
#include "aws/pages.h"
#include "aws/query_lists.h"

namespace slipway::aws {

namespace {

tl::unexpected<Error> Unexpected(const std::string& action, const std::string& what) {
  return Fail(kEc2.endpoint_prefix + " " + action + ": unexpected reply: " + what);
}

// The <item> children of the list at `path` ("subnetSet", "securityGroupInfo").
std::vector<const XmlNode*> Items(const XmlNode& node, const std::string& path) {
  std::vector<const XmlNode*> out;
  if (const XmlNode* list = node.Find(path)) {
    for (const auto& child : list->children) {
      if (child.name == "item") out.push_back(&child);
    }
  }
  return out;
}

IpPermission PermissionOf(const XmlNode& item) {
  IpPermission p{item.Text("ipProtocol"),
                 IntOr(item.Text("fromPort"), 0),
                 IntOr(item.Text("toPort"), 0),
                 {},
                 {},
                 {},
                 {}};
  for (const XmlNode* r : Items(item, "ipRanges"))
    p.ip_ranges.push_back({r->Text("cidrIp"), r->Text("description")});
  for (const XmlNode* r : Items(item, "ipv6Ranges")) {
    p.ipv6_ranges.push_back({r->Text("cidrIpv6"), r->Text("description")});
  }
  for (const XmlNode* l : Items(item, "prefixListIds"))
    p.prefix_list_ids.push_back(l->Text("prefixListId"));
  for (const XmlNode* g : Items(item, "groups"))
    p.groups.push_back({g->Text("groupId"), g->Text("description")});
  return p;
}

SecurityGroup SecurityGroupOf(const XmlNode& item) {
  SecurityGroup g{item.Text("groupId"), item.Text("groupName"), item.Text("vpcId"), {}};
  for (const XmlNode* p : Items(item, "ipPermissions")) g.ingress.push_back(PermissionOf(*p));
  return g;
}

void AddPermissions(QueryParams& params, const std::vector<IpPermission>& permissions) {
  for (size_t i = 0; i < permissions.size(); ++i) {
    const IpPermission& p = permissions[i];
    const std::string at = ListKey(ListStyle::kEc2, "IpPermissions", i) + ".";
    params[at + "IpProtocol"] = p.ip_protocol;
    if (p.ip_protocol != "-1") {
      params[at + "FromPort"] = std::to_string(p.from_port);
      params[at + "ToPort"] = std::to_string(p.to_port);
    }
    for (size_t j = 0; j < p.ip_ranges.size(); ++j) {
      const std::string range = ListKey(ListStyle::kEc2, at + "IpRanges", j) + ".";
      params[range + "CidrIp"] = p.ip_ranges[j].cidr_ip;
      AddIfSet(params, range + "Description", p.ip_ranges[j].description);
    }
    for (size_t j = 0; j < p.ipv6_ranges.size(); ++j) {
      const std::string range = ListKey(ListStyle::kEc2, at + "Ipv6Ranges", j) + ".";
      params[range + "CidrIpv6"] = p.ipv6_ranges[j].cidr_ipv6;
      AddIfSet(params, range + "Description", p.ipv6_ranges[j].description);
    }
    for (size_t j = 0; j < p.prefix_list_ids.size(); ++j) {
      params[ListKey(ListStyle::kEc2, at + "PrefixListIds", j) + ".PrefixListId"] =
          p.prefix_list_ids[j];
    }
    for (size_t j = 0; j < p.groups.size(); ++j) {
      const std::string pair = ListKey(ListStyle::kEc2, at + "Groups", j) + ".";
      params[pair + "GroupId"] = p.groups[j].group_id;
      AddIfSet(params, pair + "Description", p.groups[j].description);
    }
  }
}

// Sends `action` with `params`, then again with each nextToken, and hands the items of `list`
// on every page to `read`.
template <typename Read>
Result<void> ReadPages(AwsClient& client, const std::string& action, QueryParams params,
                       const std::string& list, Read read) {
  PageGuard pages(kEc2.endpoint_prefix + " " + action, "nextToken");
  for (;;) {
    auto reply = client.Query(kEc2, action, params);
    if (!reply) return tl::unexpected(reply.error());
    for (const XmlNode* item : Items(*reply, list)) read(*item);
    const std::string next = reply->Text("nextToken");
    auto more = pages.Follow(next);
    if (!more) return tl::unexpected(more.error());
    if (!*more) return {};
    params["NextToken"] = next;
  }
}

}  // namespace

Result<std::vector<Subnet>> Ec2::DescribeSubnets(const std::vector<std::string>& subnet_ids) {
  QueryParams p;
  AddList(p, ListStyle::kEc2, "SubnetId", subnet_ids);
  std::vector<Subnet> out;
  auto read =
      ReadPages(client_, "DescribeSubnets", std::move(p), "subnetSet", [&](const XmlNode& item) {
        out.push_back({item.Text("subnetId"), item.Text("vpcId")});
      });
  if (!read) return tl::unexpected(read.error());
  return out;
}

Result<std::vector<SecurityGroup>> Ec2::DescribeSecurityGroups(
    const std::vector<std::string>& group_ids, const std::vector<Filter>& filters) {
  QueryParams p;
  AddList(p, ListStyle::kEc2, "GroupId", group_ids);
  for (size_t i = 0; i < filters.size(); ++i) {
    const std::string at = ListKey(ListStyle::kEc2, "Filter", i) + ".";
    p[at + "Name"] = filters[i].name;
    AddList(p, ListStyle::kEc2, at + "Value", filters[i].values);
  }
  std::vector<SecurityGroup> out;
  auto read = ReadPages(client_, "DescribeSecurityGroups", std::move(p), "securityGroupInfo",
                        [&](const XmlNode& item) { out.push_back(SecurityGroupOf(item)); });
  if (!read) return tl::unexpected(read.error());
  return out;
}

Result<std::string> Ec2::CreateSecurityGroup(const std::string& name, const std::string& vpc_id,
                                             const std::string& description) {
  QueryParams p{{"GroupName", name}, {"GroupDescription", description}};
  AddIfSet(p, "VpcId", vpc_id);
  auto reply = client_.Query(kEc2, "CreateSecurityGroup", p);
  if (!reply) return tl::unexpected(reply.error());
  std::string id = reply->Text("groupId");
  if (id.empty()) return Unexpected("CreateSecurityGroup", "no groupId");
  return id;
}

Result<void> Ec2::AuthorizeSecurityGroupIngress(const std::string& group_id,
                                                const std::vector<IpPermission>& permissions) {
  QueryParams p{{"GroupId", group_id}};
  AddPermissions(p, permissions);
  auto reply = client_.Query(kEc2, "AuthorizeSecurityGroupIngress", p);
  if (!reply) return tl::unexpected(reply.error());
  return {};
}

}  // namespace slipway::aws
