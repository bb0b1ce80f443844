// What a registry's manifest says about an image: an index of per-platform manifests, or one
// manifest with a config blob that names its platform.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace slipway::registry {

/// The Accept header value for the four manifest kinds slipway reads.
extern const char* const kManifestAccept;

/// An OS and CPU architecture as OCI names them ("linux", "amd64", variant "v8").
struct Platform {
  std::string os, architecture, variant;
  /// "linux/amd64", or "linux/arm64/v8" with a variant.
  std::string ToString() const;
  bool operator==(const Platform&) const = default;
};

/// The platform an ECS task definition's runtimePlatform asks for: operatingSystemFamily
/// (LINUX, WINDOWS_SERVER_*) and cpuArchitecture (X86_64, ARM64); LINUX/X86_64 when absent.
[[nodiscard]] Result<Platform> PlatformForTask(const std::string& operating_system_family,
                                               const std::string& cpu_architecture);

/// One parsed manifest document.
struct Manifest {
  /// An index (OCI image index or Docker manifest list): `children` holds its manifests.
  bool is_index = false;
  struct Child {
    Platform platform;
    std::string digest;
  };
  std::vector<Child> children;
  /// A single image manifest: the digest of its config blob, which names the platform.
  std::string config_digest;
};

/// Parses a manifest body. Index or image manifest is read from mediaType, or from the members
/// present when an OCI document omits it. Docker schema 1 manifests are refused.
[[nodiscard]] Result<Manifest> ParseManifest(const std::string& body);

/// The platform an image config blob declares (its "os", "architecture" and "variant").
[[nodiscard]] Result<Platform> ParseConfigPlatform(const std::string& body);

/// Whether an image built for `have` runs as a task that needs `need`. An arm64 image without a
/// variant counts as v8; a need without a variant takes any.
bool Runs(const Platform& have, const Platform& need);

/// The digest of the index child that runs on `need`, or empty when none does. Attestation
/// manifests (platform unknown/unknown) never match.
std::string SelectChild(const Manifest& index, const Platform& need);

}  // namespace slipway::registry
