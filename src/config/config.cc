// slipway.yaml loading and validation with yaml-cpp, keeping line numbers for every error.
#include "config/config.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "base/cidr.h"
#include "base/strings.h"

namespace slipway::config {

namespace {

// Raised inside the loader only; LoadConfig turns it into an Error value.
struct ConfigProblem {
  int line;
  std::string key, message;
};

class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void Problem(const YAML::Node& n, const std::string& key, const std::string& msg) const {
    throw ConfigProblem{n.Mark().line + 1, key, msg};
  }

  // Rejects keys the schema does not know, so a typo is an error rather than ignored.
  void OnlyKeys(const YAML::Node& map, const std::string& key, const std::set<std::string>& allowed) const {
    if (!map.IsMap()) Problem(map, key, "must be a mapping");
    for (const auto& kv : map) {
      std::string k = kv.first.as<std::string>();
      if (!allowed.count(k)) Problem(kv.first, Join(key, k), "unknown key");
    }
  }

  std::string Str(const YAML::Node& map, const std::string& key, const std::string& name,
                  const std::string& fallback, bool required = false) const {
    YAML::Node n = map[name];
    if (!n) {
      if (required) Problem(map, Join(key, name), "is required");
      return fallback;
    }
    if (!n.IsScalar()) Problem(n, Join(key, name), "must be a string");
    return n.as<std::string>();
  }

  int Int(const YAML::Node& map, const std::string& key, const std::string& name, int fallback,
          int min, int max) const {
    YAML::Node n = map[name];
    if (!n) return fallback;
    int v = 0;
    if (!n.IsScalar() || !YAML::convert<int>::decode(n, v)) Problem(n, Join(key, name), "must be an integer");
    if (v < min || v > max) {
      Problem(n, Join(key, name), "must be between " + std::to_string(min) + " and " + std::to_string(max));
    }
    return v;
  }

  double Number(const YAML::Node& map, const std::string& key, const std::string& name, double fallback,
                double min, double max) const {
    YAML::Node n = map[name];
    if (!n) return fallback;
    double v = 0;
    if (!n.IsScalar() || !YAML::convert<double>::decode(n, v) || !std::isfinite(v)) {
      Problem(n, Join(key, name), "must be a number");
    }
    if (v < min || v > max) {
      Problem(n, Join(key, name), "must be between " + FormatNumber(min) + " and " + FormatNumber(max));
    }
    return v;
  }

  static std::string FormatNumber(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
  }

  bool Bool(const YAML::Node& map, const std::string& key, const std::string& name, bool fallback) const {
    YAML::Node n = map[name];
    if (!n) return fallback;
    bool v = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v)) Problem(n, Join(key, name), "must be true or false");
    return v;
  }

  static std::string Join(const std::string& a, const std::string& b) { return a.empty() ? b : a + "." + b; }

 private:
  std::string file_;
};

// yaml-cpp keeps both entries of a key given twice, and a lookup finds only one of them, so one
// setting would be ignored without a word: refuse the second, naming where the first was.
void RefuseDuplicateKeys(const Reader& r, const YAML::Node& n, const std::string& key) {
  if (n.IsSequence()) {
    for (size_t i = 0; i < n.size(); ++i) RefuseDuplicateKeys(r, n[i], key + "[" + std::to_string(i) + "]");
    return;
  }
  if (!n.IsMap()) return;
  std::map<std::string, int> seen;  // key -> its line
  for (const auto& kv : n) {
    if (!kv.first.IsScalar()) continue;
    const std::string k = kv.first.as<std::string>();
    if (auto [it, fresh] = seen.emplace(k, kv.first.Mark().line + 1); !fresh) {
      r.Problem(kv.first, Reader::Join(key, k), "duplicate key (first given on line " + std::to_string(it->second) + ")");
    }
    RefuseDuplicateKeys(r, kv.second, Reader::Join(key, k));
  }
}

// "200", "200,202", "200-299": the codes an ALB health check may accept, each 200..499.
bool IsHealthCheckMatcher(const std::string& matcher) {
  if (matcher.empty() || matcher.size() > 128) return false;
  for (const std::string& part : Split(matcher, ',')) {
    const size_t dash = part.find('-');
    const std::string lo = part.substr(0, dash), hi = dash == std::string::npos ? lo : part.substr(dash + 1);
    for (const std::string* code : {&lo, &hi}) {
      if (code->size() != 3 || code->find_first_not_of("0123456789") != std::string::npos) return false;
      if (*code < "200" || *code > "499") return false;
    }
    if (hi < lo) return false;
  }
  return true;
}

HealthCheck ReadHealthCheck(const Reader& r, const YAML::Node& n, const std::string& key) {
  HealthCheck hc;
  if (!n) return hc;
  r.OnlyKeys(n, key, {"path", "intervalSeconds", "timeoutSeconds", "healthyThreshold", "unhealthyThreshold", "matcher"});
  hc.path = r.Str(n, key, "path", "/");
  hc.interval_seconds = r.Int(n, key, "intervalSeconds", 30, 5, 300);
  hc.timeout_seconds = r.Int(n, key, "timeoutSeconds", 5, 2, 120);
  hc.healthy_threshold = r.Int(n, key, "healthyThreshold", 5, 2, 10);
  hc.unhealthy_threshold = r.Int(n, key, "unhealthyThreshold", 2, 2, 10);
  hc.matcher = r.Str(n, key, "matcher", "200");
  if (hc.path.empty() || hc.path[0] != '/' || hc.path.size() > 1024) {
    r.Problem(n["path"], key + ".path", "must start with / and be at most 1024 characters (the ALB's HealthCheckPath)");
  }
  if (!IsHealthCheckMatcher(hc.matcher)) {
    r.Problem(n["matcher"], key + ".matcher",
              "must be HTTP codes from 200 to 499, as \"200\", \"200,202\" or \"200-299\" (the ALB's Matcher.HttpCode)");
  }
  if (hc.timeout_seconds >= hc.interval_seconds) r.Problem(n["timeoutSeconds"] ? n["timeoutSeconds"] : n, key + ".timeoutSeconds", "must be less than intervalSeconds");
  return hc;
}

BuildSpec ReadBuild(const Reader& r, const YAML::Node& n, const std::string& key, const std::filesystem::path& dir,
                    const std::string& default_repository) {
  if (!n.IsMap()) r.Problem(n, key, "must be a mapping with context (and dockerfile, target, args, repository)");
  r.OnlyKeys(n, key, {"context", "dockerfile", "target", "args", "repository"});
  BuildSpec b;
  b.context = (dir / r.Str(n, key, "context", "", true)).lexically_normal().string();
  if (!std::filesystem::is_directory(b.context)) r.Problem(n["context"], key + ".context", "directory not found: " + b.context);
  // Like every path in the file, relative to the file's directory; by default the context's.
  const std::string dockerfile = r.Str(n, key, "dockerfile", "");
  b.dockerfile = (dockerfile.empty() ? std::filesystem::path(b.context) / "Dockerfile" : dir / dockerfile)
                     .lexically_normal()
                     .string();
  if (!std::filesystem::is_regular_file(b.dockerfile)) {
    r.Problem(n["dockerfile"] ? n["dockerfile"] : n["context"], key + ".dockerfile", "file not found: " + b.dockerfile);
  }
  b.target = r.Str(n, key, "target", "");
  b.repository = r.Str(n, key, "repository", default_repository);
  if (YAML::Node args = n["args"]) {
    if (!args.IsMap()) r.Problem(args, key + ".args", "must be a mapping of build argument names to values");
    for (const auto& kv : args) {
      if (!kv.second.IsScalar()) r.Problem(kv.second, key + ".args." + kv.first.as<std::string>(), "must be a string");
      b.args[kv.first.as<std::string>()] = kv.second.as<std::string>();
    }
  }
  return b;
}

ServiceSpec ReadService(const Reader& r, const YAML::Node& n, const std::string& key, const std::string& name,
                        const std::filesystem::path& dir, const std::string& app) {
  r.OnlyKeys(n, key, {"taskDefinition", "container", "containerPort", "healthCheck", "deregistrationDelaySeconds", "migrate",
                      "build", "containers"});
  ServiceSpec s;
  s.name = name;
  std::string td = r.Str(n, key, "taskDefinition", "", true);
  s.task_definition_path = (dir / td).lexically_normal().string();
  if (!std::filesystem::exists(s.task_definition_path)) {
    r.Problem(n["taskDefinition"], key + ".taskDefinition", "file not found: " + s.task_definition_path);
  }
  s.container = r.Str(n, key, "container", name);
  s.container_port = r.Int(n, key, "containerPort", 0, 0, 65535);
  s.health_check = ReadHealthCheck(r, n["healthCheck"], key + ".healthCheck");
  s.deregistration_delay_seconds = r.Int(n, key, "deregistrationDelaySeconds", 300, 0, 3600);
  if (YAML::Node m = n["migrate"]) {
    std::string mk = key + ".migrate";
    r.OnlyKeys(m, mk, {"command", "container", "timeoutSeconds"});
    YAML::Node cmd = m["command"];
    if (!cmd || !cmd.IsSequence() || cmd.size() == 0) r.Problem(cmd ? cmd : m, mk + ".command", "must be a non-empty list of arguments");
    for (const auto& a : cmd) {
      if (!a.IsScalar()) r.Problem(a, mk + ".command", "arguments must be strings");
      s.migrate_command.push_back(a.as<std::string>());
    }
    s.migrate_container = r.Str(m, mk, "container", s.container);
    s.migrate_timeout_seconds = r.Int(m, mk, "timeoutSeconds", 600, 1, 86400);
  }
  // `build:` is the main container's; `containers: {name: {build: …}}` any other's.
  if (YAML::Node b = n["build"]) s.builds[s.container] = ReadBuild(r, b, key + ".build", dir, app + "/" + name);
  if (YAML::Node cs = n["containers"]) {
    if (!cs.IsMap()) r.Problem(cs, key + ".containers", "must map container names to {build: …}");
    for (const auto& kv : cs) {
      const std::string c = kv.first.as<std::string>(), ck = key + ".containers." + c;
      r.OnlyKeys(kv.second, ck, {"build"});
      if (!kv.second["build"]) r.Problem(kv.second, ck + ".build", "is required");
      if (s.builds.count(c)) r.Problem(kv.second, ck + ".build", "is already given by " + key + ".build");
      s.builds[c] = ReadBuild(r, kv.second["build"], ck + ".build", dir, app + "/" + name + "-" + c);
    }
  }
  return s;
}

// `allow: [CIDR, …]`: each block checked and kept in its canonical form; a block given twice is
// a mistake worth naming (it would only cost a rule's condition value).
std::optional<std::vector<std::string>> ReadAllow(const Reader& r, const YAML::Node& map, const std::string& key) {
  YAML::Node n = map["allow"];
  if (!n) return std::nullopt;
  const std::string k = Reader::Join(key, "allow");
  if (!n.IsSequence()) r.Problem(n, k, "must be a list of CIDR blocks, e.g. [203.0.113.7/32, 10.0.0.0/8]");
  std::vector<std::string> out;
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < n.size(); ++i) {
    const std::string ik = k + "[" + std::to_string(i) + "]";
    if (!n[i].IsScalar()) r.Problem(n[i], ik, "must be a CIDR block such as 203.0.113.7/32");
    auto block = ParseCidrBlock(n[i].as<std::string>());
    if (!block) r.Problem(n[i], ik, block.error().message);
    if (auto [it, fresh] = seen.emplace(block->Text(), i); !fresh) {
      r.Problem(n[i], ik, block->Text() + " is already given as " + k + "[" + std::to_string(it->second) + "]");
    }
    out.push_back(block->Text());
  }
  return out;
}

ServiceEnv ReadServiceEnv(const Reader& r, const YAML::Node& n, const std::string& key, const std::string& default_name) {
  r.OnlyKeys(n, key, {"serviceName", "desiredCount", "pathPattern", "priority", "deployment", "healthCheckGracePeriodSeconds",
                      "onDemand", "allow"});
  ServiceEnv s;
  s.service_name = r.Str(n, key, "serviceName", default_name);
  s.desired_count = r.Int(n, key, "desiredCount", 1, 0, 1000);
  s.path_pattern = r.Str(n, key, "pathPattern", "");
  s.priority = r.Int(n, key, "priority", 0, 0, 50000);
  if (!s.path_pattern.empty() && s.priority == 0) r.Problem(n, key + ".priority", "is required with pathPattern (1-50000)");
  s.health_check_grace_period_seconds = r.Int(n, key, "healthCheckGracePeriodSeconds", 0, 0, 7200);
  s.on_demand = r.Bool(n, key, "onDemand", false);
  // A started on-demand service runs desiredCount tasks: 0 would make `service start` a no-op.
  if (s.on_demand && s.desired_count == 0) {
    r.Problem(n["desiredCount"], key + ".desiredCount", "must be at least 1 with onDemand: true (what `slipway service start` runs)");
  }
  s.allow = ReadAllow(r, n, key);
  if (YAML::Node d = n["deployment"]) {
    std::string dk = key + ".deployment";
    r.OnlyKeys(d, dk, {"maximumPercent", "minimumHealthyPercent", "circuitBreaker"});
    s.maximum_percent = r.Int(d, dk, "maximumPercent", 200, 100, 200);
    s.minimum_healthy_percent = r.Int(d, dk, "minimumHealthyPercent", 100, 0, 100);
    s.circuit_breaker = r.Bool(d, dk, "circuitBreaker", true);
  }
  return s;
}

// An ALB path pattern: `*` matches any run of characters, `?` exactly one, the rest itself.
bool PathMatches(const std::string& pattern, const std::string& path) {
  if (pattern.empty()) return path.empty();
  if (pattern[0] == '*') {
    for (size_t i = 0; i <= path.size(); ++i) {
      if (PathMatches(pattern.substr(1), path.substr(i))) return true;
    }
    return false;
  }
  return !path.empty() && (pattern[0] == '?' || pattern[0] == path[0]) && PathMatches(pattern.substr(1), path.substr(1));
}

// When every service sits behind a path rule, a check whose path no rule matches reaches the
// listener's default action, never a service: it cannot pass, so say so now.
void CheckVerifyIsRouted(const Reader& r, const YAML::Node& v, const std::string& key, const Environment& e) {
  std::string patterns;
  for (const auto& [name, se] : e.services) {
    if (se.path_pattern.empty()) return;
    patterns += (patterns.empty() ? "" : ", ") + se.path_pattern;
  }
  for (size_t i = 0; i < e.verify.size(); ++i) {
    const std::string path = e.verify[i].path.substr(0, e.verify[i].path.find('?'));
    bool routed = false;
    for (const auto& [name, se] : e.services) routed = routed || PathMatches(se.path_pattern, path);
    if (!routed) {
      r.Problem(v[i], key + ".verify[" + std::to_string(i) + "].path",
                "'" + path + "' reaches no service: every service has a pathPattern and none matches (" + patterns + ")");
    }
  }
}

// An environment with an allowlist keeps listener priorities kAllowlistFirstPriority and up for its
// allowlist rules, so a path rule there would collide with them.
void CheckAllowlistPriorities(const Reader& r, const YAML::Node& services, const std::string& key, const Environment& e) {
  bool any = e.allow.has_value();
  for (const auto& [name, se] : e.services) any = any || se.allow.has_value();
  if (!any) return;
  for (const auto& [name, se] : e.services) {
    if (se.path_pattern.empty() || se.priority < kAllowlistFirstPriority) continue;
    r.Problem(services[name]["priority"], key + ".services." + name + ".priority",
              "must be below " + std::to_string(kAllowlistFirstPriority) + " in an environment with allow: (priorities " +
                  std::to_string(kAllowlistFirstPriority) + "-" + std::to_string(kAllowlistLastPriority) +
                  " hold slipway's allowlist rules)");
  }
}

Environment ReadEnvironment(const Reader& r, const YAML::Node& n, const std::string& key, const std::string& name,
                            const Config& cfg) {
  r.OnlyKeys(n, key, {"provider", "region", "cluster", "loadBalancer", "services", "verify", "timeoutSeconds", "subnets",
                      "securityGroups", "vpc", "assignPublicIp", "approval", "pinImages", "pricing", "allow"});
  Environment e;
  e.name = name;
  e.provider = r.Str(n, key, "provider", "local");
  if (e.provider != "local" && e.provider != "aws") r.Problem(n["provider"], key + ".provider", "must be 'local' or 'aws'");
  e.region = r.Str(n, key, "region", e.provider == "aws" ? "" : "us-east-1");
  e.cluster = r.Str(n, key, "cluster", cfg.app + "-" + name);
  e.timeout_seconds = r.Int(n, key, "timeoutSeconds", 900, 10, 86400);
  e.pin_images = r.Bool(n, key, "pinImages", true);
  e.approval_phrase = "deploy-" + name;
  if (YAML::Node a = n["approval"]) {
    // `approval: true`, or `approval: {phrase: ...}`.
    if (a.IsScalar()) {
      e.require_approval = r.Bool(n, key, "approval", false);
    } else {
      r.OnlyKeys(a, key + ".approval", {"required", "phrase"});
      e.require_approval = r.Bool(a, key + ".approval", "required", true);
      e.approval_phrase = r.Str(a, key + ".approval", "phrase", e.approval_phrase);
      if (Trim(e.approval_phrase).empty()) r.Problem(a["phrase"], key + ".approval.phrase", "must not be empty");
    }
  }
  for (const char* list : {"subnets", "securityGroups"}) {
    if (YAML::Node l = n[list]) {
      if (!l.IsSequence()) r.Problem(l, key + "." + list, "must be a list");
      for (const auto& v : l) {
        if (!v.IsScalar()) r.Problem(v, key + "." + list, "must be a list of ids");
        (std::string(list) == "subnets" ? e.subnets : e.security_groups).push_back(v.as<std::string>());
      }
    }
  }
  if (e.provider == "aws" && e.subnets.size() < 2) {
    r.Problem(n["subnets"] ? n["subnets"] : n, key + ".subnets",
              "provider aws needs at least two subnets, in different Availability Zones (the load balancer spans two)");
  }
  e.vpc = r.Str(n, key, "vpc", "");
  if (!e.vpc.empty() && e.vpc.rfind("vpc-", 0) != 0) r.Problem(n["vpc"], key + ".vpc", "must be a VPC id (vpc-…)");
  e.assign_public_ip = r.Bool(n, key, "assignPublicIp", false);
  if (YAML::Node p = n["pricing"]) {
    const std::string pk = key + ".pricing";
    r.OnlyKeys(p, pk, {"vcpuHour", "gbHour"});
    e.pricing.vcpu_hour = r.Number(p, pk, "vcpuHour", e.pricing.vcpu_hour, 0, 100);
    e.pricing.gb_hour = r.Number(p, pk, "gbHour", e.pricing.gb_hour, 0, 100);
  }
  e.allow = ReadAllow(r, n, key);
  YAML::Node lb = n["loadBalancer"];
  if (!lb) r.Problem(n, key + ".loadBalancer", "is required");
  r.OnlyKeys(lb, key + ".loadBalancer", {"name", "listenerPort", "host", "scheme"});
  e.scheme = r.Str(lb, key + ".loadBalancer", "scheme", "internet-facing");
  if (e.scheme != "internet-facing" && e.scheme != "internal") {
    r.Problem(lb["scheme"], key + ".loadBalancer.scheme", "must be internet-facing or internal");
  }
  e.load_balancer_name = r.Str(lb, key + ".loadBalancer", "name", cfg.app + "-" + name);
  e.listener_port = r.Int(lb, key + ".loadBalancer", "listenerPort", 80, 1, 65535);
  e.listener_host = r.Str(lb, key + ".loadBalancer", "host", "127.0.0.1");
  YAML::Node services = n["services"];
  if (!services || !services.IsMap() || services.size() == 0) r.Problem(n, key + ".services", "must name at least one service");
  for (const auto& kv : services) {
    std::string svc = kv.first.as<std::string>();
    if (!cfg.services.count(svc)) r.Problem(kv.first, key + ".services." + svc, "is not a service declared under services:");
    e.services[svc] = ReadServiceEnv(r, kv.second, key + ".services." + svc, cfg.app + "-" + name + "-" + svc);
  }
  CheckAllowlistPriorities(r, services, key, e);
  if (YAML::Node v = n["verify"]) {
    if (!v.IsSequence()) r.Problem(v, key + ".verify", "must be a list of checks");
    for (size_t i = 0; i < v.size(); ++i) {
      std::string ck = key + ".verify[" + std::to_string(i) + "]";
      r.OnlyKeys(v[i], ck, {"path", "status", "contains"});
      VerifyCheck c;
      c.path = r.Str(v[i], ck, "path", "/");
      if (c.path.empty() || c.path[0] != '/') r.Problem(v[i], ck + ".path", "must start with '/'");
      c.status = r.Int(v[i], ck, "status", 200, 100, 599);
      c.contains = r.Str(v[i], ck, "contains", "");
      e.verify.push_back(c);
    }
    CheckVerifyIsRouted(r, v, key, e);
  }
  return e;
}

}  // namespace

std::string ServiceForPath(const Environment& env, const std::string& path_and_query) {
  const std::string path = path_and_query.substr(0, path_and_query.find('?'));
  std::string routed, fallback;
  int best = 0;
  for (const auto& [name, se] : env.services) {
    if (se.path_pattern.empty()) {
      if (fallback.empty()) fallback = name;
    } else if (PathMatches(se.path_pattern, path) && (routed.empty() || se.priority < best)) {
      routed = name;
      best = se.priority;
    }
  }
  return routed.empty() ? fallback : routed;
}

std::optional<std::vector<std::string>> AllowFor(const Environment& env, const std::string& service) {
  auto it = env.services.find(service);
  if (it != env.services.end() && it->second.allow) return it->second.allow;
  return env.allow;
}

Result<Config> LoadConfig(const std::string& path) {
  Config cfg;
  cfg.path = path;
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return Fail(path + ": cannot read file");
  } catch (const YAML::Exception& e) {
    return Fail(path + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg);
  }
  Reader r(path);
  std::filesystem::path dir = std::filesystem::absolute(path).parent_path();
  try {
    if (!root.IsMap()) return Fail(path + ":1: the file must be a mapping with app, services and environments");
    RefuseDuplicateKeys(r, root, "");
    r.OnlyKeys(root, "", {"app", "builder", "engine", "services", "environments"});
    cfg.app = r.Str(root, "", "app", "", true);
    cfg.builder = r.Str(root, "", "builder", "auto");
    if (cfg.builder != "auto" && cfg.builder != "podman" && cfg.builder != "buildah" && cfg.builder != "docker") {
      r.Problem(root["builder"], "builder", "must be auto, podman, buildah or docker");
    }
    if (YAML::Node engine = root["engine"]) {
      r.OnlyKeys(engine, "engine", {"listen"});
      cfg.engine_listen = r.Str(engine, "engine", "listen", "");
      if (!ValidListenAddress(cfg.engine_listen)) {
        r.Problem(engine["listen"] ? engine["listen"] : engine, "engine.listen", "want host:port, e.g. 127.0.0.1:4580");
      }
    }
    YAML::Node services = root["services"];
    if (!services || !services.IsMap() || services.size() == 0) r.Problem(root, "services", "must declare at least one service");
    for (const auto& kv : services) {
      std::string name = kv.first.as<std::string>();
      cfg.services[name] = ReadService(r, kv.second, "services." + name, name, dir, cfg.app);
    }
    YAML::Node envs = root["environments"];
    if (!envs || !envs.IsMap() || envs.size() == 0) r.Problem(root, "environments", "must declare at least one environment");
    for (const auto& kv : envs) {
      std::string name = kv.first.as<std::string>();
      cfg.environments[name] = ReadEnvironment(r, kv.second, "environments." + name, name, cfg);
    }
  } catch (const ConfigProblem& p) {
    return Fail(path + ":" + std::to_string(p.line) + ": " + p.key + ": " + p.message);
  } catch (const YAML::Exception& e) {
    return Fail(path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  return cfg;
}

bool ValidListenAddress(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size()) return false;
  const std::string port = listen.substr(colon + 1);
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return false;
  const int n = std::stoi(port);
  return n > 0 && n < 65536;
}

Result<std::string> ExpandTemplate(const std::string& text, const std::string& origin,
                                   const std::map<std::string, std::string>& vars) {
  std::string out;
  int line = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') ++line;
    if (text[i] != '$' || i + 1 >= text.size() || text[i + 1] != '{') {
      out += text[i];
      continue;
    }
    size_t close = text.find('}', i);
    if (close == std::string::npos) return Fail(origin + ":" + std::to_string(line) + ": unterminated ${");
    std::string expr = text.substr(i + 2, close - i - 2);
    size_t dflt = expr.find(":-");
    std::string name = expr.substr(0, dflt);
    auto it = vars.find(name);
    if (it != vars.end() && !(dflt != std::string::npos && it->second.empty())) {
      out += it->second;
    } else if (dflt != std::string::npos) {
      out += expr.substr(dflt + 2);
    } else {
      return Fail(origin + ":" + std::to_string(line) + ": ${" + name + "} is not set (use ${" + name + ":-default} for a default)");
    }
    i = close;
  }
  return out;
}

}  // namespace slipway::config
