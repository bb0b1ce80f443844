// A terminal for tests: records the bytes, and plays them on a small screen that understands
// what LiveLines writes (CR, LF, cursor up, clear line, clear to the end of the screen).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cli/live_lines.h"

namespace slipway::cli {

class ScreenTerminal final : public Terminal {
 public:
  explicit ScreenTerminal(int columns = 80) : columns_(columns) {}
  void Write(std::string_view bytes) override {
    ++writes;
    bytes_.append(bytes);
    Play(bytes);
  }
  int Columns() override { return columns_; }

  /// Every byte written so far.
  const std::string& bytes() const { return bytes_; }
  /// The screen's rows, from the first written down to the last with text or the cursor.
  std::vector<std::string> rows() const {
    std::vector<std::string> out = screen_;
    while (!out.empty() && out.back().empty() && out.size() > row_ + 1) out.pop_back();
    return out;
  }
  /// The row the cursor is on.
  size_t cursor_row() const { return row_; }
  int writes = 0;

 private:
  void Play(std::string_view b) {
    for (size_t i = 0; i < b.size(); ++i) {
      if (screen_.size() <= row_) screen_.resize(row_ + 1);
      const char c = b[i];
      if (c == '\r') continue;  // every row is written from its start in these tests
      if (c == '\n') {
        ++row_;
        continue;
      }
      if (c == '\x1b' && i + 1 < b.size() && b[i + 1] == '[') {
        size_t j = i + 2;
        int n = 0;
        while (j < b.size() && b[j] >= '0' && b[j] <= '9') n = n * 10 + (b[j++] - '0');
        if (b[j] == 'A') row_ -= std::min<size_t>(row_, n == 0 ? 1 : n);
        if (b[j] == 'J') screen_.resize(row_ + 1), screen_[row_].clear();
        if (b[j] == 'K') screen_[row_].clear();
        i = j;
        continue;
      }
      screen_[row_] += c;
    }
    if (screen_.size() <= row_) screen_.resize(row_ + 1);
  }

  int columns_;
  std::string bytes_;
  std::vector<std::string> screen_;
  size_t row_ = 0;
};

}  // namespace slipway::cli
