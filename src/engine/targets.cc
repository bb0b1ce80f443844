// Target registration, draining, health-check pacing and routing publication.
#include <algorithm>

#include "engine/load_balancing.h"
#include "engine/target_health.h"

namespace slipway::engine {

namespace {

// CIDR blocks are parsed here, once per routing snapshot, so requests only compare bytes. A stored
// condition that no longer parses (the store was edited) matches nothing rather than everything.
void AddCondition(const RuleCondition& c, RouteRule& route) {
  if (c.field == "path-pattern") {
    route.path_patterns.insert(route.path_patterns.end(), c.values.begin(), c.values.end());
  } else if (c.field == "host-header") {
    route.host_patterns.insert(route.host_patterns.end(), c.values.begin(), c.values.end());
  } else if (c.field == "http-header") {
    route.headers.push_back({c.header_name, c.values});
  } else if (c.field == "source-ip") {
    for (const auto& v : c.values) {
      if (auto block = ParseCidr(v)) route.source_blocks.push_back(*block);
    }
    if (route.source_blocks.empty()) route.matches_nothing = true;
  } else {
    route.matches_nothing = true;  // a field no handler stores: not read as "no condition"
  }
}

HealthCheckPolicy PolicyOf(const TargetGroup& tg) {
  return {static_cast<double>(tg.hc_interval), tg.healthy_threshold, tg.unhealthy_threshold};
}

TargetHealth HealthOf(const Target& t) { return {t.state, t.reason, t.description, t.ok_streak, t.fail_streak}; }

}  // namespace

Result<void> LoadBalancing::Restore(const std::set<std::string>& live_tasks) {
  const double now = Now();
  for (auto& [arn, tg] : core_.state.target_groups) {
    for (auto it = tg.targets.begin(); it != tg.targets.end();) {
      Target& t = it->second;
      if (!t.task_id.empty() && !live_tasks.count(t.task_id)) {
        TouchTarget(arn, it->first);
        it = tg.targets.erase(it);
        continue;
      }
      // Health carries over (routing resumes at once); checks resume on their own pace.
      t.next_check = now + kFirstCheckDelaySeconds;
      ++it;
    }
  }
  // Routing first, then listeners: the first request accepted already finds its targets.
  PublishRouting();
  for (const auto& [arn, l] : core_.state.listeners) {
    if (auto r = data_plane_.OpenListener(listener_host_, l.port); !r) {
      return Fail("reopen listener on port " + std::to_string(l.port) + ": " + r.error().message);
    }
  }
  return {};
}

void LoadBalancing::Tick() {
  ScheduleHealthChecks();
  if (routing_dirty_) PublishRouting();
}

bool LoadBalancing::HasTargetGroup(const std::string& tg_arn) const {
  return core_.state.target_groups.count(tg_arn) > 0;
}

bool LoadBalancing::RegisterTarget(const std::string& tg_arn, const std::string& task_id,
                                 const std::string& ip, int port) {
  auto tg = core_.state.target_groups.find(tg_arn);
  if (tg == core_.state.target_groups.end()) return false;
  RegisterTarget(tg->second, ip, port, task_id);
  return true;
}

const Target* LoadBalancing::FindTaskTarget(const std::string& tg_arn, const std::string& task_id,
                                 const std::string& ip, int port) const {
  auto tg = core_.state.target_groups.find(tg_arn);
  if (tg == core_.state.target_groups.end() || task_id.empty()) return nullptr;
  auto target = tg->second.targets.find(Key(ip, port));
  if (target == tg->second.targets.end() || target->second.task_id != task_id) return nullptr;
  return &target->second;
}

std::optional<int> LoadBalancing::DrainTarget(const std::string& tg_arn, const std::string& task_id,
                                 const std::string& ip, int port) {
  if (FindTaskTarget(tg_arn, task_id, ip, port) == nullptr) return std::nullopt;
  TargetGroup& tg = core_.state.target_groups[tg_arn];
  DrainTarget(tg, Key(ip, port));
  return tg.deregistration_delay;
}

bool LoadBalancing::RemoveTarget(const std::string& tg_arn, const std::string& task_id,
                                 const std::string& ip, int port) {
  if (FindTaskTarget(tg_arn, task_id, ip, port) == nullptr) return false;
  TargetGroup& tg = core_.state.target_groups[tg_arn];
  tg.targets.erase(Key(ip, port));
  TouchTarget(tg_arn, Key(ip, port));
  routing_dirty_ = true;
  return true;
}

std::optional<std::string> LoadBalancing::TargetState(const std::string& tg_arn, const std::string& task_id,
                                                      const std::string& ip, int port) const {
  const Target* t = FindTaskTarget(tg_arn, task_id, ip, port);
  if (t == nullptr) return std::nullopt;
  return t->state;
}

void LoadBalancing::RegisterTarget(TargetGroup& tg, const std::string& ip, int port, const std::string& task_id) {
  Target t;
  t.id = ip;
  t.port = port;
  t.task_id = task_id;
  t.next_check = Now() + kFirstCheckDelaySeconds;
  const std::string key = ip + ":" + std::to_string(port);
  tg.targets[key] = t;
  TouchTarget(tg.arn, key);
  routing_dirty_ = true;
}

void LoadBalancing::DrainTarget(TargetGroup& tg, const std::string& key) {
  auto it = tg.targets.find(key);
  if (it == tg.targets.end() || it->second.state == "draining") return;
  it->second.state = "draining";
  it->second.reason = "Target.DeregistrationInProgress";
  it->second.description = "Target deregistration is in progress";
  it->second.drain_until = Now() + tg.deregistration_delay;
  TouchTarget(tg.arn, key);
  routing_dirty_ = true;
}

void LoadBalancing::ApplyHealthResult(const std::string& tg_arn, const std::string& key, int port,
                                      const std::string& task_id, const HealthCheckResult& r) {
  if (r.inconclusive) return;
  std::lock_guard lock(core_.mu);
  if (core_.frozen) return;
  auto tg = core_.state.target_groups.find(tg_arn);
  if (tg == core_.state.target_groups.end()) return;
  auto it = tg->second.targets.find(key);
  // The target may have been drained, removed or replaced by another task's since the check began.
  if (it == tg->second.targets.end() || it->second.state == "draining" || it->second.task_id != task_id ||
      it->second.port != port) {
    return;
  }
  Target& t = it->second;
  const TargetHealth before = HealthOf(t);
  const TargetHealth after = ApplyCheckResult(before, PolicyOf(tg->second), r);
  t.ok_streak = after.ok_streak;
  t.fail_streak = after.fail_streak;
  if (after.state == before.state && after.reason == before.reason && after.description == before.description) return;
  t.state = after.state;
  t.reason = after.reason;
  t.description = after.description;
  TouchTarget(tg_arn, key);
  if (after.state != before.state) routing_dirty_ = true;
}

void LoadBalancing::ScheduleHealthChecks() {
  const double now = Now();
  for (auto& [arn, tg] : core_.state.target_groups) {
    for (auto it = tg.targets.begin(); it != tg.targets.end();) {
      Target& t = it->second;
      if (t.state == "draining") {
        if (now >= t.drain_until) {
          TouchTarget(arn, it->first);
          it = tg.targets.erase(it);
          routing_dirty_ = true;
          continue;
        }
        ++it;
        continue;
      }
      if (now >= t.next_check) {
        t.next_check = NextCheckAt(now, PolicyOf(tg));
        HealthCheckSpec spec{t.id, tg.hc_port == "traffic-port" ? t.port : std::atoi(tg.hc_port.c_str()),
                             tg.hc_path, tg.hc_timeout * 1000, tg.matcher};
        data_plane_.Check(spec, [this, tg_arn = arn, key = it->first, port = t.port, task = t.task_id](HealthCheckResult r) {
          ApplyHealthResult(tg_arn, key, port, task, r);
        });
      }
      ++it;
    }
  }
}

void LoadBalancing::PublishRouting() {
  auto table = std::make_shared<RoutingTable>();
  for (const auto& [arn, tg] : core_.state.target_groups) {
    std::vector<Backend> healthy, fail_open;
    for (const auto& [key, t] : tg.targets) {
      if (t.state == "healthy") healthy.push_back({t.id, t.port});
      if (t.state == "unhealthy") fail_open.push_back({t.id, t.port});
    }
    // With every registered target unhealthy, an ALB fails open and routes to all of them.
    table->backends[arn] = healthy.empty() ? fail_open : healthy;
  }
  auto to_route = [](const std::vector<Action>& actions, RouteRule& route) {
    for (const auto& a : actions) {
      if (a.type == "forward") route.target_group_arn = a.target_group_arn;
      if (a.type == "fixed-response") {
        route.fixed_status = std::atoi(a.fixed_status.c_str());
        route.fixed_content_type = a.fixed_content_type;
        route.fixed_body = a.fixed_body;
      }
    }
  };
  for (const auto& [arn, l] : core_.state.listeners) {
    ListenerRoutes routes;
    routes.port = l.port;
    routes.load_balancer_arn = l.load_balancer_arn;
    for (const auto& [rarn, r] : core_.state.rules) {
      if (r.listener_arn != arn) continue;
      RouteRule route;
      route.priority = std::atoi(r.priority.c_str());
      for (const auto& c : r.conditions) AddCondition(c, route);
      to_route(r.actions, route);
      routes.rules.push_back(route);
    }
    std::sort(routes.rules.begin(), routes.rules.end(),
              [](const RouteRule& a, const RouteRule& b) { return a.priority < b.priority; });
    RouteRule def;
    def.priority = 50001;
    to_route(l.default_actions, def);
    routes.rules.push_back(def);
    table->listeners[l.port] = routes;
  }
  data_plane_.Publish(table);
  routing_dirty_ = false;
}

}  // namespace slipway::engine
