// CloudWatch as slipway calls it: the environment's dashboard.
#pragma once

#include <string>
#include <vector>

#include "aws/aws_client.h"
#include "base/result.h"

namespace slipway::aws {

/// A dashboard as GetDashboard returns it.
struct Dashboard {
  std::string arn;
  std::string name;
  std::string body;  ///< the dashboard body JSON, as stored
};

/// A problem PutDashboard found in a body it still stored.
struct DashboardValidationMessage {
  std::string data_path;  ///< where in the body, e.g. "/widgets/0/properties"
  std::string message;
};

/// Typed CloudWatch calls over `AwsClient`, in the Query protocol. Errors keep AwsClient's message
/// and code (e.g. ResourceNotFound, InvalidParameterInput).
class CloudWatch {
 public:
  explicit CloudWatch(AwsClient& client) : client_(client) {}

  /// Creates or replaces dashboard `name` with `body`; returns the warnings CloudWatch gave while
  /// storing it. A body CloudWatch refuses is an error (InvalidParameterInput).
  [[nodiscard]] Result<std::vector<DashboardValidationMessage>> PutDashboard(
      const std::string& name, const std::string& body);
  /// Dashboard `name`; code ResourceNotFound when there is none.
  [[nodiscard]] Result<Dashboard> GetDashboard(const std::string& name);

 private:
  AwsClient& client_;
};

}  // namespace slipway::aws
