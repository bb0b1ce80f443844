// Streams a child's output by following the file it writes to.
#include "build/streamed.h"

#include <unistd.h>

#include <csignal>
#include <deque>
#include <fstream>

extern char** environ;

namespace slipway::build {

namespace {
constexpr useconds_t kPollMicros = 50'000;
constexpr size_t kMaxOutputBytes = 64 << 10;  // the tail of the output that StreamedRun keeps

// Passes on the complete lines in `pending`, keeping a partial last line for later.
void Flush(std::string& pending, bool all, std::deque<std::string>& kept,
           const std::function<void(const std::string&)>& on_line) {
  size_t start = 0;
  for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
    std::string line = pending.substr(start, nl - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    on_line(line);
    kept.push_back(line);
    if (kept.size() > kKeptLines) kept.pop_front();
  }
  pending.erase(0, start);
  if (all && !pending.empty()) {
    on_line(pending);
    kept.push_back(pending);
    if (kept.size() > kKeptLines) kept.pop_front();
    pending.clear();
  }
}
}  // namespace

Result<StreamedRun> RunStreamed(const std::vector<std::string>& argv, const std::map<std::string, std::string>& extra_env,
                                const std::string& log_path, const std::function<void(const std::string&)>& on_line,
                                const CancelToken* cancel) {
  SpawnOptions options;
  options.argv = argv;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    const size_t eq = entry.find('=');
    if (eq != std::string::npos) options.env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (const auto& [k, v] : extra_env) options.env[k] = v;
  options.output_path = log_path;
  ::unlink(log_path.c_str());  // the output is appended: start from nothing
  auto child = ChildProcess::Spawn(options);
  if (!child) return tl::unexpected(child.error());
  std::ifstream log;
  StreamedRun run;
  std::deque<std::string> kept;
  std::string pending;
  auto drain = [&] {
    if (!log.is_open()) log.open(log_path, std::ios::binary);
    if (!log.is_open()) return;
    log.clear();
    char buf[8192];
    while (log.read(buf, sizeof buf) || log.gcount() > 0) {
      pending.append(buf, static_cast<size_t>(log.gcount()));
      run.output.append(buf, static_cast<size_t>(log.gcount()));
      if (run.output.size() > kMaxOutputBytes) run.output.erase(0, run.output.size() - kMaxOutputBytes);
      if (log.eof()) break;
    }
    Flush(pending, false, kept, on_line);
  };
  for (;;) {
    drain();
    if (auto status = child->Poll()) {
      run.status = *status;
      break;
    }
    if (Cancelled(cancel)) {
      child->Signal(SIGTERM);
      run.cancelled = true;
      run.status = child->Wait();
      break;
    }
    ::usleep(kPollMicros);
  }
  drain();
  Flush(pending, true, kept, on_line);
  run.last_lines.assign(kept.begin(), kept.end());
  return run;
}

}  // namespace slipway::build
