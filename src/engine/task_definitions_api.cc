// ECS task definitions: register, describe, list (paged), deregister and delete, per botocore's
// ecs model. Revisions are never removed: a deleted one stays as DELETE_IN_PROGRESS (ECS keeps it
// so while tasks use it), so a family's revision numbers are never reused.
#include <algorithm>
#include <cctype>
#include <optional>
#include <utility>

#include "engine/control_plane.h"

namespace slipway::engine {

using nlohmann::json;
using ecs::ClientError;
using ecs::InvalidParameter;

namespace {
/// ListTaskDefinitions' page size, and the most maxResults may ask for.
constexpr int kListPage = 100;
/// DeleteTaskDefinitions takes at most this many revisions per call.
constexpr size_t kDeleteBatch = 10;

/// "family:revision" when `ref` names a revision (an ARN, or family:revision); nullopt for a bare family.
std::optional<std::pair<std::string, int>> RevisionRef(const std::string& ref) {
  const std::string name = NameFromArn(ref);
  const size_t colon = name.rfind(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  const std::string digits = name.substr(colon + 1);
  if (digits.empty() || digits.size() > 9 || !std::all_of(digits.begin(), digits.end(), [](unsigned char c) { return std::isdigit(c) != 0; })) return std::nullopt;
  return std::make_pair(name.substr(0, colon), std::stoi(digits));
}
}  // namespace

ApiResult ControlPlane::RegisterTaskDefinition(const json& r) {
  std::string family = r.value("family", "");
  if (family.empty()) return tl::unexpected(ClientError("Family must not be empty."));
  if (!r.contains("containerDefinitions") || !r["containerDefinitions"].is_array() ||
      r["containerDefinitions"].empty()) {
    return tl::unexpected(ClientError("Container list cannot be empty."));
  }
  for (const auto& c : r["containerDefinitions"]) {
    if (c.value("name", "").empty() || c.value("image", "").empty()) {
      return tl::unexpected(ClientError("Container.name and Container.image should not be null or empty."));
    }
  }
  auto& revisions = core_.state.task_definitions[family];
  json td = r;
  json tags = td.contains("tags") ? td["tags"] : json::array();
  td.erase("tags");
  if (!tags.is_array()) return tl::unexpected(ClientError("tags must be a list of {key, value}."));
  int revision = static_cast<int>(revisions.size()) + 1;
  td["revision"] = revision;
  td["taskDefinitionArn"] = core_.Arn("ecs", "task-definition/" + family + ":" + std::to_string(revision));
  td["status"] = "ACTIVE";
  td["compatibilities"] = json::array({"EC2", "FARGATE"});
  if (!td.contains("networkMode")) td["networkMode"] = "awsvpc";
  td["registeredAt"] = Now();
  td["registeredBy"] = std::string("arn:aws:iam::") + kAccount + ":root";
  td["requiresAttributes"] = json::array();
  td["placementConstraints"] = td.value("placementConstraints", json::array());
  td["volumes"] = td.value("volumes", json::array());
  revisions.push_back(td);
  core_.Touch(ObjectKind::kTaskDefinition, TaskDefinitionKey(family, revision));
  if (!tags.empty()) {
    core_.state.tags[td["taskDefinitionArn"]] = tags;
    core_.Touch(ObjectKind::kTags, td["taskDefinitionArn"]);
  }
  return json{{"taskDefinition", td}, {"tags", tags}};
}

const json* ControlPlane::FindTaskDefinition(const std::string& ref) const {
  // An ARN must be this engine's (region and account); a name is "family" or "family:revision".
  std::string name = ref;
  if (ref.rfind("arn:", 0) == 0) {
    const std::string prefix = core_.Arn("ecs", "task-definition/");
    if (ref.rfind(prefix, 0) != 0) return nullptr;
    name = ref.substr(prefix.size());
  }
  if (name.empty() || name.find('/') != std::string::npos) return nullptr;
  const auto revision = RevisionRef(name);
  if (!revision && name.find(':') != std::string::npos) return nullptr;  // "app:1abc", "app:"
  auto it = core_.state.task_definitions.find(revision ? revision->first : name);
  if (it == core_.state.task_definitions.end() || it->second.empty()) return nullptr;
  if (!revision) {
    for (auto r = it->second.rbegin(); r != it->second.rend(); ++r) {
      if ((*r)["status"] == "ACTIVE") return &*r;
    }
    return nullptr;
  }
  if (revision->second < 1 || revision->second > static_cast<int>(it->second.size())) return nullptr;
  return &it->second[static_cast<size_t>(revision->second - 1)];
}

json* ControlPlane::MutableTaskDefinition(const std::string& ref) {
  return const_cast<json*>(std::as_const(*this).FindTaskDefinition(ref));
}

ApiResult ControlPlane::DescribeTaskDefinition(const json& r) {
  const json* td = FindTaskDefinition(r.value("taskDefinition", ""));
  if (td == nullptr) return tl::unexpected(ClientError("Unable to describe task definition."));
  json out{{"taskDefinition", *td}};
  auto include = r.value("include", std::vector<std::string>{});
  if (std::find(include.begin(), include.end(), "TAGS") != include.end()) {
    auto tags = core_.state.tags.find((*td)["taskDefinitionArn"]);
    out["tags"] = tags == core_.state.tags.end() ? json::array() : tags->second;
  }
  return out;
}

ApiResult ControlPlane::ListTaskDefinitions(const json& r) {
  const std::string prefix = r.value("familyPrefix", "");
  const std::string status = r.value("status", "ACTIVE");
  const bool descending = r.value("sort", "ASC") == "DESC";
  const int max_results = IntField(r, "maxResults", kListPage);
  if (max_results < 1 || max_results > kListPage) {
    return tl::unexpected(InvalidParameter("maxResults must be between 1 and 100."));
  }
  // A page continues after the revision its token names, in the same order, so revisions
  // registered or deregistered between pages never shift the rest.
  std::optional<std::pair<std::string, int>> after;
  if (r.contains("nextToken")) {
    after = RevisionRef(r.value("nextToken", ""));
    if (!after) return tl::unexpected(InvalidParameter("The nextToken is not valid."));
  }
  std::vector<const json*> matched;  // in (family, revision) order
  for (const auto& [family, revisions] : core_.state.task_definitions) {
    if (!prefix.empty() && family != prefix) continue;
    for (const auto& td : revisions) {
      if (td.value("status", "") == status) matched.push_back(&td);
    }
  }
  if (descending) std::reverse(matched.begin(), matched.end());
  json arns = json::array();
  json out = json::object();
  std::pair<std::string, int> last;
  for (const json* td : matched) {
    const std::pair<std::string, int> key{td->value("family", ""), td->value("revision", 0)};
    if (after && (descending ? key >= *after : key <= *after)) continue;
    if (static_cast<int>(arns.size()) == max_results) {
      out["nextToken"] = TaskDefinitionKey(last.first, last.second);
      break;
    }
    arns.push_back(td->value("taskDefinitionArn", ""));
    last = key;
  }
  out["taskDefinitionArns"] = std::move(arns);
  return out;
}

ApiResult ControlPlane::DeregisterTaskDefinition(const json& r) {
  const std::string ref = r.value("taskDefinition", "");
  if (!RevisionRef(ref)) {
    return tl::unexpected(ClientError("A revision is required: name the task definition as family:revision or by its full ARN."));
  }
  json* found = MutableTaskDefinition(ref);
  if (found == nullptr) return tl::unexpected(ClientError("The specified task definition does not exist."));
  json& td = *found;
  if (td.value("status", "") == "DELETE_IN_PROGRESS") {
    return tl::unexpected(ClientError("The specified task definition is being deleted."));
  }
  if (td.value("status", "") == "ACTIVE") {
    // Tasks and services that use it go on running; only new uses are refused (Usable()).
    td["status"] = "INACTIVE";
    td["deregisteredAt"] = Now();
    core_.Touch(ObjectKind::kTaskDefinition, TaskDefinitionKey(td.value("family", ""), td.value("revision", 0)));
  }
  return json{{"taskDefinition", td}};
}

ApiResult ControlPlane::DeleteTaskDefinitions(const json& r) {
  const json refs = r.value("taskDefinitions", json::array());
  if (!refs.is_array() || refs.empty() || refs.size() > kDeleteBatch) {
    return tl::unexpected(InvalidParameter("taskDefinitions must name 1 to 10 task definition revisions."));
  }
  json out{{"taskDefinitions", json::array()}, {"failures", json::array()}};
  for (const auto& item : refs) {
    const std::string ref = item.is_string() ? item.get<std::string>() : "";
    json* found = RevisionRef(ref) ? MutableTaskDefinition(ref) : nullptr;
    if (found == nullptr) {
      out["failures"].push_back({{"arn", ref}, {"reason", "TASK_DEFINITION_NOT_FOUND"},
                                 {"detail", "The specified task definition does not exist."}});
      continue;
    }
    json& td = *found;
    if (td.value("status", "") == "ACTIVE") {
      out["failures"].push_back({{"arn", td.value("taskDefinitionArn", ref)}, {"reason", "TASK_DEFINITION_IS_ACTIVE"},
                                 {"detail", "The specified task definition is still in ACTIVE status. Please "
                                            "deregister the target task definition before deleting."}});
      continue;
    }
    if (td.value("status", "") == "INACTIVE") {
      td["status"] = "DELETE_IN_PROGRESS";
      td["deleteRequestedAt"] = Now();
      core_.Touch(ObjectKind::kTaskDefinition, TaskDefinitionKey(td.value("family", ""), td.value("revision", 0)));
    }
    out["taskDefinitions"].push_back(td);
  }
  return out;
}

}  // namespace slipway::engine
