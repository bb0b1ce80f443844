// ANSI redrawing of the live block: cursor up over it, clear, write it again. Every frame goes
// out in one write, so the terminal never shows half of one.
#include "cli/live_lines.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/strings.h"

namespace slipway::cli {

namespace {

// Columns when the terminal does not say.
constexpr int kDefaultColumns = 80;

// East Asian wide and fullwidth ranges and the emoji blocks: two columns each.
bool IsWide(char32_t c) {
  return (c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0x303E) ||
         (c >= 0x3041 && c <= 0x33FF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xA000 && c <= 0xA4CF) ||
         (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) ||
         (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
         (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1F64F) ||
         (c >= 0x1F900 && c <= 0x1F9FF) || (c >= 0x20000 && c <= 0x3FFFD);
}

// Combining marks take no column of their own.
bool IsCombining(char32_t c) {
  return (c >= 0x0300 && c <= 0x036F) || (c >= 0x1AB0 && c <= 0x1AFF) ||
         (c >= 0x20D0 && c <= 0x20FF) || (c >= 0xFE20 && c <= 0xFE2F) || c == 0x200B || c == 0x200D;
}

// The code point of the well-formed UTF-8 sequence at the start of `s`, and its length.
char32_t Decode(std::string_view s, size_t* length) {
  const auto b = static_cast<unsigned char>(s[0]);
  size_t n = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
  char32_t c = n == 1 ? b : n == 2 ? (b & 0x1F) : n == 3 ? (b & 0x0F) : (b & 0x07);
  for (size_t i = 1; i < n; ++i) c = (c << 6) | (static_cast<unsigned char>(s[i]) & 0x3F);
  *length = n;
  return c;
}

}  // namespace

void FdTerminal::Write(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a terminal that went away: nothing to show progress on
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

int FdTerminal::Columns() {
  struct winsize ws {};
  if (::ioctl(fd_, TIOCGWINSZ, &ws) != 0) return 0;
  return ws.ws_col;
}

std::string FitToColumns(std::string_view line, int columns) {
  const std::string text = ToValidUtf8(line);
  // One column short of the edge: a terminal that wraps on reaching the last column would
  // otherwise push the block down a row.
  const int room = std::max(columns - 1, 1);
  std::string out;
  int used = 0;
  size_t cut = std::string::npos;  // where the text ends when "…" must follow
  for (size_t i = 0, n = 0; i < text.size(); i += n) {
    char32_t c = Decode(std::string_view(text).substr(i), &n);
    const bool control = c < 0x20 || c == 0x7F || (c >= 0x80 && c < 0xA0);
    const int width = control ? 1 : IsCombining(c) ? 0 : IsWide(c) ? 2 : 1;
    if (used + width > room - 1 && cut == std::string::npos) cut = out.size();  // "…" fits after it
    if (used + width > room) return out.substr(0, cut) + "…";
    used += width;
    if (control) {
      out += ' ';
    } else {
      out.append(text, i, n);
    }
  }
  return out;
}

void LiveLines::Draw(std::vector<std::string> lines) {
  lines_ = std::move(lines);
  terminal_.Write(Erase() + Rows());
  rows_ = lines_.size();
}

void LiveLines::Print(std::string_view text) {
  std::string out = Erase();
  out += TerminalSafe(text);  // quotes container logs and events: nothing in it drives the terminal
  out += '\n';
  terminal_.Write(out + Rows());
  rows_ = lines_.size();
}

void LiveLines::Finish() {
  lines_.clear();
  rows_ = 0;
}

std::string LiveLines::Erase() const {
  if (rows_ == 0) return "";
  // To the first column, up over the block, and clear from there to the end of the screen.
  return "\r\x1b[" + std::to_string(rows_) + "A\x1b[J";
}

std::string LiveLines::Rows() const {
  int columns = terminal_.Columns();
  if (columns <= 0) columns = kDefaultColumns;
  std::string out;
  for (const auto& line : lines_) out += FitToColumns(line, columns) + "\n";
  return out;
}

}  // namespace slipway::cli
