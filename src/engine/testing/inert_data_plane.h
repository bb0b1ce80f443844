// A data plane that opens nothing and checks nothing, for tests and fuzz targets that drive the
// control plane in-process.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "engine/data_plane.h"

namespace slipway::engine {

class InertDataPlane final : public DataPlane {
 public:
  Result<void> OpenListener(const std::string&, int) override { return {}; }
  void Publish(std::shared_ptr<const RoutingTable>) override {}
  void Check(const HealthCheckSpec&, std::function<void(HealthCheckResult)>) override {}
};

}  // namespace slipway::engine
