// Distribution API calls with bounded replies: the registry holds whatever pushers sent.
#include "engine/registry/registry_client.h"

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "engine/registry/ecr_rules.h"
#include "engine/registry/manifest.h"

namespace slipway::engine {

namespace {

constexpr std::chrono::milliseconds kRetryFor{10'000};
constexpr std::chrono::milliseconds kRetryInterval{50};
constexpr int kTagPage = 1000;

Error RegistryError(const std::string& what, const aws::HttpResponse& r) {
  return Error{what + ": the registry answered HTTP " + std::to_string(r.status), "ServerException"};
}

}  // namespace

RegistryClient::RegistryClient(aws::HttpTransport& http, std::string endpoint, const std::string& password)
    : http_(http), base_url_("http://" + std::move(endpoint) + "/v2/"),
      authorization_("Basic " + Base64Encode("AWS:" + password)) {}

Result<aws::HttpResponse> RegistryClient::Send(aws::HttpRequest request) {
  request.headers.emplace_back("Authorization", authorization_);
  request.timeout_ms = 30'000;
  const auto deadline = std::chrono::steady_clock::now() + kRetryFor;
  while (true) {
    auto r = http_.Send(request);
    if (r || r.error().code != aws::kTransportNotSent || std::chrono::steady_clock::now() >= deadline) {
      if (!r) return Fail("the image registry did not answer: " + r.error().message, "ServerException");
      return r;
    }
    std::this_thread::sleep_for(kRetryInterval);
  }
}

Result<std::vector<std::string>> RegistryClient::Tags(const std::string& repo) {
  std::vector<std::string> tags;
  std::string last;
  while (tags.size() < kMaxTagsPerRepository) {
    std::string url = base_url_ + repo + "/tags/list?n=" + std::to_string(kTagPage);
    if (!last.empty()) url += "&last=" + last;  // a valid tag needs no escaping
    auto r = Send({.method = "GET", .url = url});
    if (!r) return tl::unexpected(r.error());
    if (r->status == 404) return tags;
    if (r->status != 200) return tl::unexpected(RegistryError("list tags of " + repo, *r));
    const auto doc = nlohmann::json::parse(r->body, nullptr, false);
    const auto page = doc.is_object() ? doc.value("tags", nlohmann::json()) : nlohmann::json();
    if (!page.is_array() || page.empty()) return tags;
    for (const auto& tag : page) {
      if (!tag.is_string() || !ValidImageTag(tag.get<std::string>())) continue;
      tags.push_back(tag.get<std::string>());
    }
    if (page.size() < static_cast<size_t>(kTagPage) || tags.empty() || tags.back() == last) return tags;
    last = tags.back();
  }
  tags.resize(kMaxTagsPerRepository);
  return tags;
}

Result<std::optional<std::string>> RegistryClient::Manifest(const std::string& repo, const std::string& reference,
                                                            const std::string& accept) {
  auto r = Send({.method = "GET", .url = base_url_ + repo + "/manifests/" + reference, .headers = {{"Accept", accept}}});
  if (!r) return tl::unexpected(r.error());
  if (r->status == 404) return std::nullopt;
  if (r->status != 200) return tl::unexpected(RegistryError("get manifest " + reference + " of " + repo, *r));
  if (r->body.size() > kMaxManifestBytes) return Fail("manifest " + reference + " of " + repo + " is larger than 4 MiB");
  return std::optional<std::string>(std::move(r->body));
}

Result<bool> RegistryClient::DeleteManifest(const std::string& repo, const std::string& digest) {
  auto r = Send({.method = "DELETE", .url = base_url_ + repo + "/manifests/" + digest});
  if (!r) return tl::unexpected(r.error());
  if (r->status == 404) return false;
  if (r->status != 202) return tl::unexpected(RegistryError("delete manifest " + digest + " of " + repo, *r));
  return true;
}

}  // namespace slipway::engine
