// ELBv2 Query actions over the control-plane state; replies are XML per botocore's elbv2 model.
#include <algorithm>

#include "base/strings.h"
#include "engine/load_balancing.h"

namespace slipway::engine {

namespace {

ApiError TargetGroupNotFound(const std::string& message = "One or more target groups not found") {
  return {"TargetGroupNotFound", message, 400};
}

ApiError Validation(const std::string& message) { return {"ValidationError", message, 400}; }

/// Reads a Query list "Prefix.member.N" (N = 1..) as strings.
std::vector<std::string> ListParam(const QueryParams& p, const std::string& prefix) {
  std::vector<std::string> out;
  for (int i = 1;; ++i) {
    auto it = p.find(prefix + ".member." + std::to_string(i));
    if (it == p.end()) return out;
    out.push_back(it->second);
  }
}

/// Reads a Query list of structures "Prefix.member.N.Field" as maps of Field -> value.
std::vector<QueryParams> StructListParam(const QueryParams& p, const std::string& prefix) {
  std::vector<QueryParams> out;
  for (int i = 1;; ++i) {
    std::string base = prefix + ".member." + std::to_string(i) + ".";
    QueryParams item;
    for (auto it = p.lower_bound(base); it != p.end() && it->first.rfind(base, 0) == 0; ++it) {
      item[it->first.substr(base.size())] = it->second;
    }
    if (item.empty()) return out;
    out.push_back(std::move(item));
  }
}

std::string Get(const QueryParams& p, const std::string& key, const std::string& fallback = "") {
  auto it = p.find(key);
  return it == p.end() ? fallback : it->second;
}

int GetInt(const QueryParams& p, const std::string& key, int fallback) {
  auto it = p.find(key);
  return it == p.end() ? fallback : std::atoi(it->second.c_str());
}

/// Builds XML with escaped leaves.
class Xml {
 public:
  Xml& Open(const std::string& tag) { out_ += "<" + tag + ">"; return *this; }
  Xml& Close(const std::string& tag) { out_ += "</" + tag + ">"; return *this; }
  Xml& Leaf(const std::string& tag, const std::string& value) {
    out_ += "<" + tag + ">" + XmlEscape(value) + "</" + tag + ">";
    return *this;
  }
  Xml& Raw(const std::string& xml) { out_ += xml; return *this; }
  std::string str() const { return out_; }

 private:
  std::string out_;
};

std::string LoadBalancerXml(const LoadBalancer& lb, const std::string& zone) {
  return Xml()
      .Open("member")
      .Leaf("LoadBalancerArn", lb.arn)
      .Leaf("DNSName", lb.dns_name)
      .Leaf("CanonicalHostedZoneId", "Z35SXDOTRQ7X7K")
      .Leaf("CreatedTime", IsoTime(WallTime(std::chrono::milliseconds(static_cast<long long>(lb.created_at * 1000)))))
      .Leaf("LoadBalancerName", lb.name)
      .Leaf("Scheme", lb.scheme)
      .Leaf("VpcId", lb.vpc_id)
      .Open("State").Leaf("Code", "active").Close("State")
      .Leaf("Type", lb.type)
      .Open("AvailabilityZones").Open("member").Leaf("ZoneName", zone).Close("member").Close("AvailabilityZones")
      .Open("SecurityGroups").Close("SecurityGroups")
      .Leaf("IpAddressType", "ipv4")
      .Close("member")
      .str();
}

std::string ActionsXml(const std::vector<Action>& actions) {
  Xml x;
  for (const auto& a : actions) {
    x.Open("member").Leaf("Type", a.type).Leaf("Order", std::to_string(a.order));
    if (a.type == "forward") {
      x.Leaf("TargetGroupArn", a.target_group_arn)
          .Open("ForwardConfig").Open("TargetGroups").Open("member")
          .Leaf("TargetGroupArn", a.target_group_arn).Leaf("Weight", "1")
          .Close("member").Close("TargetGroups").Close("ForwardConfig");
    } else {
      x.Open("FixedResponseConfig").Leaf("StatusCode", a.fixed_status);
      if (!a.fixed_content_type.empty()) x.Leaf("ContentType", a.fixed_content_type);
      if (!a.fixed_body.empty()) x.Leaf("MessageBody", a.fixed_body);
      x.Close("FixedResponseConfig");
    }
    x.Close("member");
  }
  return x.str();
}

tl::expected<std::vector<Action>, ApiError> ParseActions(const QueryParams& p, const std::string& prefix,
                                                        const State& s) {
  std::vector<Action> out;
  for (const auto& item : StructListParam(p, prefix)) {
    Action a;
    a.type = Get(item, "Type");
    a.order = GetInt(item, "Order", static_cast<int>(out.size()) + 1);
    if (a.type == "forward") {
      a.target_group_arn = Get(item, "TargetGroupArn", Get(item, "ForwardConfig.TargetGroups.member.1.TargetGroupArn"));
      if (!s.target_groups.count(a.target_group_arn)) {
        return tl::unexpected(TargetGroupNotFound("Target group '" + a.target_group_arn + "' not found"));
      }
    } else if (a.type == "fixed-response") {
      a.fixed_status = Get(item, "FixedResponseConfig.StatusCode");
      a.fixed_content_type = Get(item, "FixedResponseConfig.ContentType");
      a.fixed_body = Get(item, "FixedResponseConfig.MessageBody");
    } else {
      return tl::unexpected(ApiError{"InvalidLoadBalancerAction",
                                     "The engine supports forward and fixed-response actions, not '" + a.type + "'", 400});
    }
    out.push_back(a);
  }
  if (out.empty()) return tl::unexpected(Validation("At least one action must be specified"));
  return out;
}

}  // namespace

XmlResult LoadBalancing::Handle(const std::string& action, const QueryParams& params) {
  using Handler = XmlResult (LoadBalancing::*)(const QueryParams&);
  static const std::map<std::string, Handler> kActions = {
      {"CreateLoadBalancer", &LoadBalancing::CreateLoadBalancer},
      {"DescribeLoadBalancers", &LoadBalancing::DescribeLoadBalancers},
      {"CreateTargetGroup", &LoadBalancing::CreateTargetGroup},
      {"DescribeTargetGroups", &LoadBalancing::DescribeTargetGroups},
      {"ModifyTargetGroupAttributes", &LoadBalancing::ModifyTargetGroupAttributes},
      {"DescribeTargetGroupAttributes", &LoadBalancing::DescribeTargetGroupAttributes},
      {"CreateListener", &LoadBalancing::CreateListener},
      {"DescribeListeners", &LoadBalancing::DescribeListeners},
      {"CreateRule", &LoadBalancing::CreateRule},
      {"DescribeRules", &LoadBalancing::DescribeRules},
      {"DescribeTargetHealth", &LoadBalancing::DescribeTargetHealth},
      {"RegisterTargets", &LoadBalancing::RegisterTargets},
      {"DeregisterTargets", &LoadBalancing::DeregisterTargets},
  };
  auto it = kActions.find(action);
  if (it == kActions.end()) {
    return tl::unexpected(ApiError{"InvalidAction", "The action " + action + " is not valid for this web service.", 400});
  }
  return (this->*(it->second))(params);
}

XmlResult LoadBalancing::CreateLoadBalancer(const QueryParams& p) {
  std::string name = Get(p, "Name");
  if (name.empty() || name.size() > 32) return tl::unexpected(Validation("Load balancer name must be 1-32 characters"));
  for (const auto& [arn, lb] : core_.state.load_balancers) {
    if (lb.name == name) return Xml().Open("LoadBalancers").Raw(LoadBalancerXml(lb, core_.region + "a")).Close("LoadBalancers").str();
  }
  LoadBalancer lb;
  lb.name = name;
  lb.type = Get(p, "Type", "application");
  lb.scheme = Get(p, "Scheme", "internet-facing");
  lb.arn = core_.Arn("elasticloadbalancing", "loadbalancer/app/" + name + "/" + RandomHex(16));
  // As on AWS, a name of its own. The host reaches listeners at 127.0.0.1 (*.localhost is
  // loopback, RFC 6761); tasks reach them by this name, which their hosts files map.
  lb.dns_name = name + "-" + RandomFrom("0123456789", 10) + "." + core_.region + ".elb.localhost";
  lb.vpc_id = "vpc-local";
  lb.created_at = Now();
  core_.state.load_balancers[lb.arn] = lb;
  core_.Touch(ObjectKind::kLoadBalancer, lb.arn);
  return Xml().Open("LoadBalancers").Raw(LoadBalancerXml(lb, core_.region + "a")).Close("LoadBalancers").str();
}

XmlResult LoadBalancing::DescribeLoadBalancers(const QueryParams& p) {
  auto names = ListParam(p, "Names");
  auto arns = ListParam(p, "LoadBalancerArns");
  Xml x;
  x.Open("LoadBalancers");
  size_t found = 0;
  for (const auto& [arn, lb] : core_.state.load_balancers) {
    bool want = (names.empty() && arns.empty()) ||
                std::find(names.begin(), names.end(), lb.name) != names.end() ||
                std::find(arns.begin(), arns.end(), arn) != arns.end();
    if (!want) continue;
    ++found;
    x.Raw(LoadBalancerXml(lb, core_.region + "a"));
  }
  if (found < names.size() + arns.size()) {
    return tl::unexpected(ApiError{"LoadBalancerNotFound", "One or more load balancers not found", 400});
  }
  return x.Close("LoadBalancers").str();
}

namespace {
std::string TargetGroupXml(const TargetGroup& tg) {
  Xml x;
  x.Open("member")
      .Leaf("TargetGroupArn", tg.arn).Leaf("TargetGroupName", tg.name).Leaf("Protocol", tg.protocol)
      .Leaf("Port", std::to_string(tg.port)).Leaf("VpcId", tg.vpc_id)
      .Leaf("HealthCheckProtocol", tg.hc_protocol).Leaf("HealthCheckPort", tg.hc_port)
      .Leaf("HealthCheckEnabled", "true")
      .Leaf("HealthCheckIntervalSeconds", std::to_string(tg.hc_interval))
      .Leaf("HealthCheckTimeoutSeconds", std::to_string(tg.hc_timeout))
      .Leaf("HealthyThresholdCount", std::to_string(tg.healthy_threshold))
      .Leaf("UnhealthyThresholdCount", std::to_string(tg.unhealthy_threshold))
      .Leaf("HealthCheckPath", tg.hc_path)
      .Open("Matcher").Leaf("HttpCode", tg.matcher).Close("Matcher")
      .Open("LoadBalancerArns");
  for (const auto& lb : tg.load_balancer_arns) x.Leaf("member", lb);
  return x.Close("LoadBalancerArns").Leaf("TargetType", tg.target_type)
      .Leaf("ProtocolVersion", "HTTP1").Leaf("IpAddressType", "ipv4").Close("member").str();
}
}  // namespace

XmlResult LoadBalancing::CreateTargetGroup(const QueryParams& p) {
  std::string name = Get(p, "Name");
  if (name.empty() || name.size() > 32) return tl::unexpected(Validation("Target group name must be 1-32 characters"));
  for (const auto& [arn, tg] : core_.state.target_groups) {
    if (tg.name == name) return Xml().Open("TargetGroups").Raw(TargetGroupXml(tg)).Close("TargetGroups").str();
  }
  TargetGroup tg;
  tg.name = name;
  tg.arn = core_.Arn("elasticloadbalancing", "targetgroup/" + name + "/" + RandomHex(16));
  tg.protocol = Get(p, "Protocol", "HTTP");
  tg.port = GetInt(p, "Port", 80);
  tg.vpc_id = Get(p, "VpcId", "vpc-local");
  tg.target_type = Get(p, "TargetType", "ip");
  tg.hc_protocol = Get(p, "HealthCheckProtocol", "HTTP");
  tg.hc_port = Get(p, "HealthCheckPort", "traffic-port");
  tg.hc_path = Get(p, "HealthCheckPath", "/");
  tg.hc_interval = GetInt(p, "HealthCheckIntervalSeconds", 30);
  tg.hc_timeout = GetInt(p, "HealthCheckTimeoutSeconds", 5);
  tg.healthy_threshold = GetInt(p, "HealthyThresholdCount", 5);
  tg.unhealthy_threshold = GetInt(p, "UnhealthyThresholdCount", 2);
  tg.matcher = Get(p, "Matcher.HttpCode", "200");
  if (tg.hc_interval < 5 || tg.hc_interval > 300) return tl::unexpected(Validation("Health check interval must be between 5 and 300 seconds"));
  if (tg.hc_timeout < 2 || tg.hc_timeout > 120) return tl::unexpected(Validation("Health check timeout must be between 2 and 120 seconds"));
  if (tg.hc_timeout >= tg.hc_interval) return tl::unexpected(Validation("Health check interval must be greater than the timeout."));
  core_.state.target_groups[tg.arn] = tg;
  core_.Touch(ObjectKind::kTargetGroup, tg.arn);
  return Xml().Open("TargetGroups").Raw(TargetGroupXml(tg)).Close("TargetGroups").str();
}

XmlResult LoadBalancing::DescribeTargetGroups(const QueryParams& p) {
  auto names = ListParam(p, "Names");
  auto arns = ListParam(p, "TargetGroupArns");
  std::string lb = Get(p, "LoadBalancerArn");
  Xml x;
  x.Open("TargetGroups");
  size_t found = 0;
  for (const auto& [arn, tg] : core_.state.target_groups) {
    bool by_lb = !lb.empty() && std::find(tg.load_balancer_arns.begin(), tg.load_balancer_arns.end(), lb) != tg.load_balancer_arns.end();
    bool want = (names.empty() && arns.empty() && lb.empty()) || by_lb ||
                std::find(names.begin(), names.end(), tg.name) != names.end() ||
                std::find(arns.begin(), arns.end(), arn) != arns.end();
    if (!want) continue;
    if (!by_lb) ++found;
    x.Raw(TargetGroupXml(tg));
  }
  if (found < names.size() + arns.size()) {
    return tl::unexpected(TargetGroupNotFound());
  }
  return x.Close("TargetGroups").str();
}

namespace {
std::string AttributesXml(const TargetGroup& tg) {
  return Xml().Open("Attributes")
      .Open("member").Leaf("Key", "deregistration_delay.timeout_seconds").Leaf("Value", std::to_string(tg.deregistration_delay)).Close("member")
      .Open("member").Leaf("Key", "stickiness.enabled").Leaf("Value", "false").Close("member")
      .Open("member").Leaf("Key", "load_balancing.algorithm.type").Leaf("Value", "round_robin").Close("member")
      .Close("Attributes").str();
}
}  // namespace

XmlResult LoadBalancing::ModifyTargetGroupAttributes(const QueryParams& p) {
  auto it = core_.state.target_groups.find(Get(p, "TargetGroupArn"));
  if (it == core_.state.target_groups.end()) return tl::unexpected(TargetGroupNotFound());
  for (const auto& attr : StructListParam(p, "Attributes")) {
    if (Get(attr, "Key") == "deregistration_delay.timeout_seconds") {
      int v = std::atoi(Get(attr, "Value").c_str());
      if (v < 0 || v > 3600) return tl::unexpected(Validation("deregistration_delay.timeout_seconds must be 0-3600"));
      it->second.deregistration_delay = v;
    }
  }
  core_.Touch(ObjectKind::kTargetGroup, it->first);
  return AttributesXml(it->second);
}

XmlResult LoadBalancing::DescribeTargetGroupAttributes(const QueryParams& p) {
  auto it = core_.state.target_groups.find(Get(p, "TargetGroupArn"));
  if (it == core_.state.target_groups.end()) return tl::unexpected(TargetGroupNotFound());
  return AttributesXml(it->second);
}

namespace {
std::string ListenerXml(const Listener& l) {
  return Xml().Open("member").Leaf("ListenerArn", l.arn).Leaf("LoadBalancerArn", l.load_balancer_arn)
      .Leaf("Port", std::to_string(l.port)).Leaf("Protocol", l.protocol)
      .Open("DefaultActions").Raw(ActionsXml(l.default_actions)).Close("DefaultActions")
      .Close("member").str();
}
}  // namespace

XmlResult LoadBalancing::CreateListener(const QueryParams& p) {
  auto lb = core_.state.load_balancers.find(Get(p, "LoadBalancerArn"));
  if (lb == core_.state.load_balancers.end()) return tl::unexpected(ApiError{"LoadBalancerNotFound", "One or more load balancers not found", 400});
  int port = GetInt(p, "Port", 0);
  if (port < 1 || port > 65535) return tl::unexpected(Validation("Listener port must be 1-65535"));
  std::string protocol = Get(p, "Protocol", "HTTP");
  if (protocol != "HTTP") return tl::unexpected(ApiError{"UnsupportedProtocol", "The engine serves HTTP listeners only", 400});
  auto actions = ParseActions(p, "DefaultActions", core_.state);
  if (!actions) return tl::unexpected(actions.error());
  for (const auto& [arn, l] : core_.state.listeners) {
    if (l.port != port) continue;
    if (l.load_balancer_arn != lb->first) {
      // AWS gives each load balancer its own addresses; here every listener shares one host.
      auto owner = core_.state.load_balancers.find(l.load_balancer_arn);
      return tl::unexpected(ApiError{"DuplicateListener", "Port " + std::to_string(port) + " is already taken by a listener of load balancer " +
                                                              (owner == core_.state.load_balancers.end() ? l.load_balancer_arn : owner->second.name) +
                                                              "; on one machine every listener needs a port of its own", 400});
    }
    // As in AWS, asking again for a listener that exists with the same settings returns it.
    if (l.protocol == protocol && ActionsXml(l.default_actions) == ActionsXml(*actions)) {
      return Xml().Open("Listeners").Raw(ListenerXml(l)).Close("Listeners").str();
    }
    return tl::unexpected(ApiError{"DuplicateListener", "A listener already exists on this port for this load balancer", 400});
  }
  if (auto opened = data_plane_.OpenListener(listener_host_, port); !opened) {
    return tl::unexpected(ApiError{"ValidationError", "Cannot listen on " + listener_host_ + ":" +
                                                          std::to_string(port) + ": " + opened.error().message, 400});
  }
  Listener l;
  l.arn = core_.Arn("elasticloadbalancing", "listener/app/") + lb->second.name + "/" + lb->second.arn.substr(lb->second.arn.rfind('/') + 1) + "/" + RandomHex(16);
  l.load_balancer_arn = lb->first;
  l.port = port;
  l.protocol = protocol;
  l.default_actions = *actions;
  for (const auto& a : l.default_actions) {
    // Only a forward action names a target group (ParseActions checked that it exists).
    auto tg = core_.state.target_groups.find(a.target_group_arn);
    if (a.type != "forward" || tg == core_.state.target_groups.end()) continue;
    auto& lbs = tg->second.load_balancer_arns;
    if (std::find(lbs.begin(), lbs.end(), lb->first) == lbs.end()) {
      lbs.push_back(lb->first);
      core_.Touch(ObjectKind::kTargetGroup, a.target_group_arn);
    }
  }
  core_.state.listeners[l.arn] = l;
  core_.Touch(ObjectKind::kListener, l.arn);
  routing_dirty_ = true;
  return Xml().Open("Listeners").Raw(ListenerXml(l)).Close("Listeners").str();
}

XmlResult LoadBalancing::DescribeListeners(const QueryParams& p) {
  std::string lb = Get(p, "LoadBalancerArn");
  auto arns = ListParam(p, "ListenerArns");
  if (!lb.empty() && !core_.state.load_balancers.count(lb)) return tl::unexpected(ApiError{"LoadBalancerNotFound", "One or more load balancers not found", 400});
  Xml x;
  x.Open("Listeners");
  size_t found = 0;
  for (const auto& [arn, l] : core_.state.listeners) {
    bool by_arn = std::find(arns.begin(), arns.end(), arn) != arns.end();
    if (!(l.load_balancer_arn == lb || by_arn)) continue;
    found += by_arn;
    x.Raw(ListenerXml(l));
  }
  if (found < arns.size()) return tl::unexpected(ApiError{"ListenerNotFound", "One or more listeners not found", 400});
  return x.Close("Listeners").str();
}

namespace {
std::string RuleXml(const Rule& r) {
  Xml x;
  x.Open("member").Leaf("RuleArn", r.arn).Leaf("Priority", r.priority).Open("Conditions");
  for (const auto& c : r.conditions) {
    std::string config = c.field == "path-pattern" ? "PathPatternConfig" : "HostHeaderConfig";
    x.Open("member").Leaf("Field", c.field).Open("Values");
    for (const auto& v : c.values) x.Leaf("member", v);
    x.Close("Values").Open(config).Open("Values");
    for (const auto& v : c.values) x.Leaf("member", v);
    x.Close("Values").Close(config).Close("member");
  }
  return x.Close("Conditions").Open("Actions").Raw(ActionsXml(r.actions)).Close("Actions")
      .Leaf("IsDefault", r.priority == "default" ? "true" : "false").Close("member").str();
}
}  // namespace

XmlResult LoadBalancing::CreateRule(const QueryParams& p) {
  auto listener = core_.state.listeners.find(Get(p, "ListenerArn"));
  if (listener == core_.state.listeners.end()) return tl::unexpected(ApiError{"ListenerNotFound", "One or more listeners not found", 400});
  int priority = GetInt(p, "Priority", 0);
  if (priority < 1 || priority > 50000) return tl::unexpected(Validation("Priority must be between 1 and 50000"));
  for (const auto& [arn, r] : core_.state.rules) {
    if (r.listener_arn == listener->first && r.priority == std::to_string(priority)) {
      return tl::unexpected(ApiError{"PriorityInUse", "Priority '" + std::to_string(priority) + "' is currently in use", 400});
    }
  }
  Rule rule;
  rule.listener_arn = listener->first;
  rule.priority = std::to_string(priority);
  for (const auto& c : StructListParam(p, "Conditions")) {
    RuleCondition cond;
    cond.field = Get(c, "Field");
    if (cond.field != "path-pattern" && cond.field != "host-header") {
      return tl::unexpected(Validation("The engine supports path-pattern and host-header conditions, not '" + cond.field + "'"));
    }
    std::string config = cond.field == "path-pattern" ? "PathPatternConfig" : "HostHeaderConfig";
    cond.values = ListParam(c, "Values");
    for (const auto& v : ListParam(c, config + ".Values")) cond.values.push_back(v);
    if (cond.values.empty()) return tl::unexpected(Validation("A condition value must be specified"));
    rule.conditions.push_back(cond);
  }
  if (rule.conditions.empty()) return tl::unexpected(Validation("A rule must have at least one condition"));
  auto actions = ParseActions(p, "Actions", core_.state);
  if (!actions) return tl::unexpected(actions.error());
  rule.actions = *actions;
  const std::string& l = listener->first;
  rule.arn = core_.Arn("elasticloadbalancing", "listener-rule/") + l.substr(l.find("listener/") + 9) + "/" + RandomHex(16);
  core_.state.rules[rule.arn] = rule;
  core_.Touch(ObjectKind::kRule, rule.arn);
  routing_dirty_ = true;
  return Xml().Open("Rules").Raw(RuleXml(rule)).Close("Rules").str();
}

XmlResult LoadBalancing::DescribeRules(const QueryParams& p) {
  std::string listener_arn = Get(p, "ListenerArn");
  auto arns = ListParam(p, "RuleArns");
  auto listener = core_.state.listeners.find(listener_arn);
  if (!listener_arn.empty() && listener == core_.state.listeners.end()) {
    return tl::unexpected(ApiError{"ListenerNotFound", "One or more listeners not found", 400});
  }
  std::vector<Rule> rules;
  for (const auto& [arn, r] : core_.state.rules) {
    if (r.listener_arn == listener_arn || std::find(arns.begin(), arns.end(), arn) != arns.end()) rules.push_back(r);
  }
  std::sort(rules.begin(), rules.end(), [](const Rule& a, const Rule& b) { return std::stoi(a.priority) < std::stoi(b.priority); });
  if (listener != core_.state.listeners.end()) {
    Rule def;
    def.arn = listener_arn + "/default";
    def.listener_arn = listener_arn;
    def.priority = "default";
    def.actions = listener->second.default_actions;
    rules.push_back(def);
  }
  Xml x;
  x.Open("Rules");
  for (const auto& r : rules) x.Raw(RuleXml(r));
  return x.Close("Rules").str();
}

XmlResult LoadBalancing::DescribeTargetHealth(const QueryParams& p) {
  auto it = core_.state.target_groups.find(Get(p, "TargetGroupArn"));
  if (it == core_.state.target_groups.end()) return tl::unexpected(TargetGroupNotFound());
  Xml x;
  x.Open("TargetHealthDescriptions");
  auto wanted = StructListParam(p, "Targets");
  auto emit = [&](const std::string& id, int port, const Target* t) {
    x.Open("member").Open("Target").Leaf("Id", id).Leaf("Port", std::to_string(port)).Leaf("AvailabilityZone", core_.region + "a")
        .Close("Target").Leaf("HealthCheckPort", std::to_string(port)).Open("TargetHealth");
    if (t == nullptr) {
      x.Leaf("State", "unused").Leaf("Reason", "Target.NotRegistered").Leaf("Description", "Target is not registered to the target group");
    } else {
      x.Leaf("State", t->state);
      if (!t->reason.empty()) x.Leaf("Reason", t->reason).Leaf("Description", t->description);
    }
    x.Close("TargetHealth").Close("member");
  };
  if (wanted.empty()) {
    for (const auto& [key, t] : it->second.targets) emit(t.id, t.port, &t);
  } else {
    for (const auto& w : wanted) {
      std::string key = Get(w, "Id") + ":" + Get(w, "Port", std::to_string(it->second.port));
      auto t = it->second.targets.find(key);
      emit(Get(w, "Id"), GetInt(w, "Port", it->second.port), t == it->second.targets.end() ? nullptr : &t->second);
    }
  }
  return x.Close("TargetHealthDescriptions").str();
}

XmlResult LoadBalancing::RegisterTargets(const QueryParams& p) {
  auto it = core_.state.target_groups.find(Get(p, "TargetGroupArn"));
  if (it == core_.state.target_groups.end()) return tl::unexpected(TargetGroupNotFound());
  for (const auto& t : StructListParam(p, "Targets")) {
    RegisterTarget(it->second, Get(t, "Id"), GetInt(t, "Port", it->second.port), "");
  }
  return std::string();
}

XmlResult LoadBalancing::DeregisterTargets(const QueryParams& p) {
  auto it = core_.state.target_groups.find(Get(p, "TargetGroupArn"));
  if (it == core_.state.target_groups.end()) return tl::unexpected(TargetGroupNotFound());
  for (const auto& t : StructListParam(p, "Targets")) {
    std::string key = Get(t, "Id") + ":" + Get(t, "Port", std::to_string(it->second.port));
    if (!it->second.targets.count(key)) {
      return tl::unexpected(ApiError{"InvalidTarget", "The target '" + key + "' is not registered", 400});
    }
    DrainTarget(it->second, key);
  }
  return std::string();
}

}  // namespace slipway::engine
