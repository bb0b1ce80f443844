// Target registration, draining, health-check scheduling and routing publication.
#include <algorithm>

#include "engine/load_balancing.h"

namespace slipway::engine {

namespace {
// New targets are checked every second until their first verdict, so a rollout does not wait a
// whole interval for a target that was simply not listening yet at registration.
constexpr double kInitialCheckSeconds = 1.0;
constexpr double kFirstCheckDelaySeconds = 0.2;
}  // namespace

Result<void> LoadBalancing::Restore() {
  for (auto& [arn, tg] : core_.state.target_groups) tg.targets.clear();
  for (const auto& [arn, l] : core_.state.listeners) {
    if (auto r = data_plane_.OpenListener(listener_host_, l.port); !r) {
      return Fail("reopen listener on port " + std::to_string(l.port) + ": " + r.error().message);
    }
  }
  core_.dirty = routing_dirty_ = true;
  return {};
}

void LoadBalancing::Tick() {
  ScheduleHealthChecks();
  if (routing_dirty_) PublishRouting();
}

bool LoadBalancing::HasTargetGroup(const std::string& tg_arn) const {
  return core_.state.target_groups.count(tg_arn) > 0;
}

bool LoadBalancing::RegisterTarget(const std::string& tg_arn, int port) {
  auto tg = core_.state.target_groups.find(tg_arn);
  if (tg == core_.state.target_groups.end()) return false;
  RegisterTarget(tg->second, listener_host_, port);
  return true;
}

std::optional<int> LoadBalancing::DrainTarget(const std::string& tg_arn, int port) {
  auto tg = core_.state.target_groups.find(tg_arn);
  if (tg == core_.state.target_groups.end()) return std::nullopt;
  DrainTarget(tg->second, Key(port));
  return tg->second.deregistration_delay;
}

void LoadBalancing::RemoveTarget(const std::string& tg_arn, int port) {
  auto tg = core_.state.target_groups.find(tg_arn);
  if (tg == core_.state.target_groups.end()) return;
  DrainTarget(tg->second, Key(port));
  auto target = tg->second.targets.find(Key(port));
  if (target != tg->second.targets.end()) target->second.drain_until = std::min(target->second.drain_until, Now());
}

std::optional<std::string> LoadBalancing::TargetState(const std::string& tg_arn, int port) const {
  auto tg = core_.state.target_groups.find(tg_arn);
  if (tg == core_.state.target_groups.end()) return std::nullopt;
  auto target = tg->second.targets.find(Key(port));
  if (target == tg->second.targets.end()) return std::nullopt;
  return target->second.state;
}

void LoadBalancing::RegisterTarget(TargetGroup& tg, const std::string& ip, int port) {
  Target t;
  t.id = ip;
  t.port = port;
  t.next_check = Now() + kFirstCheckDelaySeconds;
  tg.targets[ip + ":" + std::to_string(port)] = t;
  core_.dirty = routing_dirty_ = true;
}

void LoadBalancing::DrainTarget(TargetGroup& tg, const std::string& key) {
  auto it = tg.targets.find(key);
  if (it == tg.targets.end() || it->second.state == "draining") return;
  it->second.state = "draining";
  it->second.reason = "Target.DeregistrationInProgress";
  it->second.description = "Target deregistration is in progress";
  it->second.drain_until = Now() + tg.deregistration_delay;
  core_.dirty = routing_dirty_ = true;
}

void LoadBalancing::ApplyHealthResult(const std::string& tg_arn, const std::string& key,
                                     const HealthCheckResult& r) {
  std::lock_guard lock(core_.mu);
  auto tg = core_.state.target_groups.find(tg_arn);
  if (tg == core_.state.target_groups.end()) return;
  auto it = tg->second.targets.find(key);
  if (it == tg->second.targets.end() || it->second.state == "draining") return;
  Target& t = it->second;
  const std::string before = t.state;
  t.checked_once = true;
  if (r.ok) {
    ++t.ok_streak;
    t.fail_streak = 0;
    // A new target needs one passing check; a failed one needs the healthy threshold.
    if (t.state == "initial" || (t.state == "unhealthy" && t.ok_streak >= tg->second.healthy_threshold)) {
      t.state = "healthy";
    }
    if (t.state == "healthy") t.reason = t.description = "";
  } else {
    ++t.fail_streak;
    t.ok_streak = 0;
    if (t.state == "initial") {
      t.reason = "Elb.InitialHealthChecking";
      t.description = "Initial health checks in progress";
    }
    if (t.fail_streak >= tg->second.unhealthy_threshold) {
      t.state = "unhealthy";
      t.reason = r.reason;
      t.description = r.description;
    }
  }
  if (t.state != before) routing_dirty_ = true;
  core_.dirty = true;
}

void LoadBalancing::ScheduleHealthChecks() {
  const double now = Now();
  for (auto& [arn, tg] : core_.state.target_groups) {
    for (auto it = tg.targets.begin(); it != tg.targets.end();) {
      Target& t = it->second;
      if (t.state == "draining") {
        if (now >= t.drain_until) {
          it = tg.targets.erase(it);
          core_.dirty = routing_dirty_ = true;
          continue;
        }
        ++it;
        continue;
      }
      if (now >= t.next_check) {
        t.next_check = now + (t.state == "initial" ? kInitialCheckSeconds : tg.hc_interval);
        HealthCheckSpec spec{t.id, tg.hc_port == "traffic-port" ? t.port : std::atoi(tg.hc_port.c_str()),
                             tg.hc_path, tg.hc_timeout * 1000, tg.matcher};
        std::string tg_arn = arn, key = it->first;
        data_plane_.Check(spec, [this, tg_arn, key](HealthCheckResult r) { ApplyHealthResult(tg_arn, key, r); });
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
    for (const auto& [rarn, r] : core_.state.rules) {
      if (r.listener_arn != arn) continue;
      RouteRule route;
      route.priority = std::atoi(r.priority.c_str());
      for (const auto& c : r.conditions) {
        (c.field == "path-pattern" ? route.path_patterns : route.host_patterns) = c.values;
      }
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
