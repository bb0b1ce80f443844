// Signed calls to AWS APIs over the awsJson1.1 and Query protocols, with retries.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "aws/credential_provider.h"
#include "aws/http_transport.h"
#include "aws/sigv4.h"
#include "aws/xml.h"
#include "base/cancel.h"
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
extern const ServiceSpec kEcr;

/// Where requests go: a fixed endpoint (the local engine) or AWS's regional endpoints.
struct Endpoint {
  std::string region = "us-east-1";
  /// When set, every service is reached at this URL (e.g. http://127.0.0.1:4580).
  std::string url_override;
  /// URLs for single services by SigV4 signing name ("ecs", "elasticloadbalancing", "logs",
  /// "ecr"), used when url_override is empty (AWS_ENDPOINT_URL_<SERVICE> and the like).
  std::map<std::string, std::string> service_urls;
};

/// Flat Query-protocol parameters, e.g. {"Names.member.1", "web"}.
using QueryParams = std::map<std::string, std::string>;

/// Error code: the endpoint did not answer for longer than ReachPolicy::give_up_after. Nothing
/// this call asked for happened (no attempt of it can have reached the endpoint, or it only reads).
inline constexpr const char* kEndpointUnreachable = "EndpointUnreachable";
/// Error code: a call that changes something may have reached the endpoint, and no reply came.
/// It may or may not have been applied; it was not repeated, so it cannot have happened twice.
inline constexpr const char* kOutcomeUnknown = "OutcomeUnknown";

/// True for kEndpointUnreachable and kOutcomeUnknown: the caller cannot see the endpoint's state.
inline bool IsUnreachable(const Error& e) { return e.code == kEndpointUnreachable || e.code == kOutcomeUnknown; }

/// Operations that only read (Describe*, List*, Get*, Filter*) or that set a value outright
/// (TagResource, UntagResource), so that doing one twice is the same as doing it once.
bool SafeToRepeat(const std::string& op);

/// What to do about one failed exchange (a transport error code, see http_transport.h).
enum class TransportRetry {
  kRetry,           ///< wait for the endpoint and send again
  kOutcomeUnknown,  ///< it may have been received and must not be repeated
  kGiveUp,          ///< retrying cannot help
};
TransportRetry DecideTransportRetry(const std::string& transport_code, const std::string& op);

/// How long AwsClient keeps trying an endpoint that does not answer, and who hears about it.
struct ReachPolicy {
  /// Give up this long after the first failure of a run of failures (any reply ends the run).
  Millis give_up_after{60'000};
  /// Told while waiting: first once the endpoint has been unreachable for `report_after`, then
  /// every `report_every`. Arguments: the endpoint URL and when the run of failures began.
  std::function<void(const std::string& endpoint, WallTime since)> on_waiting;
  Millis report_after{2'000};
  Millis report_every{10'000};
  /// Once set, calls stop waiting for the endpoint (each still makes one attempt), so that
  /// cleanup after an interrupt is quick whether or not the endpoint is back.
  const CancelToken* cancel = nullptr;
};

/// Signs and sends API calls. Throttling and 5xx replies are retried a few times with backoff.
/// Connection failures are retried while the endpoint comes back, up to ReachPolicy's bound,
/// except that a call that changes something is never repeated once it may have been received.
/// Errors read "<service> <Operation>: <Code>: <message>", or for an endpoint that did not
/// answer "could not reach <endpoint> since <HH:MM:SS>: ..." (codes above).
class AwsClient {
 public:
  /// Signs every request with `credentials`, asked again before each request (so temporary
  /// credentials are renewed as they near expiry).
  AwsClient(HttpTransport& transport, Clock& clock, std::shared_ptr<CredentialProvider> credentials,
            Endpoint endpoint, ReachPolicy reach = {})
      : transport_(transport),
        clock_(clock),
        credentials_(std::move(credentials)),
        endpoint_(std::move(endpoint)),
        reach_(std::move(reach)) {}
  /// Signs every request with the same `creds`.
  AwsClient(HttpTransport& transport, Clock& clock, Credentials creds, Endpoint endpoint,
            ReachPolicy reach = {})
      : AwsClient(transport, clock, std::make_shared<StaticCredentialProvider>(std::move(creds)),
                  std::move(endpoint), std::move(reach)) {}

  /// awsJson1.1 call; returns the parsed response body.
  [[nodiscard]] Result<nlohmann::json> Json(const ServiceSpec& service, const std::string& op,
                                            const nlohmann::json& body);
  /// Query call; returns the <OpResult> element.
  [[nodiscard]] Result<XmlNode> Query(const ServiceSpec& service, const std::string& action,
                                      const QueryParams& params);

  const Endpoint& endpoint() const { return endpoint_; }
  /// Replaces how unreachable endpoints are handled (e.g. to report waits as progress).
  void set_reach_policy(ReachPolicy reach) { reach_ = std::move(reach); }
  const ReachPolicy& reach_policy() const { return reach_; }

 private:
  /// A run of failed exchanges, from its first failure until the next reply.
  struct Outage {
    SteadyTime began;
    WallTime began_wall;
    SteadyTime next_report;
  };

  /// Records a failed exchange. Returns false when it is time to give up (past the bound, or
  /// cancelled); otherwise waits a little for the endpoint and returns true.
  bool WaitForEndpoint(const std::string& url, Millis& wait);
  Error UnreachableError(const std::string& url, const std::string& what, const Error& cause,
                         const char* code) const;

  [[nodiscard]] Result<HttpResponse> Send(const ServiceSpec& service, const std::string& op,
                                          std::vector<std::pair<std::string, std::string>> headers,
                                          const std::string& body);
  std::string UrlFor(const ServiceSpec& service) const;

  HttpTransport& transport_;
  Clock& clock_;
  std::shared_ptr<CredentialProvider> credentials_;
  Endpoint endpoint_;
  ReachPolicy reach_;
  std::optional<Outage> outage_;
};

}  // namespace slipway::aws
