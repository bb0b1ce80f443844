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

TEST(SigV4, SignAddsDateAndAuthorizationThatVerifyAccepts) {
  WallTime when;
  ASSERT_TRUE(ParseAmzDate("20150830T123600Z", &when));
  SignableRequest req{"POST", "/", "", {{"Host", "127.0.0.1:4580"}}, "{}"};
  Sign(req, kCreds, {"us-east-1", "ecs"}, when);
  EXPECT_EQ(req.Header("X-Amz-Date"), "20150830T123600Z");
  EXPECT_TRUE(Verify(req, kCreds, when + std::chrono::minutes(1)));
}

TEST(SigV4, VerifyRejectsTamperedBodyUnknownKeyMissingHeaderAndSkew) {
  WallTime when;
  ASSERT_TRUE(ParseAmzDate("20150830T123600Z", &when));
  SignableRequest req{"POST", "/", "", {{"Host", "h"}}, "{}"};
  Sign(req, kCreds, {"us-east-1", "ecs"}, when);

  SignableRequest tampered = req;
  tampered.body = "{\"x\":1}";
  EXPECT_EQ(Verify(tampered, kCreds, when).error().code, "InvalidSignatureException");

  Credentials other = kCreds;
  other.access_key_id = "AKIDOTHER";
  EXPECT_EQ(Verify(req, other, when).error().code, "UnrecognizedClientException");

  SignableRequest unsigned_req{"POST", "/", "", {{"Host", "h"}}, "{}"};
  EXPECT_EQ(Verify(unsigned_req, kCreds, when).error().code,
            "MissingAuthenticationTokenException");

  EXPECT_EQ(Verify(req, kCreds, when + std::chrono::minutes(16)).error().code,
            "InvalidSignatureException");
}

}  // namespace
}  // namespace slipway::aws
