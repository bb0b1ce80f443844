// The engine's image registry: Debian's docker-registry (distribution 2.8) on loopback with one
// basic-auth user, its files under <data-dir>/registry/, and the read-only window in which garbage
// collection gives disk space back.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <thread>

#include "base/child_process.h"
#include "base/clock.h"
#include "base/result.h"

namespace slipway::engine {

/// Where the registry lives and how it is started.
struct RegistryOptions {
  /// The engine's data dir; the registry keeps everything in <data_dir>/registry.
  std::string data_dir;
  /// The registry program; a name without '/' is looked up in `path`.
  std::string program = "docker-registry";
  /// The PATH the program is looked up in and runs with.
  std::string path = "/usr/local/bin:/usr/bin:/bin";
  /// How long a start may take before the registry counts as failed.
  Millis start_timeout{10'000};
  /// How long the registry may drain requests after SIGTERM before SIGKILL.
  Millis stop_grace{7'000};
  /// How long after a delete the garbage collection waits for more deletes to batch with it.
  Millis collect_delay{500};
};

/// One docker-registry process per data dir. Its port, password and HTTP secret are chosen once
/// and kept (<data-dir>/registry/settings.json, 0600): images are pinned by the port, and a token
/// handed out stays valid. The running process is recorded in process.json so that the next
/// engine (after a handoff, or after this one was killed) adopts it instead of starting another.
/// Thread-safe.
class Registry {
 public:
  /// Starts the registry for `options.data_dir`, or adopts the one a previous engine left running.
  /// Never fails as a whole: when the registry cannot run, Available() says why.
  static std::unique_ptr<Registry> Open(RegistryOptions options);
  /// Stops the registry when this engine started it and neither stopped nor released it: an
  /// engine that fails after adopting one leaves it to the engine it came from, or the next.
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  /// Success while the registry serves; else why it does not, and what to do about it.
  [[nodiscard]] Result<void> Available() const;
  /// "127.0.0.1:<port>", the registry part of image references; empty when there is no port.
  std::string Endpoint() const;
  /// The password of the registry's one user, "AWS".
  std::string Password() const { return password_; }
  /// The registry's storage root (the filesystem driver's rootdirectory).
  std::string StorageRoot() const { return dir_ + "/storage"; }
  /// Whether this engine found the registry already running and took it over.
  bool adopted() const { return adopted_; }
  /// Milliseconds the start (or adoption) took until /v2/ answered.
  long start_ms() const { return start_ms_; }

  /// Held while a caller changes the registry (deletes manifests or tags): maintenance waits for
  /// it, and taking it waits while a maintenance window runs.
  std::shared_lock<std::shared_mutex> HoldWritable();
  /// Asks for a garbage collection in the background: the registry restarts read-only, the
  /// directories of `emptied` repositories that hold no manifest are removed, blobs no manifest
  /// references are deleted, and the registry restarts read-write. Pushes meanwhile fail with the
  /// registry's read-only error. The request survives a handoff or a crash (gc-pending.json).
  void CollectGarbage(const std::set<std::string>& emptied = {});
  /// Waits for a running maintenance window to end and keeps new ones from starting (a handoff
  /// is under way); ResumeMaintenance() undoes it.
  void PauseMaintenance();
  void ResumeMaintenance();
  /// Stops the registry: SIGTERM, then SIGKILL after the stop grace.
  void Stop();
  /// Leaves the registry running for the engine that takes over, which adopts it.
  void Release();

 private:
  explicit Registry(RegistryOptions options);

  [[nodiscard]] Result<void> Prepare();
  [[nodiscard]] Result<void> AdoptOrLaunch();
  /// True when process.json names a live docker-registry that answers on the port.
  bool Adopt();
  [[nodiscard]] Result<void> Launch(bool read_only);
  void Terminate();
  bool Answers() const;
  void WriteProcessRecord(bool read_only);
  void MaintenanceLoop();
  void RunMaintenance(const std::set<std::string>& emptied);
  void RemoveEmptyRepositories(const std::set<std::string>& emptied);
  void SetUnavailable(std::string why);
  void StopMaintenance();

  RegistryOptions options_;
  std::string dir_;
  std::string program_;  ///< resolved path of the registry program
  int port_ = 0;
  std::string password_, http_secret_;
  bool adopted_ = false;
  long start_ms_ = 0;

  mutable std::mutex mu_;  ///< guards everything below
  std::string unavailable_;
  std::optional<ChildProcess> child_;  ///< set when this engine started the running registry
  pid_t pid_ = 0;
  unsigned long long start_time_ = 0;
  bool released_ = false, stopped_ = false;
  std::set<std::string> pending_;  ///< repositories to clean up at the next collection
  bool collect_requested_ = false, paused_ = false, maintaining_ = false, quit_ = false;
  std::condition_variable cv_;

  std::shared_mutex writable_;
  std::thread maintenance_;
};

/// The registry configuration for `storage_root`, `port`, the htpasswd file and HTTP secret;
/// read-only when `read_only` (distribution's storage.maintenance.readonly).
std::string RegistryConfig(const std::string& storage_root, int port, const std::string& htpasswd_path,
                           const std::string& http_secret, bool read_only);

}  // namespace slipway::engine
