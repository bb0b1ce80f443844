// The fuzz targets' engine: open, recycle and remove its stores; sign requests for its front.
#include "fuzz_engine.h"

#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>

#include "base/strings.h"

namespace slipway::fuzz {

namespace {

// Resource types an input may name as "$<type>". A type comes before any type that is its prefix,
// so "$task-definition" is not read as "$task" followed by "-definition".
constexpr std::array<std::string_view, 10> kArnTypes = {
    "listener-rule", "listener", "loadbalancer", "targetgroup", "task-definition",
    "task-set",      "task",     "service",      "cluster",     "log-group"};

// "arn:aws:<service>:<region>:<account>:<type>/<id>" (or "<type>:<id>") -> "<type>".
std::string_view ArnType(std::string_view arn) {
  size_t colon = 0;
  for (int i = 0; i < 5; ++i) {
    colon = arn.find(':', colon);
    if (colon == std::string_view::npos) return {};
    ++colon;
  }
  std::string_view resource = arn.substr(colon);
  return resource.substr(0, resource.find_first_of("/:"));
}

}  // namespace

FuzzEngine::FuzzEngine(int recycle_every)
    : recycle_every_(recycle_every), trace_(std::getenv("SLIPWAY_FUZZ_TRACE") != nullptr) {
  dir_ = std::filesystem::temp_directory_path() / ("slipway-fuzz-" + std::to_string(::getpid()));
  Open();
}

FuzzEngine::~FuzzEngine() { Close(); }

void FuzzEngine::Open() {
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_);
  auto store = engine::Store::Open((dir_ / "engine.db").string());
  auto logs = engine::LogService::Open((dir_ / "logs.db").string(), kFuzzRegion);
  auto secrets = engine::SecretStore::Open((dir_ / "secrets.db").string(),
                                           (dir_ / "secrets.key").string(), kFuzzRegion, clock_);
  if (!store || !logs || !secrets) {
    // Without its stores the target would fuzz nothing; stop loudly rather than report no bugs.
    std::fprintf(stderr, "fuzz engine: cannot open stores in %s\n", dir_.c_str());
    std::abort();
  }
  store_ = std::move(*store);
  logs_ = std::move(*logs);
  secrets_ = std::move(*secrets);
  engine::ControlPlaneOptions options{.data_dir = dir_.string(), .region = kFuzzRegion};
  control_ = std::make_unique<engine::ControlPlane>(clock_, runtime_, data_plane_, *store_, *logs_,
                                                    options);
  front_ = std::make_unique<engine::ApiFront>(*control_, *logs_, *secrets_, clock_,
                                              kFuzzCredentials, kFuzzRegion);
  // The deployer's first call; most requests name this cluster (or the default one).
  (void)control_->HandleEcs("CreateCluster", {{"clusterName", "demo-dev"}});
}

void FuzzEngine::Close() {
  front_.reset();
  control_.reset();
  secrets_.reset();
  logs_.reset();
  store_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void FuzzEngine::BeginInput() {
  arns_.clear();
  if (++inputs_ % recycle_every_ == 0) {
    Close();
    Open();
  }
}

int64_t FuzzEngine::NowMs() const {
  return static_cast<int64_t>(EpochSeconds(clock_.WallNow()) * 1000);
}

void FuzzEngine::RememberArns(std::string_view reply) {
  for (size_t at = reply.find("arn:aws:"); at != std::string_view::npos;
       at = reply.find("arn:aws:", at + 1)) {
    std::string_view arn = reply.substr(at);
    arn = arn.substr(0, arn.find_first_of("\"<>&, \t\r\n"));
    std::string_view type = ArnType(arn);
    if (!type.empty()) arns_[std::string(type)] = std::string(arn);
  }
}

void FuzzEngine::Trace(std::string_view request, std::string_view reply) const {
  if (!trace_) return;
  std::fprintf(stderr, "> %.*s\n< %.*s\n", static_cast<int>(request.size()), request.data(),
               static_cast<int>(reply.size()), reply.data());
}

std::string FuzzEngine::ExpandArns(std::string_view text) const {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '$') {
      std::string_view rest = text.substr(i + 1);
      const std::string_view* type = nullptr;
      for (const auto& t : kArnTypes) {
        if (rest.substr(0, t.size()) == t) {
          type = &t;
          break;
        }
      }
      if (type != nullptr) {
        auto it = arns_.find(std::string(*type));
        if (it != arns_.end()) {
          out += it->second;
          i += type->size();
          continue;
        }
      }
    }
    out += text[i];
  }
  return out;
}

std::string SigningServiceFor(const engine::ApiHttpRequest& request) {
  const std::string target = Signable(request).Header("X-Amz-Target");
  if (target.empty()) return "elasticloadbalancing";
  const std::string prefix = target.substr(0, target.rfind('.'));
  if (prefix == "Logs_20140328") return "logs";
  if (prefix == "secretsmanager") return "secretsmanager";
  if (prefix == "AmazonSSM") return "ssm";
  return "ecs";
}

aws::SignableRequest Signable(const engine::ApiHttpRequest& request) {
  aws::SignableRequest out{request.method, "", "", request.headers, request.body};
  size_t q = request.target.find('?');
  out.path = UriDecode(request.target.substr(0, q));
  if (q != std::string::npos) out.query = request.target.substr(q + 1);
  return out;
}

void SignRequest(engine::ApiHttpRequest& request, const aws::SigningScope& scope, WallTime now) {
  aws::SignableRequest signable = Signable(request);
  if (!signable.HasHeader("Host")) signable.headers.emplace_back("Host", "127.0.0.1");
  aws::Sign(signable, kFuzzCredentials, scope, now);
  request.headers = std::move(signable.headers);
}

}  // namespace slipway::fuzz
