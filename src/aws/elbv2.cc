// ELBv2 calls as typed requests and replies: the Query protocol's member lists are written and
// read here only.
#include "aws/elbv2.h"

#include <cstdlib>

#include "aws/aws_client.h"
#include "aws/pages.h"
#include "aws/query_lists.h"

namespace slipway::aws {

namespace {

tl::unexpected<Error> Unexpected(const std::string& action, const std::string& what) {
  return Fail(kElbv2.endpoint_prefix + " " + action + ": unexpected reply: " + what);
}

// The element that holds a condition's values in place of the older Values list.
std::string ConditionConfig(const std::string& field) {
  if (field == "path-pattern") return "PathPatternConfig";
  if (field == "host-header") return "HostHeaderConfig";
  if (field == "http-header") return "HttpHeaderConfig";
  if (field == "http-request-method") return "HttpRequestMethodConfig";
  if (field == "query-string") return "QueryStringConfig";
  if (field == "source-ip") return "SourceIpConfig";
  return "";
}

void AddActions(QueryParams& p, const std::string& list, const std::vector<Action>& actions) {
  for (size_t i = 0; i < actions.size(); ++i) {
    const Action& a = actions[i];
    const std::string at = ListKey(ListStyle::kQuery, list, i) + ".";
    p[at + "Type"] = a.type;
    AddIfSet(p, at + "TargetGroupArn", a.target_group_arn);
    AddIfSet(p, at + "FixedResponseConfig.StatusCode", a.fixed_response.status_code);
    AddIfSet(p, at + "FixedResponseConfig.ContentType", a.fixed_response.content_type);
    AddIfSet(p, at + "FixedResponseConfig.MessageBody", a.fixed_response.message_body);
    for (size_t j = 0; j < a.forward_target_groups.size(); ++j) {
      const WeightedTargetGroup& group = a.forward_target_groups[j];
      const std::string in = ListKey(ListStyle::kQuery, at + "ForwardConfig.TargetGroups", j) + ".";
      p[in + "TargetGroupArn"] = group.arn;
      if (group.weight) p[in + "Weight"] = std::to_string(*group.weight);
    }
  }
}

void AddConditions(QueryParams& p, const std::vector<RuleCondition>& conditions) {
  for (size_t i = 0; i < conditions.size(); ++i) {
    const RuleCondition& c = conditions[i];
    const std::string at = ListKey(ListStyle::kQuery, "Conditions", i) + ".";
    p[at + "Field"] = c.field;
    const std::string config = ConditionConfig(c.field);
    // Each field goes in its config: the ALB takes the legacy Values for path-pattern and
    // host-header only. A field with no config known here can only go in Values.
    if (config.empty()) {
      AddList(p, ListStyle::kQuery, at + "Values", c.values);
      continue;
    }
    const std::string in = at + config + ".";
    AddIfSet(p, in + "HttpHeaderName", c.http_header_name);
    AddList(p, ListStyle::kQuery, in + "Values", c.values);
    for (size_t j = 0; j < c.query_strings.size(); ++j) {
      const std::string pair = ListKey(ListStyle::kQuery, in + "Values", j) + ".";
      AddIfSet(p, pair + "Key", c.query_strings[j].key);
      p[pair + "Value"] = c.query_strings[j].value;
    }
  }
}

std::vector<std::string> MemberTexts(const XmlNode& node, const std::string& path) {
  return TextsAt(node, path, "member");
}

Action ActionOf(const XmlNode& a) {
  Action out{a.Text("Type"),
             a.Text("TargetGroupArn"),
             {a.Text("FixedResponseConfig/StatusCode"), a.Text("FixedResponseConfig/ContentType"),
              a.Text("FixedResponseConfig/MessageBody")},
             {}};
  for (const XmlNode* group : a.Members("ForwardConfig/TargetGroups")) {
    const std::string weight = group->Text("Weight");
    out.forward_target_groups.push_back(
        {group->Text("TargetGroupArn"),
         weight.empty() ? std::nullopt : std::optional<int>(IntOr(weight, 0))});
  }
  if (out.target_group_arn.empty() && out.forward_target_groups.size() == 1)
    out.target_group_arn = out.forward_target_groups[0].arn;
  return out;
}

std::vector<Action> ActionsOf(const XmlNode& node, const std::string& list) {
  std::vector<Action> out;
  for (const XmlNode* a : node.Members(list)) out.push_back(ActionOf(*a));
  return out;
}

// A condition as DescribeRules shows it: in the field's config, and for path-pattern and
// host-header in the legacy Values too.
RuleCondition ConditionOf(const XmlNode& c) {
  RuleCondition out{c.Text("Field"), MemberTexts(c, "Values"), "", {}};
  const std::string name = ConditionConfig(out.field);
  const XmlNode* config = name.empty() ? nullptr : c.Child(name);
  if (config == nullptr) return out;
  out.http_header_name = config->Text("HttpHeaderName");
  if (out.field == "query-string") {
    for (const XmlNode* pair : config->Members("Values"))
      out.query_strings.push_back({pair->Text("Key"), pair->Text("Value")});
  } else if (out.values.empty()) {
    out.values = MemberTexts(*config, "Values");
  }
  return out;
}

LoadBalancer LoadBalancerOf(const XmlNode& m) {
  return {m.Text("LoadBalancerArn"), m.Text("LoadBalancerName"),
          m.Text("DNSName"),         m.Text("Scheme"),
          m.Text("VpcId"),           MemberTexts(m, "SecurityGroups")};
}

TargetGroup TargetGroupOf(const XmlNode& m) {
  return {m.Text("TargetGroupArn"), m.Text("TargetGroupName"), IntOr(m.Text("Port"), 0),
          m.Text("VpcId")};
}

Listener ListenerOf(const XmlNode& m) {
  return {m.Text("ListenerArn"), IntOr(m.Text("Port"), 0), m.Text("Protocol"),
          ActionsOf(m, "DefaultActions")};
}

Rule RuleOf(const XmlNode& m) {
  Rule rule{m.Text("RuleArn"), m.Text("Priority"), {}, ActionsOf(m, "Actions")};
  for (const XmlNode* c : m.Members("Conditions")) rule.conditions.push_back(ConditionOf(*c));
  return rule;
}

// Sends `action` with `params`, then again with each NextMarker, and hands the members of
// `list` on every page to `read`.
template <typename Read>
Result<void> ReadPages(AwsClient& client, const std::string& action, QueryParams params,
                       const std::string& list, Read read) {
  PageGuard pages(kElbv2.endpoint_prefix + " " + action, "NextMarker");
  for (;;) {
    auto reply = client.Query(kElbv2, action, params);
    if (!reply) return tl::unexpected(reply.error());
    for (const XmlNode* m : reply->Members(list)) read(*m);
    const std::string next = reply->Text("NextMarker");
    auto more = pages.Follow(next);
    if (!more) return tl::unexpected(more.error());
    if (!*more) return {};
    params["Marker"] = next;
  }
}

// The first member of `list` in a Create reply, which must hold one with a non-empty `arn_field`.
Result<const XmlNode*> Created(const XmlNode& reply, const std::string& action,
                               const std::string& list, const std::string& arn_field) {
  auto members = reply.Members(list);
  if (members.empty()) return Unexpected(action, "no " + list + " member");
  if (members.front()->Text(arn_field).empty())
    return Unexpected(action, "no " + list + "/member/" + arn_field);
  return members.front();
}

}  // namespace

Action ForwardTo(const std::string& target_group_arn) {
  return {"forward", target_group_arn, {}, {}};
}

bool Action::ForwardsTo(const std::string& arn) const {
  if (arn.empty()) return false;
  if (target_group_arn == arn) return true;
  for (const WeightedTargetGroup& group : forward_target_groups) {
    if (group.arn == arn) return true;
  }
  return false;
}

Result<std::vector<LoadBalancer>> Elbv2::DescribeLoadBalancers(
    const std::vector<std::string>& names) {
  QueryParams p;
  AddList(p, ListStyle::kQuery, "Names", names);
  std::vector<LoadBalancer> out;
  auto read = ReadPages(client_, "DescribeLoadBalancers", std::move(p), "LoadBalancers",
                        [&](const XmlNode& m) { out.push_back(LoadBalancerOf(m)); });
  if (!read) return tl::unexpected(read.error());
  return out;
}

Result<std::optional<LoadBalancer>> Elbv2::FindLoadBalancer(const std::string& name) {
  auto found = DescribeLoadBalancers({name});
  if (!found && found.error().code == "LoadBalancerNotFound") return std::optional<LoadBalancer>();
  if (!found) return tl::unexpected(found.error());
  if (found->empty()) return std::optional<LoadBalancer>();
  return std::optional<LoadBalancer>(std::move(found->front()));
}

Result<LoadBalancer> Elbv2::CreateLoadBalancer(const LoadBalancerRequest& request) {
  QueryParams p{{"Name", request.name}};
  AddIfSet(p, "Type", request.type);
  AddIfSet(p, "Scheme", request.scheme);
  AddList(p, ListStyle::kQuery, "Subnets", request.subnets);
  AddList(p, ListStyle::kQuery, "SecurityGroups", request.security_groups);
  auto reply = client_.Query(kElbv2, "CreateLoadBalancer", p);
  if (!reply) return tl::unexpected(reply.error());
  auto lb = Created(*reply, "CreateLoadBalancer", "LoadBalancers", "LoadBalancerArn");
  if (!lb) return tl::unexpected(lb.error());
  return LoadBalancerOf(**lb);
}

Result<std::vector<TargetGroup>> Elbv2::DescribeTargetGroups(
    const std::vector<std::string>& names) {
  QueryParams p;
  AddList(p, ListStyle::kQuery, "Names", names);
  std::vector<TargetGroup> out;
  auto read = ReadPages(client_, "DescribeTargetGroups", std::move(p), "TargetGroups",
                        [&](const XmlNode& m) { out.push_back(TargetGroupOf(m)); });
  if (!read) return tl::unexpected(read.error());
  return out;
}

Result<std::optional<TargetGroup>> Elbv2::FindTargetGroup(const std::string& name) {
  auto found = DescribeTargetGroups({name});
  if (!found && found.error().code == "TargetGroupNotFound") return std::optional<TargetGroup>();
  if (!found) return tl::unexpected(found.error());
  if (found->empty()) return std::optional<TargetGroup>();
  return std::optional<TargetGroup>(std::move(found->front()));
}

Result<TargetGroup> Elbv2::CreateTargetGroup(const TargetGroupRequest& request) {
  QueryParams p{{"Name", request.name}};
  AddIfSet(p, "Protocol", request.protocol);
  AddIfSet(p, "Port", request.port);
  AddIfSet(p, "TargetType", request.target_type);
  AddIfSet(p, "VpcId", request.vpc_id);
  AddIfSet(p, "HealthCheckPath", request.health_check_path);
  AddIfSet(p, "HealthCheckIntervalSeconds", request.health_check_interval_seconds);
  AddIfSet(p, "HealthCheckTimeoutSeconds", request.health_check_timeout_seconds);
  AddIfSet(p, "HealthyThresholdCount", request.healthy_threshold_count);
  AddIfSet(p, "UnhealthyThresholdCount", request.unhealthy_threshold_count);
  AddIfSet(p, "Matcher.HttpCode", request.matcher_http_code);
  auto reply = client_.Query(kElbv2, "CreateTargetGroup", p);
  if (!reply) return tl::unexpected(reply.error());
  auto tg = Created(*reply, "CreateTargetGroup", "TargetGroups", "TargetGroupArn");
  if (!tg) return tl::unexpected(tg.error());
  return TargetGroupOf(**tg);
}

Result<void> Elbv2::ModifyTargetGroupAttributes(
    const std::string& target_group_arn, const std::vector<TargetGroupAttribute>& attributes) {
  QueryParams p{{"TargetGroupArn", target_group_arn}};
  for (size_t i = 0; i < attributes.size(); ++i) {
    const std::string at = ListKey(ListStyle::kQuery, "Attributes", i) + ".";
    p[at + "Key"] = attributes[i].key;
    p[at + "Value"] = attributes[i].value;
  }
  auto reply = client_.Query(kElbv2, "ModifyTargetGroupAttributes", p);
  if (!reply) return tl::unexpected(reply.error());
  return {};
}

Result<std::vector<TargetGroupAttribute>> Elbv2::DescribeTargetGroupAttributes(
    const std::string& target_group_arn) {
  auto reply = client_.Query(kElbv2, "DescribeTargetGroupAttributes", {{"TargetGroupArn", target_group_arn}});
  if (!reply) return tl::unexpected(reply.error());
  std::vector<TargetGroupAttribute> out;
  for (const XmlNode* m : reply->Members("Attributes")) out.push_back({m->Text("Key"), m->Text("Value")});
  return out;
}

Result<std::vector<TargetHealth>> Elbv2::DescribeTargetHealth(const std::string& target_group_arn) {
  auto reply = client_.Query(kElbv2, "DescribeTargetHealth", {{"TargetGroupArn", target_group_arn}});
  if (!reply) return tl::unexpected(reply.error());
  std::vector<TargetHealth> out;
  for (const XmlNode* m : reply->Members("TargetHealthDescriptions")) {
    out.push_back({m->Text("Target/Id"), std::atoi(m->Text("Target/Port").c_str()), m->Text("TargetHealth/State"),
                   m->Text("TargetHealth/Reason")});
  }
  return out;
}

Result<std::vector<Listener>> Elbv2::DescribeListeners(const std::string& load_balancer_arn) {
  std::vector<Listener> out;
  auto read = ReadPages(client_, "DescribeListeners", {{"LoadBalancerArn", load_balancer_arn}},
                        "Listeners", [&](const XmlNode& m) { out.push_back(ListenerOf(m)); });
  if (!read) return tl::unexpected(read.error());
  return out;
}

Result<Listener> Elbv2::CreateListener(const ListenerRequest& request) {
  QueryParams p{{"LoadBalancerArn", request.load_balancer_arn}};
  AddIfSet(p, "Protocol", request.protocol);
  AddIfSet(p, "Port", request.port);
  AddActions(p, "DefaultActions", request.default_actions);
  auto reply = client_.Query(kElbv2, "CreateListener", p);
  if (!reply) return tl::unexpected(reply.error());
  auto listener = Created(*reply, "CreateListener", "Listeners", "ListenerArn");
  if (!listener) return tl::unexpected(listener.error());
  return ListenerOf(**listener);
}

Result<std::vector<Rule>> Elbv2::DescribeRules(const std::string& listener_arn) {
  std::vector<Rule> out;
  auto read = ReadPages(client_, "DescribeRules", {{"ListenerArn", listener_arn}}, "Rules",
                        [&](const XmlNode& m) { out.push_back(RuleOf(m)); });
  if (!read) return tl::unexpected(read.error());
  return out;
}

Result<Rule> Elbv2::CreateRule(const RuleRequest& request) {
  QueryParams p{{"ListenerArn", request.listener_arn}};
  AddIfSet(p, "Priority", request.priority);
  AddConditions(p, request.conditions);
  AddActions(p, "Actions", request.actions);
  auto reply = client_.Query(kElbv2, "CreateRule", p);
  if (!reply) return tl::unexpected(reply.error());
  auto rule = Created(*reply, "CreateRule", "Rules", "RuleArn");
  if (!rule) return tl::unexpected(rule.error());
  return RuleOf(**rule);
}

Result<Rule> Elbv2::ModifyRule(const std::string& rule_arn, const std::vector<RuleCondition>& conditions,
                               const std::vector<Action>& actions) {
  QueryParams p{{"RuleArn", rule_arn}};
  AddConditions(p, conditions);
  AddActions(p, "Actions", actions);
  auto reply = client_.Query(kElbv2, "ModifyRule", p);
  if (!reply) return tl::unexpected(reply.error());
  auto rule = Created(*reply, "ModifyRule", "Rules", "RuleArn");
  if (!rule) return tl::unexpected(rule.error());
  return RuleOf(**rule);
}

Result<void> Elbv2::DeleteRule(const std::string& rule_arn) {
  auto reply = client_.Query(kElbv2, "DeleteRule", {{"RuleArn", rule_arn}});
  if (!reply) return tl::unexpected(reply.error());
  return {};
}

}  // namespace slipway::aws
