// The API front: SigV4 verification, dispatch by X-Amz-Target or Action=, AWS-shaped errors.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "aws/sigv4.h"
#include "base/clock.h"
#include "engine/control_plane.h"
#include "engine/secret_store.h"

namespace slipway::engine {

class CloudWatchService;
class EcrService;

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
  /// More header fields to send (the console's security headers, cookies, redirects).
  std::vector<std::pair<std::string, std::string>> headers = {};
};

/// The wire protocol a request arrived in; it decides error codes and the reply's format.
enum class Protocol { kJson, kQuery };

/// `failure` as AWS names it in `protocol`: e.g. a bad signature is InvalidSignatureException
/// (403) in JSON and SignatureDoesNotMatch (403) in Query.
ApiError AuthErrorFor(const aws::AuthFailure& failure, Protocol protocol);

/// Serves the engine's AWS API subset over one key pair, in one region. Each request is routed to
/// a service first (by X-Amz-Target prefix, or by Query Version), and its signature must be scoped
/// to that service and the engine's region, as an AWS regional endpoint requires.
class ApiFront {
 public:
  /// `ecr` and `cloudwatch` may be null: their requests then get an error saying the engine serves
  /// no such service.
  ApiFront(ControlPlane& control, LogService& logs, SecretStore& secrets, Clock& clock,
           aws::Credentials credentials, std::string region, EcrService* ecr = nullptr,
           CloudWatchService* cloudwatch = nullptr)
      : control_(control),
        logs_(logs),
        secrets_(secrets),
        ecr_(ecr),
        cloudwatch_(cloudwatch),
        clock_(clock),
        credentials_(std::move(credentials)),
        region_(std::move(region)) {}

  ApiHttpResponse Handle(const ApiHttpRequest& request);

 private:
  /// A JSON service: its X-Amz-Target prefix, SigV4 name, content type (JSON 1.1 or 1.0) and
  /// handler.
  struct JsonService {
    const char* target_prefix;
    const char* signing_name;
    const char* content_type;
    ApiResult (ApiFront::*handle)(const std::string& op, const nlohmann::json& body);
  };
  /// A Query service: its Version=, SigV4 name, reply XML namespace, botocore service name (for
  /// its input shapes) and handler, which gets the parameters both as sent and read into JSON.
  struct QueryService {
    const char* version;
    const char* signing_name;
    const char* xml_namespace;
    const char* shapes;
    XmlResult (ApiFront::*handle)(const std::string& action, const QueryParams& params,
                                  const nlohmann::json& request);
  };
  static const JsonService kJsonServices[];
  static const QueryService kQueryServices[];

  ApiHttpResponse HandleJson(const aws::SignableRequest& req, const std::string& amz_target);
  ApiHttpResponse HandleQuery(const aws::SignableRequest& req);
  tl::expected<void, aws::AuthFailure> Authenticate(const aws::SignableRequest& req,
                                                    const std::string& service);

  ApiResult Ecs(const std::string& op, const nlohmann::json& body);
  ApiResult Logs(const std::string& op, const nlohmann::json& body);
  ApiResult SecretsManager(const std::string& op, const nlohmann::json& body);
  ApiResult Ssm(const std::string& op, const nlohmann::json& body);
  ApiResult Ecr(const std::string& op, const nlohmann::json& body);
  ApiResult CloudWatch(const std::string& op, const nlohmann::json& body);
  XmlResult Elb(const std::string& action, const QueryParams& params, const nlohmann::json& request);
  XmlResult CloudWatchQuery(const std::string& action, const QueryParams& params,
                            const nlohmann::json& request);

  ControlPlane& control_;
  LogService& logs_;
  SecretStore& secrets_;
  EcrService* ecr_;
  CloudWatchService* cloudwatch_;
  Clock& clock_;
  aws::Credentials credentials_;
  std::string region_;
};

}  // namespace slipway::engine
