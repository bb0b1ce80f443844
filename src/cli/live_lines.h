// A block of lines kept at the bottom of a terminal and redrawn in place, with ordinary output
// scrolling above it: the live progress of `deploy` and `rollback`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace slipway::cli {

/// Where a live block is drawn: a terminal's output and its width.
class Terminal {
 public:
  virtual ~Terminal() = default;
  /// Writes `bytes` as they are, at once.
  virtual void Write(std::string_view bytes) = 0;
  /// The terminal's width in columns; 0 when it cannot be told.
  virtual int Columns() = 0;
};

/// A terminal on a file descriptor; its width is asked (TIOCGWINSZ) on every draw, so a
/// resized window is followed.
class FdTerminal final : public Terminal {
 public:
  explicit FdTerminal(int fd) : fd_(fd) {}
  void Write(std::string_view bytes) override;
  int Columns() override;

 private:
  int fd_;
};

/// `line` as it fits in `columns` terminal columns: control characters become spaces, bytes that
/// are not UTF-8 become U+FFFD, wide characters count two columns, and a line too long is cut
/// between characters and ends in "…".
std::string FitToColumns(std::string_view line, int columns);

/// The block: Draw() replaces its lines, Print() puts a line above it. Each line takes one row
/// (it is cut to the width), so the block's height is known and the cursor always rests at the
/// start of the row under it. Not thread-safe: one writer at a time.
class LiveLines {
 public:
  explicit LiveLines(Terminal& terminal) : terminal_(terminal) {}
  /// Leaves the last frame on the screen (Finish()).
  ~LiveLines() { Finish(); }
  LiveLines(const LiveLines&) = delete;
  LiveLines& operator=(const LiveLines&) = delete;

  /// Redraws the block as `lines`: moves up over the old block, clears it and writes the new one.
  void Draw(std::vector<std::string> lines);
  /// Writes `text` (a newline is added) where the block was, then the block again under it, so
  /// `text` scrolls up with what was printed before.
  void Print(std::string_view text);
  /// Ends the block as last drawn; whatever is written next appears under it. A later Draw()
  /// starts a new block.
  void Finish();
  /// Forgets the block without writing: after something else wrote to the terminal (a signal
  /// handler's message), moving up would land in the wrong rows, so the next Draw() starts
  /// afresh under whatever is there.
  void Detach() { rows_ = 0; }

 private:
  /// The bytes that take the cursor from under the block to its first row and clear to the end
  /// of the screen; "" when nothing is drawn.
  std::string Erase() const;
  /// The block's lines, each cut to the width and on its own row.
  std::string Rows() const;

  Terminal& terminal_;
  std::vector<std::string> lines_;
  size_t rows_ = 0;  ///< rows the block takes on the screen now
};

}  // namespace slipway::cli
