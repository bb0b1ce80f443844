// Signal handlers may only touch lock-free atomics and call async-signal-safe functions, so the
// token and the signal count are process-wide; nothing outside the CLI sees them.
#include "cli/interrupt.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>

#include "cli/commands.h"

namespace slipway::cli {

namespace {

CancelToken g_token;
std::atomic<int> g_signals{0};
static_assert(std::atomic<int>::is_always_lock_free);
struct sigaction g_previous_int, g_previous_term;

void OnSignal(int) {
  if (g_signals.fetch_add(1) > 0) {
    constexpr char kAtOnce[] =
        "interrupted again: exiting now; the release lock stays until it expires or `slipway unlock` removes "
        "it, and the release's records stay as they are\n";
    (void)!::write(STDERR_FILENO, kAtOnce, sizeof kAtOnce - 1);
    ::_exit(kExitInterrupted);
  }
  g_token.Cancel();
  constexpr char kSoon[] =
      "\ninterrupted: stopping at the next safe point (interrupt again to exit at once)\n";
  (void)!::write(STDERR_FILENO, kSoon, sizeof kSoon - 1);
}

}  // namespace

InterruptScope::InterruptScope() {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &sa, &g_previous_int);
  ::sigaction(SIGTERM, &sa, &g_previous_term);
}

InterruptScope::~InterruptScope() {
  ::sigaction(SIGINT, &g_previous_int, nullptr);
  ::sigaction(SIGTERM, &g_previous_term, nullptr);
}

const CancelToken& InterruptScope::token() const { return g_token; }

}  // namespace slipway::cli
