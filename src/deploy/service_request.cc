// The service requests of a release: what CreateService and UpdateService carry.
#include "deploy/service_request.h"

#include "deploy/desired_count.h"
#include "deploy/network.h"

namespace slipway::deploy {

using nlohmann::json;

namespace {

json DeploymentConfiguration(const config::ServiceEnv& se) {
  return {{"maximumPercent", se.maximum_percent}, {"minimumHealthyPercent", se.minimum_healthy_percent},
          {"deploymentCircuitBreaker", {{"enable", se.circuit_breaker}, {"rollback", se.circuit_breaker}}}};
}

// What both requests set.
json Common(const config::Environment& env, const config::ServiceEnv& se, const std::string& task_definition,
            const std::vector<std::string>& security_groups, int desired_count) {
  json req{{"cluster", env.cluster}, {"taskDefinition", task_definition}, {"desiredCount", desired_count},
           {"deploymentConfiguration", DeploymentConfiguration(se)},
           {"healthCheckGracePeriodSeconds", se.health_check_grace_period_seconds}};
  if (json network = NetworkConfiguration(env, security_groups); !network.is_null()) req["networkConfiguration"] = network;
  return req;
}

}  // namespace

json CreateServiceInput(const config::Environment& env, const config::ServiceSpec& svc, const config::ServiceEnv& se,
                        const std::string& task_definition, const std::string& target_group_arn,
                        const std::vector<std::string>& security_groups) {
  json req = Common(env, se, task_definition, security_groups, DefaultDesiredCount(se));
  req["serviceName"] = se.service_name;
  req["launchType"] = "FARGATE";
  req["loadBalancers"] = json::array({{{"targetGroupArn", target_group_arn}, {"containerName", svc.container},
                                       {"containerPort", svc.container_port}}});
  return req;
}

json UpdateServiceInput(const config::Environment& env, const config::ServiceEnv& se,
                        const std::string& task_definition, const std::vector<std::string>& security_groups,
                        int desired_count) {
  json req = Common(env, se, task_definition, security_groups, desired_count);
  req["service"] = se.service_name;
  req["forceNewDeployment"] = true;
  return req;
}

}  // namespace slipway::deploy
