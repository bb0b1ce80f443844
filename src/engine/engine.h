// Runs the engine in the foreground: API server, data plane and reconciler until signalled.
#pragma once

#include <string>

#include "aws/sigv4.h"
#include "base/result.h"

namespace slipway::engine {

inline constexpr const char* kProfile = "slipway-local";
inline constexpr int kDefaultApiPort = 4580;
/// The region an engine serves unless told otherwise, and the one an old engine.json implies.
inline constexpr const char* kDefaultRegion = "us-east-1";

/// How `slipway engine run` was asked to serve.
struct EngineOptions {
  std::string data_dir;
  std::string listen_host = "127.0.0.1";
  int listen_port = kDefaultApiPort;
  /// The one region the engine serves: requests must be signed for it, as at an AWS endpoint.
  std::string region = kDefaultRegion;
};

/// Where a running engine can be reached; written to <data-dir>/engine.json.
struct EngineInfo {
  int pid = 0;
  std::string endpoint;
  std::string credentials_file;
  std::string profile = kProfile;
  std::string region = kDefaultRegion;  ///< what clients must sign requests for
};

/// Creates the data dir and, on first start, the key pair and its credentials file (0600).
[[nodiscard]] Result<aws::Credentials> EnsureCredentials(const std::string& data_dir);
/// Reads <data-dir>/engine.json; an error if the engine never ran there.
[[nodiscard]] Result<EngineInfo> ReadEngineInfo(const std::string& data_dir);
/// True if the engine described by `info` is alive (its pid exists).
bool EngineAlive(const EngineInfo& info);

/// Serves until SIGTERM or SIGINT, then stops every task and returns.
[[nodiscard]] Result<void> RunEngine(const EngineOptions& options);

}  // namespace slipway::engine
