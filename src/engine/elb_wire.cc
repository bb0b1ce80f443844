// Query parameter readers, the XML writer and listener actions, shared by the ELBv2 handlers.
#include "engine/elb_wire.h"

#include <algorithm>

#include "base/strings.h"

namespace slipway::engine {

namespace {

/// The content types a fixed-response action may declare.
const std::vector<std::string> kContentTypes = {"text/plain", "text/css", "text/html",
                                                "application/javascript", "application/json"};

bool IsFixedResponseContentType(const std::string& type) {
  return std::find(kContentTypes.begin(), kContentTypes.end(), type) != kContentTypes.end();
}

/// The one target group a forward action sends to, read from its TargetGroupArn and every
/// ForwardConfig member. Weighted forwarding across groups is not served, so more than one group
/// is refused rather than reduced to the first.
tl::expected<std::string, ApiError> ForwardTarget(const QueryParams& item) {
  const std::string direct = Get(item, "TargetGroupArn");
  std::vector<std::string> configured;
  for (const auto& member : StructListParam(item, "ForwardConfig.TargetGroups"))
    configured.push_back(Get(member, "TargetGroupArn"));
  if (configured.size() > 1) {
    return tl::unexpected(
        ElbValidation("The engine forwards to one target group per action; ForwardConfig lists " +
                      std::to_string(configured.size())));
  }
  if (configured.empty()) return direct;
  if (!direct.empty() && direct != configured[0]) {
    return tl::unexpected(ElbValidation(
        "When TargetGroupArn and ForwardConfig are both specified, ForwardConfig must hold only "
        "that target group"));
  }
  return configured[0];
}

}  // namespace

std::string Quotable(const std::string& value) {
  constexpr size_t kMaxQuoted = 256;
  // Cut on a character boundary: half a character is not UTF-8, and XML readers refuse the reply.
  std::string out = value.substr(0, Utf8CutLength(std::string_view(value).substr(0, kMaxQuoted)));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  if (value.size() > kMaxQuoted) out += "...";
  return out;
}

std::vector<std::string> ListParam(const QueryParams& p, const std::string& prefix) {
  std::vector<std::string> out;
  for (int i = 1;; ++i) {
    auto it = p.find(prefix + ".member." + std::to_string(i));
    if (it == p.end()) return out;
    out.push_back(it->second);
  }
}

std::vector<QueryParams> StructListParam(const QueryParams& p, const std::string& prefix) {
  std::vector<QueryParams> out;
  for (int i = 1;; ++i) {
    std::string base = prefix + ".member." + std::to_string(i) + ".";
    QueryParams item;
    for (auto it = p.lower_bound(base); it != p.end() && it->first.rfind(base, 0) == 0; ++it) {
      item[it->first.substr(base.size())] = it->second;
    }
    if (item.empty()) return out;
    out.push_back(std::move(item));
  }
}

std::string Get(const QueryParams& p, const std::string& key, const std::string& fallback) {
  auto it = p.find(key);
  return it == p.end() ? fallback : it->second;
}

int GetInt(const QueryParams& p, const std::string& key, int fallback) {
  auto it = p.find(key);
  return it == p.end() ? fallback : std::atoi(it->second.c_str());
}

Xml& Xml::Leaf(const std::string& tag, const std::string& value) {
  out_ += "<" + tag + ">" + XmlEscape(value) + "</" + tag + ">";
  return *this;
}

std::string ActionsXml(const std::vector<Action>& actions) {
  Xml x;
  for (const auto& a : actions) {
    x.Open("member").Leaf("Type", a.type).Leaf("Order", std::to_string(a.order));
    if (a.type == "forward") {
      x.Leaf("TargetGroupArn", a.target_group_arn)
          .Open("ForwardConfig")
          .Open("TargetGroups")
          .Open("member")
          .Leaf("TargetGroupArn", a.target_group_arn)
          .Leaf("Weight", "1")
          .Close("member")
          .Close("TargetGroups")
          .Close("ForwardConfig");
    } else {
      x.Open("FixedResponseConfig").Leaf("StatusCode", a.fixed_status);
      if (!a.fixed_content_type.empty()) x.Leaf("ContentType", a.fixed_content_type);
      if (!a.fixed_body.empty()) x.Leaf("MessageBody", a.fixed_body);
      x.Close("FixedResponseConfig");
    }
    x.Close("member");
  }
  return x.str();
}

tl::expected<std::vector<Action>, ApiError> ParseActions(const QueryParams& p,
                                                         const std::string& prefix,
                                                         const State& s) {
  std::vector<Action> out;
  for (const auto& item : StructListParam(p, prefix)) {
    Action a;
    a.type = Get(item, "Type");
    a.order = GetInt(item, "Order", static_cast<int>(out.size()) + 1);
    if (a.type == "forward") {
      auto arn = ForwardTarget(item);
      if (!arn) return tl::unexpected(arn.error());
      a.target_group_arn = std::move(*arn);
      if (!s.target_groups.count(a.target_group_arn)) {
        return tl::unexpected(
            ApiError{"TargetGroupNotFound",
                     "Target group '" + Quotable(a.target_group_arn) + "' not found", 400});
      }
    } else if (a.type == "fixed-response") {
      a.fixed_status = Get(item, "FixedResponseConfig.StatusCode");
      a.fixed_content_type = Get(item, "FixedResponseConfig.ContentType");
      a.fixed_body = Get(item, "FixedResponseConfig.MessageBody");
      // The model bounds the body (1024) and the status (^(2|4|5)\d\d$); the content types are
      // the ALB's own list.
      if (a.fixed_status.empty())
        return tl::unexpected(ElbValidation("A fixed-response action must specify a status code"));
      // Replies carry the body in XML, which cannot hold other control characters.
      if (std::any_of(a.fixed_body.begin(), a.fixed_body.end(), [](char c) {
            return static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r';
          })) {
        return tl::unexpected(
            ElbValidation("A fixed-response message body cannot hold control characters"));
      }
      if (!a.fixed_content_type.empty() && !IsFixedResponseContentType(a.fixed_content_type)) {
        return tl::unexpected(ElbValidation("Content type '" + Quotable(a.fixed_content_type) +
                                            "' must be one of '[" + Join(kContentTypes, ", ") +
                                            "]'"));
      }
    } else {
      return tl::unexpected(ApiError{
          "InvalidLoadBalancerAction",
          "The engine supports forward and fixed-response actions, not '" + Quotable(a.type) + "'",
          400});
    }
    out.push_back(a);
  }
  if (out.empty()) return tl::unexpected(ElbValidation("At least one action must be specified"));
  // Every type the engine serves ends a rule: a second one could never run.
  if (out.size() > 1) {
    return tl::unexpected(ApiError{
        "InvalidLoadBalancerAction",
        "A rule can have only one forward or fixed-response action, and it must be the last", 400});
  }
  return out;
}

}  // namespace slipway::engine
