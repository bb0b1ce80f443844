// Network namespaces as the engine uses them: sockets opened inside a namespace the engine owns.
#pragma once

#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace slipway {

/// A network namespace held open by a descriptor, and the namespace of the thread that opened it
/// (to return to). Sockets made by OpenSocket() live in the held namespace for their whole life.
class NetNamespace {
 public:
  /// Opens the namespace pinned at `path` (an nsfs bind mount).
  [[nodiscard]] static Result<NetNamespace> Open(const std::string& path);

  int fd() const { return ns_.get(); }
  /// A non-blocking, close-on-exec socket(domain, type) made inside the namespace; -1 with errno
  /// set on failure. The calling thread enters the namespace only for the socket() call.
  int OpenSocket(int domain, int type) const;
  /// Brings the namespace's loopback interface up.
  [[nodiscard]] Result<void> LoopbackUp() const;

 private:
  UniqueFd ns_;
  UniqueFd home_;  ///< the namespace the engine itself runs in
};

/// True if `path` is a mount of a namespace (nsfs), i.e. a pinned namespace.
bool IsPinnedNamespace(const std::string& path);

}  // namespace slipway
