// CloudWatch requests and replies as botocore's monitoring 2010-08-01 model has them in Query.
#include "aws/cloudwatch.h"

namespace slipway::aws {

Result<std::vector<DashboardValidationMessage>> CloudWatch::PutDashboard(const std::string& name,
                                                                         const std::string& body) {
  auto reply = client_.Query(kCloudWatch, "PutDashboard",
                             {{"DashboardName", name}, {"DashboardBody", body}});
  if (!reply) return tl::unexpected(reply.error());
  std::vector<DashboardValidationMessage> out;
  for (const XmlNode* m : reply->Members("DashboardValidationMessages")) {
    out.push_back({m->Text("DataPath"), m->Text("Message")});
  }
  return out;
}

Result<Dashboard> CloudWatch::GetDashboard(const std::string& name) {
  auto reply = client_.Query(kCloudWatch, "GetDashboard", {{"DashboardName", name}});
  if (!reply) return tl::unexpected(reply.error());
  Dashboard d{reply->Text("DashboardArn"), reply->Text("DashboardName"),
              reply->Text("DashboardBody")};
  if (d.name.empty()) {
    return Fail(kCloudWatch.endpoint_prefix + " GetDashboard: unexpected reply: no DashboardName");
  }
  return d;
}

}  // namespace slipway::aws
