// ELBv2 calls as typed requests and replies: the Query protocol's member lists are written and
// read here only.
#include "aws/elbv2.h"

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
  if (field == "http-request-method") return "HttpRequestMethodConfig";
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
  }
}

void AddConditions(QueryParams& p, const std::vector<RuleCondition>& conditions) {
  for (size_t i = 0; i < conditions.size(); ++i) {
    const RuleCondition& c = conditions[i];
    const std::string at = ListKey(ListStyle::kQuery, "Conditions", i) + ".";
    p[at + "Field"] = c.field;
    const std::string config = ConditionConfig(c.field);
    AddList(p, ListStyle::kQuery, at + (config.empty() ? "Values" : config + ".Values"), c.values);
  }
}

std::vector<std::string> MemberTexts(const XmlNode& node, const std::string& path) {
  return TextsAt(node, path, "member");
}

std::vector<Action> ActionsOf(const XmlNode& node, const std::string& list) {
  std::vector<Action> out;
  for (const XmlNode* a : node.Members(list)) {
    out.push_back(
        {a->Text("Type"),
         a->Text("TargetGroupArn"),
         {a->Text("FixedResponseConfig/StatusCode"), a->Text("FixedResponseConfig/ContentType"),
          a->Text("FixedResponseConfig/MessageBody")}});
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
  for (const XmlNode* c : m.Members("Conditions")) {
    RuleCondition condition{c->Text("Field"), MemberTexts(*c, "Values")};
    const std::string config = ConditionConfig(condition.field);
    if (condition.values.empty() && !config.empty())
      condition.values = MemberTexts(*c, config + "/Values");
    rule.conditions.push_back(std::move(condition));
  }
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

Action ForwardTo(const std::string& target_group_arn) { return {"forward", target_group_arn, {}}; }

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

}  // namespace slipway::aws
