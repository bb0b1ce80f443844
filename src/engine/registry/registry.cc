// docker-registry's lifecycle: settings chosen once, start or adoption, stop, and the read-only
// maintenance window for garbage collection.
#include "engine/registry/registry.h"

#include <crypt.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "aws/http_transport.h"
#include "base/proc.h"
#include "base/strings.h"
#include "base/unique_fd.h"

namespace slipway::engine {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr Millis kPollInterval{10};
/// How long a registry found running may take to answer before it is replaced.
constexpr Millis kAdoptTimeout{3'000};
/// bcrypt's cost for the one htpasswd entry. The registry checks it on every request, and the
/// password is 32 random characters, which no cost factor makes any harder to guess.
constexpr int kBcryptCost = 5;
constexpr const char* kUser = "AWS";
constexpr uintmax_t kMaxLogBytes = 16 << 20;
constexpr const char* kInstallHint =
    "install it with `apt-get install docker-registry` (scripts/install-deps.sh does), then restart "
    "the engine";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Writes `text` to `path` through a temporary file and a rename, 0600.
Result<void> WriteFileAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!fd.valid()) return Fail("write " + tmp + ": " + std::strerror(errno));
    size_t done = 0;
    while (done < text.size()) {
      const ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return Fail("write " + tmp + ": " + std::strerror(errno));
      done += static_cast<size_t>(n);
    }
    if (::fsync(fd.get()) != 0) return Fail("write " + tmp + ": " + std::strerror(errno));
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return Fail("write " + path + ": " + ec.message());
  return {};
}

// Whether 127.0.0.1:`port` can be bound now (as the registry will, with SO_REUSEADDR).
bool PortFree(int port) {
  UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const int one = 1;
  ::setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return s.valid() && ::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

// A loopback port nothing listens on now, between the task ports (20000-29999 by default) and the
// kernel's range for outgoing connections: the port is kept for good, and one from that range
// could be some connection's local port one day.
Result<int> ChoosePort() {
  constexpr int kLow = 30000;
  int ephemeral_low = 32768;
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  range >> ephemeral_low;
  for (int attempt = 0; ephemeral_low > kLow && attempt < 200; ++attempt) {
    const int port = kLow + std::stoi(RandomFrom("0123456789", 6)) % (ephemeral_low - kLow);
    if (PortFree(port)) return port;
  }
  // An unusual port range leaves no gap: let the kernel choose.
  UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (!s.valid() || ::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(s.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return Fail(std::string("the image registry is unavailable: choose a port: ") + std::strerror(errno));
  }
  return ntohs(addr.sin_port);
}

Result<std::string> Bcrypt(const std::string& password) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$2b$", kBcryptCost, nullptr, 0, salt, sizeof salt) == nullptr) {
    return Fail(std::string("bcrypt salt: ") + std::strerror(errno));
  }
  crypt_data data{};
  const char* hash = crypt_rn(password.c_str(), salt, &data, sizeof data);
  if (hash == nullptr || hash[0] == '*') return Fail("bcrypt: this libcrypt does not hash with bcrypt");
  return std::string(hash);
}

// `program` itself when it names a path, else the first executable of that name in `path`.
std::optional<std::string> FindProgram(const std::string& program, const std::string& path) {
  if (program.find('/') != std::string::npos) {
    return ::access(program.c_str(), X_OK) == 0 ? std::optional(program) : std::nullopt;
  }
  for (const auto& dir : Split(path, ':')) {
    if (dir.empty()) continue;
    const std::string candidate = dir + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

std::string ProcessComm(pid_t pid) {
  return Trim(ReadFile("/proc/" + std::to_string(pid) + "/comm"));
}

}  // namespace

std::string RegistryConfig(const std::string& storage_root, int port, const std::string& htpasswd_path,
                           const std::string& http_secret, bool read_only) {
  // JSON is YAML: every value is quoted by the JSON writer, whatever the path holds.
  json storage{{"filesystem", {{"rootdirectory", storage_root}}}, {"delete", {{"enabled", true}}}};
  if (read_only) storage["maintenance"] = {{"readonly", {{"enabled", true}}}};
  json config{
      {"version", "0.1"},
      {"log", {{"level", "info"}, {"accesslog", {{"disabled", true}}}}},
      {"storage", storage},
      {"http",
       {{"addr", "127.0.0.1:" + std::to_string(port)}, {"secret", http_secret}, {"draintimeout", "5s"}}},
      {"auth", {{"htpasswd", {{"realm", "slipway"}, {"path", htpasswd_path}}}}},
  };
  return config.dump(2) + "\n";
}

Registry::Registry(RegistryOptions options)
    : options_(std::move(options)), dir_(options_.data_dir + "/registry") {}

std::unique_ptr<Registry> Registry::Open(RegistryOptions options) {
  std::unique_ptr<Registry> r(new Registry(std::move(options)));
  const SteadyTime began = std::chrono::steady_clock::now();
  if (auto p = r->Prepare(); !p) {
    r->SetUnavailable(p.error().message);
    return r;
  }
  if (auto s = r->AdoptOrLaunch(); !s) {
    r->SetUnavailable(s.error().message);
    return r;
  }
  r->start_ms_ = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - began).count();
  // A collection an earlier engine was asked for and never ran (it handed over, or died).
  if (auto pending = json::parse(ReadFile(r->dir_ + "/gc-pending.json"), nullptr, false);
      pending.is_array()) {
    std::set<std::string> emptied;
    for (const auto& name : pending) {
      if (name.is_string()) emptied.insert(name.get<std::string>());
    }
    r->CollectGarbage(emptied);
  }
  r->maintenance_ = std::thread([raw = r.get()] { raw->MaintenanceLoop(); });
  return r;
}

Registry::~Registry() {
  if (!adopted_ && !released_) Stop();
  StopMaintenance();
}

Result<void> Registry::Prepare() {
  std::error_code ec;
  fs::create_directories(dir_ + "/storage", ec);
  if (ec) return Fail("the image registry is unavailable: create " + dir_ + ": " + ec.message());
  const std::string settings_path = dir_ + "/settings.json";
  json settings = json::parse(ReadFile(settings_path), nullptr, false);
  if (settings.is_discarded()) {
    if (fs::exists(settings_path)) return Fail("the image registry is unavailable: " + settings_path + " is not JSON");
    auto port = ChoosePort();
    if (!port) return tl::unexpected(port.error());
    settings = {{"port", *port},
                {"password", RandomFrom("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 32)},
                {"httpSecret", RandomHex(64)}};
    if (auto w = WriteFileAtomically(settings_path, settings.dump(2) + "\n"); !w) return w;
  }
  port_ = settings.value("port", 0);
  password_ = settings.value("password", "");
  http_secret_ = settings.value("httpSecret", "");
  if (port_ <= 0 || port_ > 65535 || password_.empty() || http_secret_.empty()) {
    return Fail("the image registry is unavailable: " + settings_path + " lacks port, password or httpSecret");
  }
  auto program = FindProgram(options_.program, options_.path);
  if (!program) return Fail("the image registry is unavailable: docker-registry is not installed; " + std::string(kInstallHint));
  program_ = *program;
  const std::string htpasswd = dir_ + "/htpasswd";
  if (!fs::exists(htpasswd)) {
    auto hash = Bcrypt(password_);
    if (!hash) return Fail("the image registry is unavailable: " + hash.error().message);
    if (auto w = WriteFileAtomically(htpasswd, std::string(kUser) + ":" + *hash + "\n"); !w) return w;
  }
  return {};
}

Result<void> Registry::AdoptOrLaunch() {
  std::lock_guard lock(mu_);
  if (Adopt()) {
    adopted_ = true;
    auto record = json::parse(ReadFile(dir_ + "/process.json"), nullptr, false);
    // An engine that died inside a maintenance window left the registry read-only.
    if (!record.is_discarded() && record.value("readOnly", false)) {
      Terminate();
      return Launch(false);
    }
    return {};
  }
  return Launch(false);
}

bool Registry::Adopt() {
  auto record = json::parse(ReadFile(dir_ + "/process.json"), nullptr, false);
  if (record.is_discarded() || !record.is_object()) return false;
  const pid_t pid = record.value("pid", 0);
  const unsigned long long start = record.value("startTime", 0ULL);
  if (pid <= 0 || start == 0 || ProcessStartTime(pid) != start || ProcessComm(pid) != "docker-registry") return false;
  pid_ = pid;
  start_time_ = start;
  // Alive but not answering (wedged, or still starting after a crash): replace it.
  const SteadyTime deadline = std::chrono::steady_clock::now() + kAdoptTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (Answers()) return true;
    std::this_thread::sleep_for(kPollInterval);
  }
  Terminate();
  return false;
}

Result<void> Registry::Launch(bool read_only) {
  if (!PortFree(port_)) {
    std::string holder;
    if (auto h = ListeningPortHolder(port_)) holder = " by " + h->name + " (pid " + std::to_string(h->pid) + ")";
    return Fail("the image registry is unavailable: its port 127.0.0.1:" + std::to_string(port_) + ", kept in " +
                dir_ + "/settings.json because image references name it, is taken" + holder +
                "; stop that process and restart the engine");
  }
  // The log keeps the current file and one before it, so it cannot fill the disk over the years.
  std::error_code ec;
  if (fs::file_size(dir_ + "/registry.log", ec) > kMaxLogBytes && !ec) {
    fs::rename(dir_ + "/registry.log", dir_ + "/registry.log.1", ec);
  }
  const std::string config_path = dir_ + (read_only ? "/config-readonly.yml" : "/config.yml");
  if (auto w = WriteFileAtomically(config_path, RegistryConfig(StorageRoot(), port_, dir_ + "/htpasswd",
                                                                http_secret_, read_only));
      !w) {
    return Fail("the image registry is unavailable: " + w.error().message);
  }
  auto child = ChildProcess::Spawn({.argv = {program_, "serve", config_path},
                                    .env = {{"PATH", options_.path}},
                                    .cwd = dir_,
                                    .output_path = dir_ + "/registry.log"});
  if (!child) return Fail("the image registry is unavailable: " + child.error().message);
  child_ = std::move(*child);
  pid_ = child_->pid();
  start_time_ = 0;
  const SteadyTime deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (start_time_ == 0) start_time_ = ProcessStartTime(pid_);
    if (auto st = child_->Poll()) {
      child_.reset();
      pid_ = 0;
      return Fail("the image registry is unavailable: docker-registry exited with code " + std::to_string(st->code) +
                  " on start; see " + dir_ + "/registry.log");
    }
    if (Answers()) {
      WriteProcessRecord(read_only);
      unavailable_.clear();
      return {};
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  Terminate();
  return Fail("the image registry is unavailable: docker-registry did not answer on 127.0.0.1:" +
              std::to_string(port_) + " within " + std::to_string(options_.start_timeout.count()) + " ms; see " + dir_ +
              "/registry.log");
}

bool Registry::Answers() const {
  aws::CurlTransport http;
  auto r = http.Send({.method = "GET", .url = "http://127.0.0.1:" + std::to_string(port_) + "/v2/", .timeout_ms = 1000});
  return r && r->status == 401;
}

void Registry::WriteProcessRecord(bool read_only) {
  json record{{"pid", pid_}, {"startTime", start_time_}, {"port", port_}, {"readOnly", read_only}};
  if (auto w = WriteFileAtomically(dir_ + "/process.json", record.dump() + "\n"); !w) {
    std::fprintf(stderr, "slipway engine: registry: %s\n", w.error().message.c_str());
  }
}

void Registry::Terminate() {
  if (pid_ <= 0) return;
  const SteadyTime deadline = std::chrono::steady_clock::now() + options_.stop_grace;
  if (child_) {
    child_->Signal(SIGTERM);
    while (!child_->Poll() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(kPollInterval);
    if (child_->running()) child_->Signal(SIGKILL);
    child_->Wait();
    child_.reset();
  } else {
    SignalProcess(pid_, start_time_, SIGTERM);
    while (!ProcessGone(pid_) && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(kPollInterval);
    if (SignalProcess(pid_, start_time_, SIGKILL)) {
      while (!ProcessGone(pid_)) std::this_thread::sleep_for(kPollInterval);
    }
  }
  pid_ = 0;
  start_time_ = 0;
  std::error_code ec;
  fs::remove(dir_ + "/process.json", ec);
}

void Registry::SetUnavailable(std::string why) {
  std::lock_guard lock(mu_);
  unavailable_ = std::move(why);
}

Result<void> Registry::Available() const {
  std::lock_guard lock(mu_);
  if (!unavailable_.empty()) return Fail(unavailable_);
  return {};
}

std::string Registry::Endpoint() const {
  return port_ > 0 ? "127.0.0.1:" + std::to_string(port_) : std::string();
}

std::shared_lock<std::shared_mutex> Registry::HoldWritable() { return std::shared_lock(writable_); }

void Registry::CollectGarbage(const std::set<std::string>& emptied) {
  std::lock_guard lock(mu_);
  pending_.insert(emptied.begin(), emptied.end());
  collect_requested_ = true;
  if (auto w = WriteFileAtomically(dir_ + "/gc-pending.json", json(pending_).dump() + "\n"); !w) {
    std::fprintf(stderr, "slipway engine: registry: %s\n", w.error().message.c_str());
  }
  cv_.notify_all();
}

void Registry::PauseMaintenance() {
  std::unique_lock lock(mu_);
  paused_ = true;
  cv_.wait(lock, [this] { return !maintaining_; });
}

void Registry::ResumeMaintenance() {
  std::lock_guard lock(mu_);
  paused_ = false;
  cv_.notify_all();
}

void Registry::MaintenanceLoop() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return quit_ || (collect_requested_ && !paused_); });
    if (quit_) return;
    // Deletes come in bursts (a BatchDeleteImage, then the next): one collection covers them.
    cv_.wait_for(lock, options_.collect_delay, [this] { return quit_; });
    if (quit_ || paused_) continue;
    std::set<std::string> emptied = std::move(pending_);
    pending_.clear();
    collect_requested_ = false;
    maintaining_ = true;
    lock.unlock();
    RunMaintenance(emptied);
    lock.lock();
    maintaining_ = false;
    if (!collect_requested_) {
      std::error_code ec;
      fs::remove(dir_ + "/gc-pending.json", ec);
    }
    cv_.notify_all();
  }
}

void Registry::RunMaintenance(const std::set<std::string>& emptied) {
  std::unique_lock writes(writable_);
  std::unique_lock lock(mu_);
  if (stopped_ || released_ || !unavailable_.empty()) return;
  const SteadyTime began = std::chrono::steady_clock::now();
  Terminate();
  if (auto ro = Launch(true); !ro) {
    std::fprintf(stderr, "slipway engine: registry: %s\n", ro.error().message.c_str());
    if (auto rw = Launch(false); !rw) unavailable_ = rw.error().message;
    return;
  }
  RemoveEmptyRepositories(emptied);
  // Never --delete-untagged: it deletes the untagged children of a tagged index.
  auto gc = ChildProcess::Spawn({.argv = {program_, "garbage-collect", dir_ + "/config-readonly.yml"},
                                 .env = {{"PATH", options_.path}},
                                 .cwd = dir_,
                                 .output_path = dir_ + "/registry.log"});
  int code = -1;
  if (gc) code = gc->Wait().code;
  Terminate();
  if (auto rw = Launch(false); !rw) {
    unavailable_ = rw.error().message;
    std::fprintf(stderr, "slipway engine: registry: %s\n", rw.error().message.c_str());
    return;
  }
  std::fprintf(stderr, "slipway engine: registry garbage collection %s in %lld ms\n",
               code == 0 ? "done" : ("failed (exit " + std::to_string(code) + ")").c_str(),
               static_cast<long long>(
                   std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - began).count()));
}

void Registry::RemoveEmptyRepositories(const std::set<std::string>& emptied) {
  const std::string root = StorageRoot() + "/docker/registry/v2/repositories/";
  for (const auto& name : emptied) {
    // Names come from the engine's own validated repository names, never from a path.
    const std::string repo = root + name;
    std::error_code ec;
    bool has_manifest = false;
    for (auto it = fs::directory_iterator(repo + "/_manifests/revisions/sha256", ec);
         !ec && it != fs::directory_iterator(); it.increment(ec)) {
      has_manifest = has_manifest || fs::exists(it->path() / "link");
    }
    if (!has_manifest) fs::remove_all(repo, ec);
  }
}

void Registry::StopMaintenance() {
  {
    std::lock_guard lock(mu_);
    quit_ = true;
    cv_.notify_all();
  }
  if (maintenance_.joinable()) maintenance_.join();
}

void Registry::Stop() {
  StopMaintenance();
  std::lock_guard lock(mu_);
  if (stopped_ || released_) return;
  stopped_ = true;
  Terminate();
}

void Registry::Release() {
  StopMaintenance();
  std::lock_guard lock(mu_);
  released_ = true;
  if (child_) child_->Release();
  child_.reset();
}

}  // namespace slipway::engine
