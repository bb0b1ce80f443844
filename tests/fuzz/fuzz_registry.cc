// Fuzzes what a registry (or a task definition) hands the deployer: image references, manifests
// and image configs, on their own and through ResolveImage as a registry's replies.
#include <cstddef>
#include <cstdint>
#include <string>

#include "registry/resolve.h"

namespace slipway::fuzz {
namespace {

/// Answers the manifest request with the first half of the input and every later one (the
/// config blob, a token) with the second.
class HalvesTransport final : public aws::HttpTransport {
 public:
  HalvesTransport(std::string first, std::string rest) : first_(std::move(first)), rest_(std::move(rest)) {}
  Result<aws::HttpResponse> Send(const aws::HttpRequest&) override {
    return aws::HttpResponse{200, calls_++ == 0 ? first_ : rest_, {}};
  }

 private:
  std::string first_, rest_;
  int calls_ = 0;
};

}  // namespace
}  // namespace slipway::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace slipway;
  const std::string input(reinterpret_cast<const char*>(data), size);
  if (auto ref = registry::ParseImageReference(input)) {
    (void)ref->Pinned("sha256:" + std::string(64, 'a'));
    (void)ref->Loopback();
  }
  (void)registry::ParseManifest(input);
  (void)registry::ParseConfigPlatform(input);
  const size_t half = size / 2;
  fuzz::HalvesTransport transport(input.substr(0, half), input.substr(half));
  registry::RegistryClient client(transport, [](const std::string&) { return std::nullopt; });
  auto ref = registry::ParseImageReference("127.0.0.1:5000/fuzz/app:v1");
  (void)registry::ResolveImage(client, *ref, {"linux", "amd64", ""});
  return 0;
}
