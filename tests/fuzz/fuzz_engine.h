// A throwaway engine for the fuzz targets: the real control plane, stores and API front on a
// temporary data dir, with no listeners and no processes (nothing ever calls Tick()).
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "aws/sigv4.h"
#include "base/clock.h"
#include "engine/api.h"
#include "engine/control_plane.h"
#include "engine/runtime/runtime.h"
#include "engine/testing/inert_data_plane.h"

namespace slipway::fuzz {

/// The key pair the engine's front knows; fuzz targets sign with it to get past SigV4.
inline const aws::Credentials kFuzzCredentials{"AKIDSLIPWAYFUZZ", "fuzz-secret-key", ""};
/// The region the engine serves.
inline constexpr const char* kFuzzRegion = "us-east-1";

/// Takes the first line off `in` (without its newline); an input is one request per line.
inline std::string_view TakeLine(std::string_view& in) {
  const size_t nl = in.find('\n');
  const std::string_view line = in.substr(0, nl);
  in = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
  return line;
}

/// One engine kept across fuzz iterations. It starts over on empty stores every `recycle_every`
/// inputs so that its state, and with it the cost of each call, stays bounded in long runs.
class FuzzEngine {
 public:
  explicit FuzzEngine(int recycle_every);
  ~FuzzEngine();
  FuzzEngine(const FuzzEngine&) = delete;
  FuzzEngine& operator=(const FuzzEngine&) = delete;

  /// Call once per input, before using the engine.
  void BeginInput();

  engine::ControlPlane& control() { return *control_; }
  engine::LogService& logs() { return *logs_; }
  engine::ApiFront& front() { return *front_; }
  WallTime WallNow() const { return clock_.WallNow(); }
  int64_t NowMs() const;

  /// Remembers the last ARN of each resource type ("targetgroup", "task", ...) in `reply`, so
  /// later requests of the same input can name objects whose ARNs carry random ids.
  void RememberArns(std::string_view reply);
  /// Prints one exchange to stderr when SLIPWAY_FUZZ_TRACE is set: to see what an input does.
  void Trace(std::string_view request, std::string_view reply) const;

  /// `text` with every "$<type>" (e.g. "$targetgroup", "$listener-rule") replaced by the last ARN
  /// of that type remembered.
  std::string ExpandArns(std::string_view text) const;

 private:
  void Open();
  void Close();

  const int recycle_every_;
  const bool trace_;
  int inputs_ = 0;
  std::filesystem::path dir_;
  FakeClock clock_;
  engine::ExecRuntime runtime_{/*use_cgroups=*/false, "/nonexistent/slipway-supervisor"};
  engine::InertDataPlane data_plane_;
  std::unique_ptr<engine::Store> store_;
  std::unique_ptr<engine::LogService> logs_;
  std::unique_ptr<engine::SecretStore> secrets_;
  std::unique_ptr<engine::ControlPlane> control_;
  std::unique_ptr<engine::ApiFront> front_;
  std::map<std::string, std::string> arns_;  ///< the last ARN seen, by resource type
};

/// The SigV4 service a request is scoped to as the engine's front routes it: by the X-Amz-Target
/// prefix for JSON (unknown prefixes are refused before any signature check), else ELBv2.
std::string SigningServiceFor(const engine::ApiHttpRequest& request);

/// Signs `request` as an SDK would for `scope` at `now`: adds Host when it has none, then
/// X-Amz-Date and Authorization over every header. The path is signed decoded, the query as sent.
void SignRequest(engine::ApiHttpRequest& request, const aws::SigningScope& scope, WallTime now);

/// The request as the front sees it for SigV4: decoded path, raw query.
aws::SignableRequest Signable(const engine::ApiHttpRequest& request);

}  // namespace slipway::fuzz
