// What a service's live line says, when a line is drawn live at all, and the view that keeps the
// lines of every service of a run.
#include "cli/rollout_view.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace slipway::cli {

namespace {

// "m:ss", or "h:mm:ss" past an hour.
std::string Elapsed(Millis elapsed) {
  const long s = std::max(0L, static_cast<long>(elapsed.count() / 1000));
  char out[32];
  if (s >= 3600) {
    std::snprintf(out, sizeof out, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  } else {
    std::snprintf(out, sizeof out, "%ld:%02ld", s / 60, s % 60);
  }
  return out;
}

// ECS begins each event with "(service NAME) ", which the line already says.
std::string WithoutServicePrefix(const std::string& event, const std::string& service) {
  const std::string prefix = "(service " + service + ") ";
  return event.rfind(prefix, 0) == 0 ? event.substr(prefix.size()) : event;
}

std::string Padded(std::string s, size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

}  // namespace

std::string FormatServiceLine(const deploy::ServiceProgress& p, Millis elapsed, size_t name_width) {
  std::string line = Padded(p.service, name_width) + "  " + Padded(p.revision, 12) + "  " +
                     Padded(p.phase, 11) + "  " + std::to_string(p.running) + "/" +
                     std::to_string(p.desired) + " running";
  if (p.targets >= 0)
    line += "  " + std::to_string(p.healthy) + "/" + std::to_string(p.targets) + " healthy";
  line += "  " + Elapsed(elapsed);
  if (!p.event.empty()) line += "  " + WithoutServicePrefix(p.event, p.service);
  return line;
}

bool WantsLiveView(int fd, bool json_output) {
  if (json_output || ::isatty(fd) == 0) return false;
  const char* term = std::getenv("TERM");
  if (term == nullptr || *term == '\0' || std::string_view(term) == "dumb") return false;
  // CI services set CI; their logs are files, where redrawn lines would be noise.
  const char* ci = std::getenv("CI");
  return ci == nullptr || *ci == '\0' || std::string_view(ci) == "false" ||
         std::string_view(ci) == "0";
}

RolloutView::RolloutView(Terminal& terminal, Clock& clock, const CancelToken* cancel)
    : lines_(terminal), clock_(clock), cancel_(cancel) {}

void RolloutView::Print(const std::string& line) {
  std::lock_guard lock(mu_);
  NoticeInterrupt();
  lines_.Print(line);
}

void RolloutView::Show(const deploy::ServiceProgress& p) {
  std::lock_guard lock(mu_);
  NoticeInterrupt();
  const SteadyTime now = clock_.Now();
  auto row = std::find_if(rows_.begin(), rows_.end(),
                          [&](const Row& r) { return r.progress.service == p.service; });
  if (row == rows_.end()) {
    rows_.push_back({p, now, now});
    row = rows_.end() - 1;
  } else if (row->progress.done && !p.done) {
    row->began = now;  // a new wait for the same service (a rollback after a failed rollout)
  }
  if (p.done && !row->progress.done) row->ended = now;
  row->progress = p;
  Redraw();
}

void RolloutView::Finish() {
  std::lock_guard lock(mu_);
  NoticeInterrupt();
  if (!rows_.empty()) Redraw();
  lines_.Finish();
  rows_.clear();
}

void RolloutView::Redraw() {
  size_t name_width = 0;
  for (const auto& r : rows_) name_width = std::max(name_width, r.progress.service.size());
  const SteadyTime now = clock_.Now();
  std::vector<std::string> lines;
  for (const auto& r : rows_) {
    const SteadyTime until = r.progress.done ? r.ended : now;
    lines.push_back("  " + FormatServiceLine(r.progress,
                                             std::chrono::duration_cast<Millis>(until - r.began),
                                             name_width));
  }
  lines_.Draw(std::move(lines));
}

void RolloutView::NoticeInterrupt() {
  if (interrupted_ || !Cancelled(cancel_)) return;
  interrupted_ = true;
  lines_.Detach();
}

}  // namespace slipway::cli
