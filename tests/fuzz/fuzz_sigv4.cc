// Fuzzes SigV4 verification and the whole API front: each input is a request that the target
// signs with the engine's key, optionally tampers with, and sends through ApiFront::Handle.
//
// Input: byte 0 picks a tamper (its value mod 8; '0' is none), byte 1 where it applies, then an
// HTTP/1.1-like request: "METHOD TARGET[ HTTP/1.1]", "Name: value" header lines, an empty line,
// the body. Lines may end in "\r\n" or "\n".
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/strings.h"
#include "fuzz_engine.h"

namespace slipway::fuzz {
namespace {

enum class Tamper {
  kNone,
  kFlipBodyByte,     ///< one byte of the body changed after signing
  kAppendToBody,     ///< bytes appended to the body after signing
  kDropHeader,       ///< a header removed after signing
  kAlterHeader,      ///< a header's value changed after signing
  kChangeMethod,     ///< the method changed after signing
  kChangePath,       ///< the path changed after signing
  kWrongRegion,      ///< signed for another region than the engine's
};
constexpr int kTamperCount = 8;

std::string_view NextLine(std::string_view& in) {
  std::string_view line = TakeLine(in);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

engine::ApiHttpRequest ParseRequest(std::string_view in) {
  engine::ApiHttpRequest r;
  std::string_view start = NextLine(in);
  size_t sp = start.find(' ');
  r.method = std::string(start.substr(0, sp));
  if (sp != std::string_view::npos) {
    std::string_view rest = start.substr(sp + 1);
    r.target = std::string(rest.substr(0, rest.find(' ')));
  }
  while (!in.empty()) {
    std::string_view line = NextLine(in);
    if (line.empty()) break;
    size_t colon = line.find(':');
    std::string_view name = line.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? "" : line.substr(colon + 1);
    r.headers.emplace_back(std::string(name), Trim(value));
  }
  r.body = std::string(in);
  return r;
}

// A header an HTTP parser would accept: a non-empty RFC 9110 token.
bool IsToken(std::string_view name) {
  if (name.empty()) return false;
  for (unsigned char c : name) {
    if (c <= 32 || c >= 127 || std::string_view("\"(),/:;<=>?@[\\]{}").find(static_cast<char>(c)) !=
                                    std::string_view::npos) {
      return false;
    }
  }
  return true;
}

// Whether signing this request as a client would must give a request the verifier accepts: the
// request is well formed and sets none of the headers signing adds or the verifier reads itself.
bool SigningMustSucceed(const engine::ApiHttpRequest& r) {
  if (!IsToken(r.method)) return false;
  for (const auto& [name, value] : r.headers) {
    const std::string lower = Lower(name);
    if (!IsToken(name) || lower == "authorization" || lower == "x-amz-date" ||
        lower == "x-amz-security-token" || lower == "x-amz-content-sha256") {
      return false;
    }
    if (value.find_first_of(std::string_view("\0", 1)) != std::string::npos) return false;
  }
  return true;
}

[[noreturn]] void Fail(const char* what, const engine::ApiHttpResponse& reply) {
  std::fprintf(stderr, "fuzz_sigv4: %s (reply %d: %s)\n", what, reply.status, reply.body.c_str());
  std::abort();
}

// Applies `tamper` at `where`; returns whether the verifier must now refuse the request.
bool ApplyTamper(Tamper tamper, uint8_t where, engine::ApiHttpRequest& r) {
  switch (tamper) {
    case Tamper::kNone:
    case Tamper::kWrongRegion:
      return false;
    case Tamper::kFlipBodyByte:
      if (r.body.empty()) {
        r.body = "{}";
      } else {
        r.body[where % r.body.size()] ^= 0x01;
      }
      return true;
    case Tamper::kAppendToBody:
      r.body += where % 2 ? "&Action=DeleteLoadBalancer" : " ";
      return true;
    case Tamper::kDropHeader: {
      if (r.headers.empty()) return false;
      size_t i = where % r.headers.size();
      const std::string lower = Lower(r.headers[i].first);
      // Every header present was signed. A missing one reads as empty, so dropping a header
      // whose only value is blank leaves the signed text as it was.
      bool changes = !Trim(r.headers[i].second).empty();
      for (size_t j = 0; j < r.headers.size(); ++j) {
        changes = changes || (j != i && Lower(r.headers[j].first) == lower);
      }
      r.headers.erase(r.headers.begin() + static_cast<std::ptrdiff_t>(i));
      return changes;
    }
    case Tamper::kAlterHeader:
      if (r.headers.empty()) return false;
      r.headers[where % r.headers.size()].second += "x";
      return true;
    case Tamper::kChangeMethod:
      r.method = r.method == "GET" ? "POST" : "GET";
      return true;
    case Tamper::kChangePath: {
      size_t q = r.target.find('?');
      r.target.insert(q == std::string::npos ? r.target.size() : q, "x");
      return true;
    }
  }
  return false;
}

}  // namespace
}  // namespace slipway::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace slipway;
  using namespace slipway::fuzz;
  static FuzzEngine engine(/*recycle_every=*/2000);
  if (size < 2) return 0;
  engine.BeginInput();
  const auto tamper = static_cast<Tamper>(data[0] % kTamperCount);
  const uint8_t where = data[1];
  engine::ApiHttpRequest request =
      ParseRequest(std::string_view(reinterpret_cast<const char*>(data) + 2, size - 2));
  const bool must_sign = SigningMustSucceed(request);

  aws::SigningScope scope{kFuzzRegion, SigningServiceFor(request)};
  if (tamper == Tamper::kWrongRegion) scope.region = "eu-west-3";
  SignRequest(request, scope, engine.WallNow());
  const bool must_refuse = ApplyTamper(tamper, where, request) || tamper == Tamper::kWrongRegion;

  // The verifier on its own, scoped as the front scopes this request.
  const aws::SigningScope expected{kFuzzRegion, SigningServiceFor(request)};
  auto verified = aws::Verify(Signable(request), kFuzzCredentials, expected, engine.WallNow());
  if (must_refuse && verified) {
    Fail("the verifier accepted a request changed after signing", {});
  }
  if (tamper == Tamper::kNone && must_sign && !verified) {
    std::fprintf(stderr, "fuzz_sigv4: %s\n", verified.error().message.c_str());
    Fail("the verifier refused a request signed with its own key", {});
  }

  // The whole front door: routing, verification, parsing and the operation itself.
  engine::ApiHttpResponse reply = engine.front().Handle(request);
  if (must_refuse && (reply.status < 400 || reply.status >= 500)) {
    Fail("the front did not refuse a request changed after signing with a 4xx", reply);
  }
  return 0;
}
