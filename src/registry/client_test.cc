// RegistryClient against a scripted transport: auth (basic and bearer), digests, refusals.
#include "registry/client.h"

#include <gtest/gtest.h>

#include <deque>

#include "base/crypto.h"
#include "registry/resolve.h"

namespace slipway::registry {
namespace {

class ScriptedTransport final : public aws::HttpTransport {
 public:
  std::deque<aws::HttpResponse> replies;
  std::vector<aws::HttpRequest> sent;
  Result<aws::HttpResponse> Send(const aws::HttpRequest& r) override {
    sent.push_back(r);
    if (replies.empty()) return Fail("script ran out");
    auto next = replies.front();
    replies.pop_front();
    return next;
  }
};

std::string HeaderOf(const aws::HttpRequest& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

std::string DigestOf(const std::string& body) { return "sha256:" + Sha256Hex(body); }

const std::string kConfigAmd64 = R"({"architecture":"amd64","os":"linux"})";
const std::string kConfigArm64 = R"({"architecture":"arm64","os":"linux"})";

std::string ManifestFor(const std::string& config) {
  return R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":)"
         R"("application/vnd.oci.image.config.v1+json","digest":")" + DigestOf(config) + R"(","size":1},"layers":[]})";
}

ImageReference Ref(const std::string& image) { return *ParseImageReference(image); }

TEST(RegistryClient, BasicAuthOnLoopbackOverPlainHttpAndTheDigestIsTheBodysHash) {
  ScriptedTransport t;
  const std::string manifest = ManifestFor(kConfigAmd64);
  t.replies.push_back({200, manifest, {}});
  RegistryClient client(t, [](const std::string& registry) -> std::optional<Credentials> {
    if (registry == "127.0.0.1:5000") return Credentials{"AWS", "pw"};
    return std::nullopt;
  });
  auto m = client.GetManifest(Ref("127.0.0.1:5000/shop/api:v1"), "v1");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->digest, DigestOf(manifest));
  ASSERT_EQ(t.sent.size(), 1u);
  EXPECT_EQ(t.sent[0].url, "http://127.0.0.1:5000/v2/shop/api/manifests/v1");
  EXPECT_EQ(HeaderOf(t.sent[0], "Authorization"), "Basic QVdTOnB3");
  EXPECT_NE(HeaderOf(t.sent[0], "Accept").find("application/vnd.oci.image.index.v1+json"), std::string::npos);
  EXPECT_NE(HeaderOf(t.sent[0], "Accept").find("application/vnd.docker.distribution.manifest.v2+json"), std::string::npos);
  EXPECT_GT(t.sent[0].max_response_bytes, 0u);
}

TEST(RegistryClient, AnswersABearerChallengeWithAPullToken) {
  ScriptedTransport t;
  const std::string manifest = ManifestFor(kConfigAmd64);
  t.replies.push_back({401, "", {{"www-authenticate",
                                  R"(Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="x")"}}});
  t.replies.push_back({200, R"({"token":"tok"})", {}});
  t.replies.push_back({200, manifest, {}});
  t.replies.push_back({200, kConfigAmd64, {}});  // the token is reused for the config blob
  RegistryClient client(t, [](const std::string&) { return std::nullopt; });
  auto r = ResolveImage(client, Ref("nginx:1.27"), {"linux", "amd64", ""});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->pinned, "nginx@" + DigestOf(manifest));
  ASSERT_EQ(t.sent.size(), 4u);
  EXPECT_EQ(t.sent[0].url, "https://registry-1.docker.io/v2/library/nginx/manifests/1.27");
  EXPECT_EQ(t.sent[1].url,
            "https://auth.example.com/token?scope=repository%3Alibrary%2Fnginx%3Apull&service=registry.example.com");
  EXPECT_EQ(HeaderOf(t.sent[2], "Authorization"), "Bearer tok");
  EXPECT_EQ(t.sent[3].url, "https://registry-1.docker.io/v2/library/nginx/blobs/" + DigestOf(kConfigAmd64));
  EXPECT_EQ(HeaderOf(t.sent[3], "Authorization"), "Bearer tok");
}

TEST(RegistryClient, RefusesBytesThatAreNotWhatTheDigestNames) {
  ScriptedTransport t;
  const std::string manifest = ManifestFor(kConfigAmd64);
  t.replies.push_back({200, manifest + " ", {}});
  RegistryClient client(t, [](const std::string&) { return std::nullopt; });
  auto m = client.GetManifest(Ref("127.0.0.1:5000/a@" + DigestOf(manifest)), DigestOf(manifest));
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message.find("whose digest is"), std::string::npos) << m.error().message;
  t.replies.push_back({200, kConfigArm64, {}});
  auto b = client.GetBlob(Ref("127.0.0.1:5000/a:v1"), DigestOf(kConfigAmd64));
  ASSERT_FALSE(b);
  EXPECT_NE(b.error().message.find("another digest"), std::string::npos) << b.error().message;
}

TEST(RegistryClient, NamesMissingImagesAndRefusedAccess) {
  ScriptedTransport t;
  t.replies.push_back({404, R"({"errors":[{"code":"MANIFEST_UNKNOWN"}]})", {}});
  t.replies.push_back({401, "", {{"www-authenticate", R"(Basic realm="slipway")"}}});
  RegistryClient client(t, [](const std::string&) { return std::nullopt; });
  auto missing = client.GetManifest(Ref("127.0.0.1:5000/shop/api:v9"), "v9");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "127.0.0.1:5000/shop/api:v9: not found in 127.0.0.1:5000");
  auto refused = client.GetManifest(Ref("127.0.0.1:5000/shop/api:v1"), "v1");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("authentication required"), std::string::npos) << refused.error().message;
}

TEST(ResolveImage, ASingleArchImageForAnotherPlatformIsAMismatchThatNamesBoth) {
  ScriptedTransport t;
  t.replies.push_back({200, ManifestFor(kConfigArm64), {}});
  t.replies.push_back({200, kConfigArm64, {}});
  RegistryClient client(t, [](const std::string&) { return std::nullopt; });
  auto r = ResolveImage(client, Ref("127.0.0.1:5000/tool:arm"), {"linux", "amd64", ""});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, kPlatformMismatch);
  EXPECT_NE(r.error().message.find("127.0.0.1:5000/tool:arm is built for linux/arm64"), std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("needs linux/amd64"), std::string::npos) << r.error().message;
}

TEST(ChallengeParam, ReadsQuotedParametersByWholeName) {
  const std::string c = R"(Bearer realm="https://a/token",service="reg",xservice="no")";
  EXPECT_EQ(ChallengeParam(c, "realm"), "https://a/token");
  EXPECT_EQ(ChallengeParam(c, "service"), "reg");
  EXPECT_EQ(ChallengeParam(c, "scope"), "");
  EXPECT_EQ(ChallengeParam(R"(Bearer realm="unterminated)", "realm"), "");
}

}  // namespace
}  // namespace slipway::registry
