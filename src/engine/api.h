// The API front: SigV4 verification, dispatch by X-Amz-Target or Action=, AWS-shaped errors.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "aws/sigv4.h"
#include "base/clock.h"
#include "engine/control_plane.h"

namespace slipway::engine {

/// An HTTP request as the API front sees it.
struct ApiHttpRequest {
  std::string method, target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct ApiHttpResponse {
  int status = 200;
  std::string content_type;
  std::string body;
};

/// Serves the engine's AWS API subset over one key pair.
class ApiFront {
 public:
  ApiFront(ControlPlane& control, LogService& logs, Clock& clock, aws::Credentials credentials)
      : control_(control), logs_(logs), clock_(clock), credentials_(std::move(credentials)) {}

  ApiHttpResponse Handle(const ApiHttpRequest& request);

 private:
  ControlPlane& control_;
  LogService& logs_;
  Clock& clock_;
  aws::Credentials credentials_;
};

}  // namespace slipway::engine
