// Fuzzes the slipway.yaml loader (on a file, as the CLI reads it) and the ${VAR} expansion of
// task definition templates, with the same bytes as both.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "config/config.h"

namespace slipway::fuzz {
namespace {

/// A directory holding the config under test and the task definition configs may name.
class ConfigDir {
 public:
  ConfigDir() {
    dir_ = std::filesystem::temp_directory_path() / ("slipway-fuzz-config-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "web.taskdef.json") << "{\"family\": \"${APP:-demo}-web\"}\n";
  }
  ~ConfigDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  ConfigDir(const ConfigDir&) = delete;
  ConfigDir& operator=(const ConfigDir&) = delete;

  /// Writes `text` as slipway.yaml and returns its path.
  std::string Write(const std::string& text) const {
    const std::filesystem::path path = dir_ / "slipway.yaml";
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
    return path.string();
  }

 private:
  std::filesystem::path dir_;
};

}  // namespace
}  // namespace slipway::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace slipway;
  static const fuzz::ConfigDir dir;
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)config::LoadConfig(dir.Write(text));
  static const std::map<std::string, std::string> vars = {
      {"APP_VERSION", "v2"}, {"DEMO_FAIL", ""}, {"SLIPWAY_BIN_DIR", "/usr/local/bin"}};
  (void)config::ExpandTemplate(text, "web.taskdef.json", vars);
  return 0;
}
