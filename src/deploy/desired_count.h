// Who owns a service's desiredCount. slipway.yaml's `desiredCount` is the default (0 for an
// `onDemand` service until it is started); `slipway scale`, `env down` and `service start|stop`
// record an override as a tag on the ECS service, which releases keep until `env up` or
// `slipway scale --reset` removes it. Also the Fargate cost arithmetic of `env status`.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "aws/ecs.h"
#include "config/config.h"

namespace slipway::deploy {

/// The tag on an ECS service that records a desiredCount override.
inline constexpr const char* kDesiredCountTag = "slipway:desiredCount";

/// A desiredCount override as its tag records it: "<count> by=<command> was=<count before>".
struct CountOverride {
  int count = 0;
  std::string by;                ///< what set it: scale, env-down, service-start, service-stop
  std::optional<int> was;        ///< the desiredCount before it was set, when known

  /// The tag value (characters ECS accepts in tag values: letters, digits, space, "=").
  std::string TagValue() const;
  /// "0 (set by env down; was 2)"
  std::string Describe() const;
};

/// Parses an override tag's value; nullopt when it is not one (a count from 0 to 1000 first).
std::optional<CountOverride> ParseCountOverride(const std::string& value);

/// The override among `tags`, if any (an unreadable value counts as none).
std::optional<CountOverride> FindCountOverride(const std::vector<aws::Tag>& tags);

/// What a release sets without an override: the config's desiredCount, or 0 for an on-demand
/// service (stopped until started).
int DefaultDesiredCount(const config::ServiceEnv& se);

/// What a release sets: the override's count when there is one, else DefaultDesiredCount.
int ReleaseDesiredCount(const config::ServiceEnv& se, const std::optional<CountOverride>& override_);

/// Task size in Fargate's units, from a task definition's `cpu` and `memory` ("256" CPU units
/// or "0.25 vCPU"; "512" MiB or "0.5 GB"). nullopt when absent or unreadable.
std::optional<double> VcpusOf(const std::string& cpu);
std::optional<double> GigabytesOf(const std::string& memory);

/// The hourly price of `running` tasks of `vcpus` and `gigabytes` each at `pricing`.
double HourlyCost(double vcpus, double gigabytes, int running, const config::Pricing& pricing);

}  // namespace slipway::deploy
