// The release's first stage: task definition templates expanded into the definitions it registers.
#include "deploy/stages.h"

#include <fstream>
#include <sstream>

namespace slipway::deploy {

using nlohmann::json;

namespace {
// Template variables naming the environment's load balancer, as tasks reach other services by it:
// its DNSName, and http://<DNSName>[:listenerPort].
constexpr const char* kLoadBalancerDnsVar = "LOAD_BALANCER_DNS";
constexpr const char* kLoadBalancerUrlVar = "LOAD_BALANCER_URL";

// "line:column" of the 1-based byte offset `byte` in `text`, as editors number them.
std::string LineColumn(const std::string& text, size_t byte) {
  int line = 1, column = 1;
  for (size_t i = 0; i + 1 < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return std::to_string(line) + ":" + std::to_string(column);
}

// nlohmann's message without its "[json.exception…] parse error at line L, column C: " prefix,
// since the error already names line and column.
std::string ParseProblem(const std::string& what) {
  const size_t column = what.find("column ");
  const size_t colon = column == std::string::npos ? column : what.find(": ", column);
  return colon == std::string::npos ? what : what.substr(colon + 2);
}

}  // namespace

Result<json> LoadTaskDefinition(const config::ServiceSpec& svc, const config::ServiceEnv& se,
                                const std::map<std::string, std::string>& vars) {
  std::ifstream in(svc.task_definition_path);
  if (!in) return Fail(svc.task_definition_path + ": cannot read file");
  std::stringstream ss;
  ss << in.rdbuf();
  auto text = config::ExpandTemplate(ss.str(), svc.task_definition_path, vars);
  if (!text) return tl::unexpected(text.error());
  json td;
  try {
    td = json::parse(*text);
  } catch (const json::parse_error& e) {
    return Fail(svc.task_definition_path + ":" + LineColumn(*text, e.byte) + ": invalid JSON: " + ParseProblem(e.what()));
  }
  if (!td.is_object()) return Fail(svc.task_definition_path + ":1:1: not a JSON object after expanding variables");
  if (!td.contains("family")) td["family"] = se.service_name;
  return td;
}

Result<std::map<std::string, json>> LoadDefinitions(Run& run, const config::Config& cfg, const std::string& lb_dns) {
  return RenderDefinitions(cfg, run.env, run.options.vars, lb_dns);
}

Result<std::map<std::string, json>> RenderDefinitions(const config::Config& cfg, const config::Environment& env,
                                                      std::map<std::string, std::string> vars,
                                                      const std::string& lb_dns) {
  if (!vars.count(kLoadBalancerDnsVar)) vars[kLoadBalancerDnsVar] = lb_dns;
  if (!vars.count(kLoadBalancerUrlVar)) {
    const int port = env.listener_port;
    vars[kLoadBalancerUrlVar] = "http://" + lb_dns + (port == 80 ? "" : ":" + std::to_string(port));
  }
  std::map<std::string, json> definitions;
  for (const auto& [name, se] : env.services) {
    auto td = LoadTaskDefinition(cfg.services.at(name), se, vars);
    if (!td) return tl::unexpected(td.error());
    definitions[name] = *td;
  }
  return definitions;
}

void KeepImages(const std::map<std::string, json>& from, std::map<std::string, json>& to) {
  for (auto& [name, td] : to) {
    for (auto& c : td["containerDefinitions"]) {
      for (const auto& old : from.at(name)["containerDefinitions"]) {
        if (old.value("name", "") == c.value("name", "") && old.contains("image")) c["image"] = old["image"];
      }
    }
  }
}

}  // namespace slipway::deploy
