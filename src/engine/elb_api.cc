// ELBv2 Query actions over the control-plane state; replies are XML per botocore's elbv2 model.
#include <algorithm>

#include "base/strings.h"
#include "engine/elb_wire.h"
#include "engine/load_balancing.h"

namespace slipway::engine {

namespace {

ApiError TargetGroupNotFound(const std::string& message = "One or more target groups not found") {
  return {"TargetGroupNotFound", message, 400};
}

ApiError Validation(const std::string& message) { return ElbValidation(message); }

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
      {"ModifyRule", &LoadBalancing::ModifyRule},
      {"DeleteRule", &LoadBalancing::DeleteRule},
      {"DescribeRules", &LoadBalancing::DescribeRules},
      {"SetRulePriorities", &LoadBalancing::SetRulePriorities},
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
