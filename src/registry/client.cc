// OCI distribution reads: GET /v2/<name>/manifests/<ref> and /v2/<name>/blobs/<digest>.
#include "registry/client.h"

#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "base/strings.h"
#include "registry/manifest.h"

namespace slipway::registry {

namespace {
constexpr size_t kMaxManifestBytes = 4 << 20;  // distribution refuses larger manifests too
constexpr size_t kMaxConfigBytes = 16 << 20;
constexpr size_t kMaxTokenBytes = 1 << 20;
constexpr long kTimeoutMs = 30'000;

std::string BasicAuth(const Credentials& c) { return "Basic " + Base64Encode(c.user + ":" + c.password); }

}  // namespace

std::string ChallengeParam(const std::string& challenge, const std::string& key) {
  const std::string needle = key + "=\"";
  size_t at = 0;
  while ((at = challenge.find(needle, at)) != std::string::npos) {
    // A whole parameter name: at the start of the parameters or after a space or comma.
    if (at == 0 || challenge[at - 1] == ' ' || challenge[at - 1] == ',') {
      const size_t start = at + needle.size();
      const size_t end = challenge.find('"', start);
      return end == std::string::npos ? "" : challenge.substr(start, end - start);
    }
    at += needle.size();
  }
  return "";
}

RegistryClient::RegistryClient(aws::HttpTransport& http, CredentialSource credentials)
    : http_(http), credentials_(std::move(credentials)) {}

Result<std::string> RegistryClient::BearerToken(const ImageReference& image, const std::string& challenge) {
  const std::string realm = ChallengeParam(challenge, "realm");
  if (!realm.starts_with("https://") && !realm.starts_with("http://")) {
    return Fail("its Bearer challenge names no usable realm");
  }
  std::string url = realm + (realm.find('?') == std::string::npos ? "?" : "&") +
                    "scope=" + UriEncode("repository:" + image.repository + ":pull");
  if (const std::string service = ChallengeParam(challenge, "service"); !service.empty()) {
    url += "&service=" + UriEncode(service);
  }
  aws::HttpRequest req{"GET", url, {}, "", kTimeoutMs, kMaxTokenBytes, true};
  if (auto creds = credentials_(image.registry)) req.headers.emplace_back("Authorization", BasicAuth(*creds));
  auto r = http_.Send(req);
  if (!r) return tl::unexpected(r.error());
  if (r->status != 200) return Fail("its token service answered HTTP " + std::to_string(r->status));
  const auto j = nlohmann::json::parse(r->body, nullptr, false);
  for (const char* key : {"token", "access_token"}) {
    if (j.is_object() && j.contains(key) && j[key].is_string()) return j[key].get<std::string>();
  }
  return Fail("its token service answered without a token");
}

Result<aws::HttpResponse> RegistryClient::Get(const ImageReference& image, const std::string& path,
                                              const std::string& accept, size_t max_bytes) {
  const std::string url = std::string(image.Loopback() ? "http://" : "https://") + image.registry + "/v2/" +
                          image.repository + "/" + path;
  const std::string key = image.registry + "/" + image.repository;
  for (int attempt = 0; attempt < 2; ++attempt) {
    aws::HttpRequest req{"GET", url, {}, "", kTimeoutMs, max_bytes, true};
    if (!accept.empty()) req.headers.emplace_back("Accept", accept);
    if (auto token = tokens_.find(key); token != tokens_.end()) {
      req.headers.emplace_back("Authorization", "Bearer " + token->second);
    } else if (auto creds = credentials_(image.registry)) {
      req.headers.emplace_back("Authorization", BasicAuth(*creds));
    }
    auto r = http_.Send(req);
    if (!r) return tl::unexpected(r.error());
    if (r->status != 401 || attempt == 1) return r;
    const std::string challenge = r->Header("www-authenticate");
    if (!challenge.starts_with("Bearer ")) return r;
    auto token = BearerToken(image, challenge);
    if (!token) return Fail(image.registry + ": authentication required, and " + token.error().message);
    tokens_[key] = *token;
  }
  return Fail("unreachable");
}

Result<RegistryClient::Fetched> RegistryClient::GetManifest(const ImageReference& image, const std::string& reference) {
  const std::string what = image.name + (IsSha256Digest(reference) ? "@" : ":") + reference;
  auto r = Get(image, "manifests/" + reference, kManifestAccept, kMaxManifestBytes);
  if (!r) return Fail(what + ": " + r.error().message, r.error().code);
  if (r->status == 401 || r->status == 403) {
    return Fail(what + ": the registry " + image.registry + " refused access (HTTP " + std::to_string(r->status) +
                "): authentication required");
  }
  if (r->status == 404) return Fail(what + ": not found in " + image.registry, "ImageNotFound");
  if (r->status != 200) return Fail(what + ": the registry answered HTTP " + std::to_string(r->status));
  // The digest is the body's own hash; a body fetched by digest must match it.
  Fetched out{r->body, "sha256:" + Sha256Hex(r->body)};
  if (IsSha256Digest(reference) && out.digest != reference) {
    return Fail(what + ": the registry sent a manifest whose digest is " + out.digest);
  }
  return out;
}

Result<std::string> RegistryClient::GetBlob(const ImageReference& image, const std::string& digest) {
  auto r = Get(image, "blobs/" + digest, "", kMaxConfigBytes);
  const std::string what = image.name + " blob " + digest;
  if (!r) return Fail(what + ": " + r.error().message, r.error().code);
  if (r->status != 200) return Fail(what + ": the registry answered HTTP " + std::to_string(r->status));
  if ("sha256:" + Sha256Hex(r->body) != digest) return Fail(what + ": the registry sent bytes of another digest");
  return r->body;
}

}  // namespace slipway::registry
