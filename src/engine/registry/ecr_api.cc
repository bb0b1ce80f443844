// ECR's repository, authorization and tagging operations, and the dispatch of every operation.
// The image operations are in ecr_images.cc.
#include "engine/registry/ecr_api.h"

#include <algorithm>
#include <map>

#include "engine/registry/ecr_rules.h"
#include "engine/registry/registry_storage.h"

namespace slipway::engine {

using nlohmann::json;

namespace {

/// ECR's quotas: repositories per registry, tags per resource, and page sizes.
constexpr int64_t kMaxRepositories = 10'000;
constexpr size_t kMaxResourceTags = 50;
constexpr int kDefaultPage = 100;
/// An authorization token is valid for 12 hours.
constexpr double kTokenLifetimeSeconds = 12 * 3600;

ApiError InvalidParameter(const std::string& message) { return {"InvalidParameterException", message, 400}; }

ApiError ServerError(const std::string& message) { return {"ServerException", message, 500}; }

ApiError InvalidTag(const std::string& message) { return {"InvalidTagParameterException", message, 400}; }

// Resource tags as ECR checks them: keys 1-128 characters and not "aws:", values up to 256.
tl::expected<std::vector<std::pair<std::string, std::string>>, ApiError> ReadTags(const json& list) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!list.is_array()) return out;
  for (const auto& t : list) {
    const std::string key = t.value("Key", ""), value = t.value("Value", "");
    if (key.empty() || key.size() > 128) return tl::unexpected(InvalidTag("Tag keys must be 1 to 128 characters long."));
    if (value.size() > 256) return tl::unexpected(InvalidTag("Tag values may be at most 256 characters long."));
    if (key.rfind("aws:", 0) == 0) return tl::unexpected(InvalidTag("Tag keys may not begin with 'aws:'."));
    out.emplace_back(key, value);
  }
  return out;
}

// `tags` with `more` set on top: a key already there takes the new value.
std::vector<std::pair<std::string, std::string>> Merge(std::vector<std::pair<std::string, std::string>> tags,
                                                       const std::vector<std::pair<std::string, std::string>>& more) {
  for (const auto& tag : more) {
    // (Not a structured binding: clang 14, which builds the fuzz targets, cannot capture one.)
    auto it = std::find_if(tags.begin(), tags.end(), [&tag](const auto& t) { return t.first == tag.first; });
    if (it != tags.end()) it->second = tag.second;
    else tags.push_back(tag);
  }
  return tags;
}

json TagsJson(const std::vector<std::pair<std::string, std::string>>& tags) {
  json out = json::array();
  for (const auto& [k, v] : tags) out.push_back({{"Key", k}, {"Value", v}});
  return out;
}

}  // namespace

tl::expected<size_t, ApiError> PageStart(const json& r) {
  const std::string token = r.value("nextToken", "");
  if (token.empty()) return 0;
  if (token.size() > 9 || token.find_first_not_of("0123456789") != std::string::npos) {
    return tl::unexpected(InvalidParameter("Invalid parameter at 'nextToken' failed to satisfy constraint: "
                                           "'Invalid NextToken'"));
  }
  return static_cast<size_t>(std::stoul(token));
}

int PageSize(const json& r) { return std::clamp(IntField(r, "maxResults", kDefaultPage), 1, 1000); }

Result<std::unique_ptr<EcrService>> EcrService::Open(const std::string& db_path, Registry& registry,
                                                     std::string region, std::string account) {
  auto repos = RepositoryStore::Open(db_path);
  if (!repos) return tl::unexpected(repos.error());
  return std::unique_ptr<EcrService>(
      new EcrService(std::move(*repos), registry, std::move(region), std::move(account)));
}

EcrService::EcrService(std::unique_ptr<RepositoryStore> repos, Registry& registry, std::string region,
                       std::string account)
    : repos_(std::move(repos)),
      registry_(registry),
      client_(http_, registry.Endpoint(), registry.Password()),
      region_(std::move(region)),
      account_(std::move(account)) {}

ApiResult EcrService::Handle(const std::string& op, const json& r, double now) {
  using Handler = ApiResult (EcrService::*)(const json&, double);
  static const std::map<std::string, Handler> kOps = {
      {"CreateRepository", &EcrService::CreateRepository},
      {"DescribeRepositories", &EcrService::DescribeRepositories},
      {"DeleteRepository", &EcrService::DeleteRepository},
      {"GetAuthorizationToken", &EcrService::GetAuthorizationToken},
      {"DescribeImages", &EcrService::DescribeImages},
      {"ListImages", &EcrService::ListImages},
      {"BatchGetImage", &EcrService::BatchGetImage},
      {"BatchDeleteImage", &EcrService::BatchDeleteImage},
      {"TagResource", &EcrService::TagResource},
      {"UntagResource", &EcrService::UntagResource},
      {"ListTagsForResource", &EcrService::ListTagsForResource},
  };
  auto it = kOps.find(op);
  if (it == kOps.end()) {
    return tl::unexpected(ApiError{"UnknownOperationException", "The engine does not implement ECR operation " + op + ".",
                                   400});
  }
  // Without its registry ECR can store nothing: every operation says why, and how to fix it. As
  // HTTP 400, not ECR's usual 500 for a ServerException: nothing changes until someone acts, and
  // clients retry a 500 for seconds before they show the message.
  if (auto up = registry_.Available(); !up) {
    return tl::unexpected(ApiError{"ServerException", up.error().message, 400});
  }
  std::lock_guard lock(mu_);
  try {
    return (this->*it->second)(r, now);
  } catch (const json::exception&) {  // last resort, as in LogService::Handle: no library text
    return tl::unexpected(ApiError{"SerializationException", "A member of the request has an unexpected type.", 400});
  }
}

json EcrService::RepositoryJson(const RepositoryRecord& r) const {
  return {{"repositoryArn", RepositoryArn(region_, account_, r.name)},
          {"registryId", account_},
          {"repositoryName", r.name},
          {"repositoryUri", registry_.Endpoint() + "/" + r.name},
          {"createdAt", r.created_at},
          {"imageTagMutability", r.tag_mutability},
          {"imageScanningConfiguration", {{"scanOnPush", false}}},
          {"encryptionConfiguration", {{"encryptionType", "AES256"}}}};
}

ApiError EcrService::NotFound(const std::string& name) const {
  return {"RepositoryNotFoundException",
          "The repository with name '" + name + "' does not exist in the registry with id '" + account_ + "'", 400};
}

tl::expected<RepositoryRecord, ApiError> EcrService::ExistingRepository(const json& r) {
  if (r.contains("registryId") && r["registryId"] != account_) {
    return tl::unexpected(InvalidParameter("The engine serves one registry, with id '" + account_ + "'."));
  }
  const std::string name = r.value("repositoryName", "");
  auto found = repos_->Find(name);
  if (!found) return tl::unexpected(ServerError(found.error().message));
  if (!*found) return tl::unexpected(NotFound(name));
  return std::move(**found);
}

tl::expected<RepositoryRecord, ApiError> EcrService::RepositoryByArn(const json& r) {
  const std::string arn = r.value("resourceArn", "");
  auto name = RepositoryFromArn(arn, region_, account_);
  if (!name) {
    return tl::unexpected(InvalidParameter("Invalid parameter at 'resourceArn' failed to satisfy constraint: "
                                           "'Invalid ARN'"));
  }
  return ExistingRepository({{"repositoryName", *name}});
}

ApiResult EcrService::CreateRepository(const json& r, double now) {
  if (r.contains("registryId") && r["registryId"] != account_) {
    return tl::unexpected(InvalidParameter("The engine serves one registry, with id '" + account_ + "'."));
  }
  RepositoryRecord rec;
  rec.name = r.value("repositoryName", "");
  rec.created_at = now;
  // The model's pattern has been checked; this one also keeps the name a safe relative path.
  if (!ValidRepositoryName(rec.name)) {
    return tl::unexpected(InvalidParameter("Invalid parameter at 'repositoryName' failed to satisfy constraint: "
                                           "'must satisfy regular expression "
                                           "'(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''"));
  }
  rec.tag_mutability = r.value("imageTagMutability", "MUTABLE");
  if (rec.tag_mutability != "MUTABLE" && rec.tag_mutability != "IMMUTABLE") {
    return tl::unexpected(InvalidParameter("The engine supports imageTagMutability MUTABLE and IMMUTABLE only."));
  }
  auto tags = ReadTags(r.value("tags", json::array()));
  if (!tags) return tl::unexpected(tags.error());
  if (tags->size() > kMaxResourceTags) {
    return tl::unexpected(ApiError{"TooManyTagsException", "A repository may have at most 50 tags.", 400});
  }
  rec.tags = Merge({}, *tags);
  auto count = repos_->Count();
  if (!count) return tl::unexpected(ServerError(count.error().message));
  if (*count >= kMaxRepositories) {
    return tl::unexpected(ApiError{"LimitExceededException",
                                   "The registry holds the most repositories it may (" +
                                       std::to_string(kMaxRepositories) + ").",
                                   400});
  }
  auto inserted = repos_->Insert(rec);
  if (!inserted) return tl::unexpected(ServerError(inserted.error().message));
  if (!*inserted) {
    return tl::unexpected(ApiError{"RepositoryAlreadyExistsException",
                                   "The repository with name '" + rec.name +
                                       "' already exists in the registry with id '" + account_ + "'",
                                   400});
  }
  return json{{"repository", RepositoryJson(rec)}};
}

ApiResult EcrService::DescribeRepositories(const json& r, double) {
  if (r.contains("registryId") && r["registryId"] != account_) {
    return tl::unexpected(InvalidParameter("The engine serves one registry, with id '" + account_ + "'."));
  }
  json out{{"repositories", json::array()}};
  if (r.contains("repositoryNames")) {
    if (r.contains("maxResults") || r.contains("nextToken")) {
      return tl::unexpected(InvalidParameter("maxResults and nextToken cannot be used with repositoryNames."));
    }
    for (const auto& name : r["repositoryNames"]) {
      auto repo = ExistingRepository({{"repositoryName", name}});
      if (!repo) return tl::unexpected(repo.error());
      out["repositories"].push_back(RepositoryJson(*repo));
    }
    return out;
  }
  auto start = PageStart(r);
  if (!start) return tl::unexpected(start.error());
  const size_t size = static_cast<size_t>(PageSize(r));
  auto all = repos_->All();
  if (!all) return tl::unexpected(ServerError(all.error().message));
  for (size_t i = *start; i < all->size() && i < *start + size; ++i) out["repositories"].push_back(RepositoryJson((*all)[i]));
  if (*start + size < all->size()) out["nextToken"] = std::to_string(*start + size);
  return out;
}

ApiResult EcrService::DeleteRepository(const json& r, double) {
  auto repo = ExistingRepository(r);
  if (!repo) return tl::unexpected(repo.error());
  auto writable = registry_.HoldWritable();
  auto images = Inventory(repo->name);
  if (!images) return tl::unexpected(images.error());
  if (!images->empty() && !r.value("force", false)) {
    return tl::unexpected(ApiError{"RepositoryNotEmptyException",
                                   "The repository with name '" + repo->name + "' in registry with id '" + account_ +
                                       "' cannot be deleted because it still contains images",
                                   400});
  }
  for (const auto& image : *images) {
    if (auto d = client_.DeleteManifest(repo->name, image.digest); !d) return tl::unexpected(ServerError(d.error().message));
  }
  auto erased = repos_->Erase(repo->name);
  if (!erased) return tl::unexpected(ServerError(erased.error().message));
  // The repository's directory and its blobs go at the next collection, in the read-only window.
  registry_.CollectGarbage({repo->name});
  return json{{"repository", RepositoryJson(*repo)}};
}

ApiResult EcrService::GetAuthorizationToken(const json& r, double now) {
  json data = json::array();
  const json ids = r.value("registryIds", json::array({account_}));
  for (const auto& id : ids) {
    if (id != account_) {
      return tl::unexpected(InvalidParameter("The engine serves one registry, with id '" + account_ + "'."));
    }
    data.push_back({{"authorizationToken", AuthorizationToken(registry_.Password())},
                    {"expiresAt", now + kTokenLifetimeSeconds},
                    {"proxyEndpoint", "http://" + registry_.Endpoint()}});
  }
  return json{{"authorizationData", data}};
}

ApiResult EcrService::TagResource(const json& r, double) {
  auto repo = RepositoryByArn(r);
  if (!repo) return tl::unexpected(repo.error());
  auto tags = ReadTags(r.value("tags", json::array()));
  if (!tags) return tl::unexpected(tags.error());
  auto merged = Merge(repo->tags, *tags);
  if (merged.size() > kMaxResourceTags) {
    return tl::unexpected(ApiError{"TooManyTagsException", "A repository may have at most 50 tags.", 400});
  }
  if (auto s = repos_->SetTags(repo->name, merged); !s) return tl::unexpected(ServerError(s.error().message));
  return json::object();
}

ApiResult EcrService::UntagResource(const json& r, double) {
  auto repo = RepositoryByArn(r);
  if (!repo) return tl::unexpected(repo.error());
  const std::vector<std::string> keys = r.value("tagKeys", std::vector<std::string>{});
  auto& tags = repo->tags;
  tags.erase(std::remove_if(tags.begin(), tags.end(),
                            [&keys](const auto& t) { return std::find(keys.begin(), keys.end(), t.first) != keys.end(); }),
             tags.end());
  if (auto s = repos_->SetTags(repo->name, tags); !s) return tl::unexpected(ServerError(s.error().message));
  return json::object();
}

ApiResult EcrService::ListTagsForResource(const json& r, double) {
  auto repo = RepositoryByArn(r);
  if (!repo) return tl::unexpected(repo.error());
  return json{{"tags", TagsJson(repo->tags)}};
}

}  // namespace slipway::engine
