// The live view of a release or rollback on a terminal: one line per service, redrawn as the
// rollout goes, under the progress lines that scroll above it.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "base/cancel.h"
#include "base/clock.h"
#include "cli/live_lines.h"
#include "deploy/progress.h"

namespace slipway::cli {

/// One service's line: name, revision, phase, the new revision's running/desired, its targets'
/// health (when routed), the time since its rollout began, and its latest event (without the
/// "(service NAME) " ECS puts first). `name_width` aligns the names of a block.
std::string FormatServiceLine(const deploy::ServiceProgress& p, Millis elapsed, size_t name_width);

/// Whether progress should be drawn live on `fd`: a terminal that is not "dumb", outside CI
/// ($CI set to anything but "false" or ""), and not while stdout carries JSON.
bool WantsLiveView(int fd, bool json_output);

/// The view: progress lines and service states go in from any thread, frames go out to the
/// terminal. Elapsed times come from `clock`. Once `cancel` is set (a signal handler wrote its
/// message to the terminal), the block is drawn afresh under that message.
class RolloutView {
 public:
  RolloutView(Terminal& terminal, Clock& clock, const CancelToken* cancel = nullptr);

  /// Prints `line` above the block.
  void Print(const std::string& line);
  /// Takes `p` as its service's state (a service seen for the first time gets a line) and redraws.
  void Show(const deploy::ServiceProgress& p);
  /// Draws the final frame and leaves it, so that what is printed next (the report, an error)
  /// comes under it.
  void Finish();

 private:
  struct Row {
    deploy::ServiceProgress progress;
    SteadyTime began;
    SteadyTime ended;  ///< when it was done; meaningful once progress.done
  };
  void Redraw();
  void NoticeInterrupt();

  std::mutex mu_;
  LiveLines lines_;
  Clock& clock_;
  const CancelToken* cancel_;
  bool interrupted_ = false;
  std::vector<Row> rows_;
};

}  // namespace slipway::cli
