// Fuzzes the XML reader the deployer uses for Query replies: on its own, with the lookups the
// deployer makes, and behind AwsClient::Query as a success and as an error reply.
#include <cstddef>
#include <cstdint>
#include <string>

#include "aws/aws_client.h"
#include "aws/xml.h"

namespace slipway::fuzz {
namespace {

/// Answers every request with one fixed reply.
class ReplyTransport final : public aws::HttpTransport {
 public:
  ReplyTransport(int status, const std::string& body) : status_(status), body_(body) {}
  Result<aws::HttpResponse> Send(const aws::HttpRequest&) override {
    return aws::HttpResponse{status_, body_};
  }

 private:
  int status_;
  const std::string& body_;
};

void Lookups(const aws::XmlNode& node) {
  (void)node.Text("Error/Code");
  for (const char* list : {"LoadBalancers", "TargetGroups", "Listeners", "Rules", ""}) {
    for (const aws::XmlNode* member : node.Members(list)) {
      (void)member->Text("TargetGroupArn");
      (void)member->Members("Actions");
    }
  }
}

}  // namespace
}  // namespace slipway::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace slipway;
  using namespace slipway::fuzz;
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (auto root = aws::ParseXml(text)) Lookups(*root);

  FakeClock clock;
  for (int status : {200, 400}) {
    ReplyTransport transport(status, text);
    aws::AwsClient client(transport, clock, {"AKID", "secret", ""}, {"us-east-1", "http://127.0.0.1:1/"});
    if (auto result = client.Query(aws::kElbv2, "DescribeLoadBalancers", {{"Names.member.1", "demo"}})) {
      Lookups(*result);
    }
  }
  return 0;
}
