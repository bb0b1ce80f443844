// Runs the signer over every case of the AWS SigV4 test suite (tests/testdata/sigv4).
#include "aws/sigv4.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/crypto.h"
#include "base/strings.h"

namespace slipway::aws {
namespace {

namespace fs = std::filesystem;

const Credentials kCreds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
const SigningScope kScope{"us-east-1", "service"};

std::string ReadFile(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Parses a suite .req file: request line, headers (folded lines continue a value), body.
SignableRequest ParseReq(const std::string& text) {
  SignableRequest req;
  size_t pos = text.find('\n');
  std::string line = text.substr(0, pos);
  size_t sp = line.find(' ');
  req.method = line.substr(0, sp);
  std::string target = line.substr(sp + 1, line.rfind(" HTTP/") - sp - 1);
  size_t q = target.find('?');
  req.path = target.substr(0, q);
  if (q != std::string::npos) req.query = target.substr(q + 1);
  while (pos != std::string::npos && pos + 1 <= text.size()) {
    size_t next = text.find('\n', pos + 1);
    line = text.substr(pos + 1, next == std::string::npos ? std::string::npos : next - pos - 1);
    pos = next;
    if (line.empty()) {
      if (pos != std::string::npos) req.body = text.substr(pos + 1);
      break;
    }
    if (line[0] == ' ' || line[0] == '\t') {
      req.headers.back().second += " " + Trim(line);
      continue;
    }
    size_t colon = line.find(':');
    req.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  return req;
}

std::vector<fs::path> Cases() {
  std::vector<fs::path> out;
  // CTest sets SLIPWAY_TESTDATA; run by hand, the tree's own copy is used.
  const char* testdata = std::getenv("SLIPWAY_TESTDATA");
  fs::path root = fs::path(testdata ? testdata : SLIPWAY_SOURCE_DIR "/tests/testdata") / "sigv4";
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.path().extension() == ".req") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(SigV4, SuiteHasAllCases) { EXPECT_GE(Cases().size(), 33u); }

// The suite's session token, when a case signs one (it is in the .creq, not the .req).
std::string TokenIn(const std::string& creq) {
  const std::string key = "\nx-amz-security-token:";
  size_t at = creq.find(key);
  if (at == std::string::npos) return "";
  size_t start = at + key.size();
  return creq.substr(start, creq.find('\n', start) - start);
}

TEST(SigV4, EveryCaseProducesTheExpectedCanonicalRequestStringToSignAndAuthorization) {
  WallTime when;
  ASSERT_TRUE(ParseAmzDate("20150830T123600Z", &when));
  for (const auto& req_path : Cases()) {
    SCOPED_TRACE(req_path.string());
    fs::path base = req_path;
    base.replace_extension();
    const std::string expected_creq = ReadFile(base.string() + ".creq");
    SignableRequest req = ParseReq(ReadFile(req_path));
    // Given the suite's request without its date: Sign() adds the date and any token itself.
    std::erase_if(req.headers, [](const auto& h) {
      return Lower(h.first) == "x-amz-date" || Lower(h.first) == "x-amz-security-token";
    });
    Credentials creds = kCreds;
    creds.session_token = TokenIn(expected_creq);
    Sign(req, creds, kScope, when);

    std::vector<std::string> names = SortedHeaderNames(req);
    std::erase(names, "authorization");
    std::string creq = CanonicalRequest(req, names, Sha256Hex(req.body));
    EXPECT_EQ(creq, expected_creq);
    EXPECT_EQ(StringToSign(creq, "20150830T123600Z", kScope), ReadFile(base.string() + ".sts"));
    EXPECT_EQ(req.Header("Authorization"), ReadFile(base.string() + ".authz"));
  }
}

const SigningScope kEcs{"us-east-1", "ecs"};

WallTime SignedAt() {
  WallTime when;
  EXPECT_TRUE(ParseAmzDate("20150830T123600Z", &when));
  return when;
}

// A TagResource call as an ECS client sends it, before signing.
SignableRequest TagResource() {
  return {"POST",
          "/",
          "",
          {{"Host", "127.0.0.1:4580"},
           {"Content-Type", "application/x-amz-json-1.1"},
           {"X-Amz-Target", "AmazonEC2ContainerServiceV20141113.TagResource"}},
          R"({"resourceArn":"arn:aws:ecs:us-east-1:000000000000:cluster/demo","tags":[]})"};
}

// Signs as a client would, but over `signed_headers` only and with `payload_hash` in the
// canonical request: the requests Sign() never produces, which Verify must still judge.
void SignAs(SignableRequest& req, const SigningScope& scope, WallTime when,
            const std::vector<std::string>& signed_headers, const std::string& payload_hash) {
  const std::string amz_date = AmzDate(when);
  req.headers.emplace_back("X-Amz-Date", amz_date);
  std::string creq = CanonicalRequest(req, signed_headers, payload_hash);
  std::string sig =
      Signature(kCreds.secret_access_key, amz_date, scope, StringToSign(creq, amz_date, scope));
  req.headers.emplace_back("Authorization",
                           "AWS4-HMAC-SHA256 Credential=" + kCreds.access_key_id + "/" +
                               amz_date.substr(0, 8) + "/" + scope.region + "/" + scope.service +
                               "/aws4_request, SignedHeaders=" + Join(signed_headers, ";") +
                               ", Signature=" + sig);
}

// Why `verdict` refused the request; the test fails if it was accepted.
AuthFailure Refusal(const tl::expected<void, AuthFailure>& verdict) {
  if (verdict) {
    ADD_FAILURE() << "the request was accepted";
    return {AuthError::kMissingAuthentication, "(accepted)"};
  }
  return verdict.error();
}

TEST(SigV4, SignAddsDateAndAuthorizationThatVerifyAccepts) {
  SignableRequest req{"POST", "/", "", {{"Host", "127.0.0.1:4580"}}, "{}"};
  Sign(req, kCreds, kEcs, SignedAt());
  EXPECT_EQ(req.Header("X-Amz-Date"), "20150830T123600Z");
  EXPECT_TRUE(Verify(req, kCreds, kEcs, SignedAt() + std::chrono::minutes(1)));
}

TEST(SigV4, VerifyRefusesATamperedBodyAnUnknownKeyAndAMissingAuthorization) {
  SignableRequest req = TagResource();
  Sign(req, kCreds, kEcs, SignedAt());
  ASSERT_TRUE(Verify(req, kCreds, kEcs, SignedAt()));

  SignableRequest tampered = req;
  tampered.body = "{\"x\":1}";
  EXPECT_EQ(Refusal(Verify(tampered, kCreds, kEcs, SignedAt())).error,
            AuthError::kSignatureMismatch);

  Credentials other = kCreds;
  other.access_key_id = "AKIDOTHER";
  EXPECT_EQ(Refusal(Verify(req, other, kEcs, SignedAt())).error, AuthError::kUnknownAccessKey);

  EXPECT_EQ(Refusal(Verify(TagResource(), kCreds, kEcs, SignedAt())).error,
            AuthError::kMissingAuthentication);
}

TEST(SigV4, VerifyRefusesASwappedBodyUnderTheOriginalBodysSignedContentHash) {
  // Given a captured request that signed X-Amz-Content-Sha256 with its body's hash.
  SignableRequest captured = TagResource();
  captured.headers.emplace_back("X-Amz-Content-Sha256", Sha256Hex(captured.body));
  Sign(captured, kCreds, kEcs, SignedAt());
  EXPECT_TRUE(Verify(captured, kCreds, kEcs, SignedAt()));
  // When its body is swapped and the header kept, the body's own hash decides.
  SignableRequest forged = captured;
  forged.body = R"({"resourceArn":"arn:aws:ecs:us-east-1:000000000000:cluster/prod","tags":[]})";
  auto verdict = Refusal(Verify(forged, kCreds, kEcs, SignedAt()));
  EXPECT_EQ(verdict.error, AuthError::kContentHashMismatch);
  EXPECT_EQ(verdict.message,
            "The provided 'x-amz-content-sha256' header does not match what was computed.");
}

TEST(SigV4, VerifyRefusesAContentHashHeaderAddedAfterSigning) {
  SignableRequest req = TagResource();
  const std::string original_hash = Sha256Hex(req.body);
  Sign(req, kCreds, kEcs, SignedAt());
  EXPECT_TRUE(Verify(req, kCreds, kEcs, SignedAt()));
  // Given the header added unsigned, with or without a swapped body.
  SignableRequest forged = req;
  forged.headers.emplace_back("X-Amz-Content-Sha256", original_hash);
  EXPECT_EQ(Refusal(Verify(forged, kCreds, kEcs, SignedAt())).error, AuthError::kSignatureMismatch);
  forged.body = "{}";
  auto verdict = Refusal(Verify(forged, kCreds, kEcs, SignedAt()));
  EXPECT_EQ(verdict.error, AuthError::kSignatureMismatch);
  EXPECT_NE(verdict.message.find("not signed: x-amz-content-sha256"), std::string::npos);
}

TEST(SigV4, VerifyRefusesUnsignedPayloadWhichOnlyS3Honours) {
  // Given a request signed the S3 way: UNSIGNED-PAYLOAD in the header and the canonical request.
  SignableRequest req = TagResource();
  req.headers.emplace_back("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD");
  SignAs(req, kEcs, SignedAt(),
         {"content-type", "host", "x-amz-content-sha256", "x-amz-date", "x-amz-target"},
         "UNSIGNED-PAYLOAD");
  EXPECT_EQ(Refusal(Verify(req, kCreds, kEcs, SignedAt())).error, AuthError::kContentHashMismatch);
  // The same request signed over its body's hash is accepted.
  SignableRequest good = TagResource();
  good.headers.emplace_back("X-Amz-Content-Sha256", Sha256Hex(good.body));
  SignAs(good, kEcs, SignedAt(),
         {"content-type", "host", "x-amz-content-sha256", "x-amz-date", "x-amz-target"},
         Sha256Hex(good.body));
  EXPECT_TRUE(Verify(good, kCreds, kEcs, SignedAt()));
}

TEST(SigV4, VerifyRefusesACredentialScopedToAnotherRegion) {
  SignableRequest req = TagResource();
  Sign(req, kCreds, {"eu-west-9", "ecs"}, SignedAt());
  auto verdict = Refusal(Verify(req, kCreds, kEcs, SignedAt()));
  EXPECT_EQ(verdict.error, AuthError::kSignatureMismatch);
  EXPECT_EQ(verdict.message, "Credential should be scoped to a valid region, not 'eu-west-9'. ");
  EXPECT_TRUE(Verify(req, kCreds, {"eu-west-9", "ecs"}, SignedAt()));
}

TEST(SigV4, VerifyRefusesACredentialScopedToAnotherService) {
  SignableRequest req = TagResource();
  Sign(req, kCreds, {"us-east-1", "s3"}, SignedAt());
  auto verdict = Refusal(Verify(req, kCreds, kEcs, SignedAt()));
  EXPECT_EQ(verdict.error, AuthError::kSignatureMismatch);
  EXPECT_EQ(verdict.message, "Credential should be scoped to correct service: 'ecs'. ");

  // An ELBv2 call signed for ecs: the endpoint expects elasticloadbalancing.
  SignableRequest elb{"POST",
                      "/",
                      "",
                      {{"Host", "127.0.0.1:4580"}},
                      "Action=DescribeLoadBalancers&Version=2015-12-01"};
  Sign(elb, kCreds, kEcs, SignedAt());
  verdict = Refusal(Verify(elb, kCreds, {"us-east-1", "elasticloadbalancing"}, SignedAt()));
  EXPECT_EQ(verdict.error, AuthError::kSignatureMismatch);
  EXPECT_EQ(verdict.message,
            "Credential should be scoped to correct service: 'elasticloadbalancing'. ");
  EXPECT_TRUE(Verify(elb, kCreds, kEcs, SignedAt()));
}

TEST(SigV4, VerifyRefusesASignatureThatLeavesHostOrDateUnsigned) {
  SignableRequest no_host = TagResource();
  SignAs(no_host, kEcs, SignedAt(), {"content-type", "x-amz-date", "x-amz-target"},
         Sha256Hex(no_host.body));
  EXPECT_EQ(Refusal(Verify(no_host, kCreds, kEcs, SignedAt())).error,
            AuthError::kIncompleteSignature);

  SignableRequest no_date = TagResource();
  SignAs(no_date, kEcs, SignedAt(), {"content-type", "host", "x-amz-target"},
         Sha256Hex(no_date.body));
  EXPECT_EQ(Refusal(Verify(no_date, kCreds, kEcs, SignedAt())).error,
            AuthError::kIncompleteSignature);

  SignableRequest both = TagResource();
  SignAs(both, kEcs, SignedAt(), {"content-type", "host", "x-amz-date", "x-amz-target"},
         Sha256Hex(both.body));
  EXPECT_TRUE(Verify(both, kCreds, kEcs, SignedAt()));
}

TEST(SigV4, VerifyAllowsFifteenMinutesOfClockSkewEitherWay) {
  SignableRequest req = TagResource();
  Sign(req, kCreds, kEcs, SignedAt());
  EXPECT_TRUE(Verify(req, kCreds, kEcs, SignedAt() + std::chrono::minutes(15)));
  EXPECT_TRUE(Verify(req, kCreds, kEcs, SignedAt() - std::chrono::minutes(15)));

  auto late = Refusal(Verify(req, kCreds, kEcs, SignedAt() + std::chrono::minutes(16)));
  EXPECT_EQ(late.error, AuthError::kExpired);
  EXPECT_EQ(late.message,
            "Signature expired: 20150830T123600Z is now earlier than 20150830T123700Z "
            "(20150830T125200Z - 15 min.)");
  auto early = Refusal(Verify(req, kCreds, kEcs, SignedAt() - std::chrono::minutes(16)));
  EXPECT_EQ(early.error, AuthError::kExpired);
}

TEST(SigV4, VerifyRefusesAScopeDateThatIsNotTheRequestDate) {
  SignableRequest req = TagResource();
  Sign(req, kCreds, kEcs, SignedAt());
  for (auto& [name, value] : req.headers) {
    if (name == "Authorization") value.replace(value.find("/20150830/"), 10, "/20150831/");
  }
  auto verdict = Refusal(Verify(req, kCreds, kEcs, SignedAt()));
  EXPECT_EQ(verdict.error, AuthError::kSignatureMismatch);
  EXPECT_EQ(verdict.message,
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
            "HTTP: '20150831' != '20150830', from '20150830T123600Z'.");
}

}  // namespace
}  // namespace slipway::aws
