// Signed calls to AWS APIs over the awsJson1.1 and Query protocols, with retries.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "aws/credential_provider.h"
#include "aws/http_transport.h"
#include "aws/retry.h"
#include "aws/sigv4.h"
#include "aws/xml.h"
#include "base/cancel.h"
#include "base/clock.h"
#include "base/result.h"

namespace slipway::aws {

/// What identifies an AWS service on the wire.
struct ServiceSpec {
  std::string endpoint_prefix;  ///< "ecs", "elasticloadbalancing", "logs", "ec2"
  std::string signing_name;     ///< SigV4 service name
  std::string target_prefix;    ///< JSON: X-Amz-Target prefix
  std::string api_version;      ///< Query: Version=
};

extern const ServiceSpec kEcs;
extern const ServiceSpec kElbv2;
extern const ServiceSpec kLogs;
extern const ServiceSpec kEcr;
/// CloudWatch over Query (Version 2010-08-01), which AWS, the engine and moto all serve.
extern const ServiceSpec kCloudWatch;
/// EC2 (the "ec2" protocol: Query requests; replies without an <OpResult> wrapper, lists of
/// <item>, errors under <Errors>). Used for subnets and security groups on provider aws.
extern const ServiceSpec kEc2;

/// Where requests go: a fixed endpoint (the local engine) or AWS's regional endpoints.
struct Endpoint {
  std::string region = "us-east-1";
  /// When set, every service is reached at this URL (e.g. http://127.0.0.1:4580).
  std::string url_override;
  /// URLs for single services by SigV4 signing name ("ecs", "elasticloadbalancing", "logs",
  /// "ecr", "ec2"), used when url_override is empty (AWS_ENDPOINT_URL_<SERVICE> and the like).
  std::map<std::string, std::string> service_urls;
};

/// Flat Query-protocol parameters, e.g. {"Names.member.1", "web"}.
using QueryParams = std::map<std::string, std::string>;

/// Error code: the endpoint did not answer: it refused connections for longer than
/// ReachPolicy::give_up_after, or a read found no reply in all its attempts. Nothing this call
/// asked for happened (no attempt of it can have reached the endpoint, or it only reads).
inline constexpr const char* kEndpointUnreachable = "EndpointUnreachable";
/// Error code: a call that changes something may have reached the endpoint, and no reply came.
/// It may or may not have been applied. It was repeated only if doing it twice does it once.
inline constexpr const char* kOutcomeUnknown = "OutcomeUnknown";

/// True for kEndpointUnreachable and kOutcomeUnknown: the caller cannot see the endpoint's state.
inline bool IsUnreachable(const Error& e) { return e.code == kEndpointUnreachable || e.code == kOutcomeUnknown; }

/// Operations that only read (Describe*, List*, Get*, Filter*).
bool OnlyReads(const std::string& op);
/// Operations that doing twice is the same as doing once: reads; calls that set a value
/// outright (TagResource, ModifyTargetGroupAttributes, PutDashboard, ...); creates that are idempotent by name
/// with the same settings (CreateCluster, CreateLoadBalancer, CreateTargetGroup, CreateListener);
/// creates whose repeat is refused as already done (CreateLogGroup, CreateRepository,
/// AuthorizeSecurityGroupIngress); StopTask.
/// A call that carries a client token is safe too (see AwsClient::Json).
bool SafeToRepeat(const std::string& op);

/// The retry mode: AWS's "standard" one (retry.h).
struct RetryPolicy {
  /// Attempts per call, the first included, for throttling, 5xx and broken connections.
  int max_attempts = kDefaultMaxAttempts;
  /// Uniform draws in [0, 1) for the backoff's jitter; a seeded generator when empty.
  std::function<double()> random;
};

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

/// Signs and sends API calls. Throttling, 5xx replies and broken connections are retried as the
/// AWS SDKs' standard retry mode does (RetryPolicy, retry.h), except that a call is sent again
/// after a broken connection only when doing it twice does it once (SafeToRepeat, a client
/// token). Refused connections use no attempt: they are retried while the endpoint comes back,
/// up to ReachPolicy's bound. Errors read "<service> <Operation>: <Code>: <message>", or for an
/// endpoint that did not answer "could not reach <endpoint> since <HH:MM:SS>: ..." (codes above).
class AwsClient {
 public:
  /// Signs every request with `credentials`, asked again before each request (so temporary
  /// credentials are renewed as they near expiry).
  AwsClient(HttpTransport& transport, Clock& clock, std::shared_ptr<CredentialProvider> credentials,
            Endpoint endpoint, ReachPolicy reach = {}, RetryPolicy retry = {})
      : transport_(transport),
        clock_(clock),
        credentials_(std::move(credentials)),
        endpoint_(std::move(endpoint)),
        reach_(std::move(reach)),
        retry_(std::move(retry)) {}
  /// Signs every request with the same `creds`.
  AwsClient(HttpTransport& transport, Clock& clock, Credentials creds, Endpoint endpoint,
            ReachPolicy reach = {}, RetryPolicy retry = {})
      : AwsClient(transport, clock, std::make_shared<StaticCredentialProvider>(std::move(creds)),
                  std::move(endpoint), std::move(reach), std::move(retry)) {}

  /// awsJson1.1 call; returns the parsed response body. A body with a non-empty "clientToken"
  /// is safe to send again after a broken connection: the service applies it once.
  [[nodiscard]] Result<nlohmann::json> Json(const ServiceSpec& service, const std::string& op,
                                            const nlohmann::json& body);
  /// Query call; returns the <OpResult> element, or for EC2 (which has none) the reply's root.
  [[nodiscard]] Result<XmlNode> Query(const ServiceSpec& service, const std::string& action,
                                      const QueryParams& params);

  const Endpoint& endpoint() const { return endpoint_; }
  /// Replaces how unreachable endpoints are handled (e.g. to report waits as progress).
  void set_reach_policy(ReachPolicy reach) { reach_ = std::move(reach); }
  const ReachPolicy& reach_policy() const { return reach_; }
  /// What is left of the retry quota, shared by every call of this client.
  int retry_quota_available() const { return quota_.available(); }

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
                                          const std::string& body, bool safe_to_repeat);
  std::string UrlFor(const ServiceSpec& service) const;
  /// A uniform draw in [0, 1) for backoff jitter.
  double Random();

  HttpTransport& transport_;
  Clock& clock_;
  std::shared_ptr<CredentialProvider> credentials_;
  Endpoint endpoint_;
  ReachPolicy reach_;
  RetryPolicy retry_;
  RetryQuota quota_;
  std::mt19937_64 random_{std::random_device{}()};
  std::optional<Outage> outage_;
};

}  // namespace slipway::aws
