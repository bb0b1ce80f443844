// Signed calls to AWS APIs over the awsJson1.1 and Query protocols, with retries.
#pragma once

#include <map>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "aws/http_transport.h"
#include "aws/sigv4.h"
#include "aws/xml.h"
#include "base/clock.h"
#include "base/result.h"

namespace slipway::aws {

/// What identifies an AWS service on the wire.
struct ServiceSpec {
  std::string endpoint_prefix;  ///< "ecs", "elasticloadbalancing", "logs"
  std::string signing_name;     ///< SigV4 service name
  std::string target_prefix;    ///< JSON: X-Amz-Target prefix
  std::string api_version;      ///< Query: Version=
};

extern const ServiceSpec kEcs;
extern const ServiceSpec kElbv2;
extern const ServiceSpec kLogs;

/// Where requests go: a fixed endpoint (the local engine) or AWS's regional endpoints.
struct Endpoint {
  std::string region = "us-east-1";
  /// When set, every service is reached at this URL (e.g. http://127.0.0.1:4580).
  std::string url_override;
};

/// Flat Query-protocol parameters, e.g. {"Names.member.1", "web"}.
using QueryParams = std::map<std::string, std::string>;

/// Signs and sends API calls; retries throttling, 5xx and connection errors with backoff.
/// Errors read "<service> <Operation>: <Code>: <message>".
class AwsClient {
 public:
  AwsClient(HttpTransport& transport, Clock& clock, Credentials creds, Endpoint endpoint)
      : transport_(transport), clock_(clock), creds_(std::move(creds)), endpoint_(std::move(endpoint)) {}

  /// awsJson1.1 call; returns the parsed response body.
  [[nodiscard]] Result<nlohmann::json> Json(const ServiceSpec& service, const std::string& op,
                                            const nlohmann::json& body);
  /// Query call; returns the <OpResult> element.
  [[nodiscard]] Result<XmlNode> Query(const ServiceSpec& service, const std::string& action,
                                      const QueryParams& params);

  const Endpoint& endpoint() const { return endpoint_; }

 private:
  [[nodiscard]] Result<HttpResponse> Send(const ServiceSpec& service, const std::string& op,
                                          std::vector<std::pair<std::string, std::string>> headers,
                                          const std::string& body);
  std::string UrlFor(const ServiceSpec& service) const;

  HttpTransport& transport_;
  Clock& clock_;
  Credentials creds_;
  Endpoint endpoint_;
};

}  // namespace slipway::aws
