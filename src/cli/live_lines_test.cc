// The live block on a played-back screen: rows redrawn in place, lines printed above it, lines
// cut to the width, and the last frame left behind.
#include "cli/live_lines.h"

#include <gtest/gtest.h>

#include "cli/screen_test.h"

namespace slipway::cli {
namespace {

using Rows = std::vector<std::string>;

TEST(LiveLines, FirstFrameIsPlainRowsWithTheCursorUnderThem) {
  ScreenTerminal t;
  LiveLines block(t);
  block.Draw({"web  1/2 running", "api  0/1 running"});
  EXPECT_EQ(t.bytes(), "web  1/2 running\napi  0/1 running\n");
  EXPECT_EQ(t.rows(), (Rows{"web  1/2 running", "api  0/1 running", ""}));
  EXPECT_EQ(t.cursor_row(), 2u);
}

TEST(LiveLines, RedrawMovesUpOverTheBlockAndReplacesIt) {
  ScreenTerminal t;
  LiveLines block(t);
  block.Draw({"web  1/2 running", "api  0/1 running"});
  block.Draw({"web  2/2 running", "api  1/1 running"});
  EXPECT_NE(t.bytes().find("\r\x1b[2A\x1b[J"), std::string::npos);
  EXPECT_EQ(t.rows(), (Rows{"web  2/2 running", "api  1/1 running", ""}));
}

TEST(LiveLines, EachFrameIsOneWrite) {
  ScreenTerminal t;
  LiveLines block(t);
  block.Draw({"a", "b"});
  block.Draw({"c", "d"});
  block.Print("above");
  EXPECT_EQ(t.writes, 3);
}

TEST(LiveLines, PrintedLinesScrollAboveTheBlock) {
  ScreenTerminal t;
  LiveLines block(t);
  block.Print("12:00:00  releasing demo");
  block.Draw({"web  0/2 running"});
  block.Print("12:00:01  (service web) has started 2 tasks");
  block.Draw({"web  2/2 running"});
  block.Print("12:00:05  verify GET /: 200 ok");
  EXPECT_EQ(t.rows(),
            (Rows{"12:00:00  releasing demo", "12:00:01  (service web) has started 2 tasks",
                  "12:00:05  verify GET /: 200 ok", "web  2/2 running", ""}));
}

TEST(LiveLines, PrintedLinesCannotDriveTheTerminal) {
  // A migration's log line quoted in progress: a title change, a screen clear and colour.
  ScreenTerminal t;
  LiveLines block(t);
  block.Draw({"web  0/2 running"});
  block.Print("  migrate | hi \x1b]0;PWNED\x07\x1b[2J\x1b[31mRED");
  const std::string& bytes = t.bytes();
  const std::string printed = bytes.substr(bytes.find("migrate"));
  EXPECT_EQ(printed.find('\x07'), std::string::npos);
  EXPECT_EQ(printed.find("\x1b]"), std::string::npos);
  EXPECT_EQ(printed.find("\x1b[2J"), std::string::npos);
  EXPECT_EQ(printed.find("\x1b[31m"), std::string::npos);
}

TEST(LiveLines, AShorterBlockLeavesNoStaleRows) {
  ScreenTerminal t;
  LiveLines block(t);
  block.Draw({"a", "b", "c"});
  block.Draw({"only"});
  EXPECT_EQ(t.rows(), (Rows{"only", ""}));
}

TEST(LiveLines, FinishLeavesTheLastFrameAndWhatFollowsComesUnderIt) {
  ScreenTerminal t;
  {
    LiveLines block(t);
    block.Draw({"web  1/2 running"});
    block.Draw({"web  2/2 running  completed"});
    block.Finish();
    const size_t before = t.bytes().size();
    block.Print("released dev in 9.0 s");
    EXPECT_EQ(t.bytes().substr(before), "released dev in 9.0 s\n");  // no cursor movement
  }
  EXPECT_EQ(t.rows(), (Rows{"web  2/2 running  completed", "released dev in 9.0 s", ""}));
}

TEST(LiveLines, AfterDetachTheNextFrameStartsUnderWhateverWasWritten) {
  ScreenTerminal t;
  LiveLines block(t);
  block.Draw({"web  1/2 running"});
  t.Write("\ninterrupted: stopping at the next safe point\n");  // a signal handler's message
  block.Detach();
  block.Draw({"web  1/2 interrupted"});
  EXPECT_EQ(t.rows(), (Rows{"web  1/2 running", "", "interrupted: stopping at the next safe point",
                            "web  1/2 interrupted", ""}));
}

TEST(LiveLines, LinesAreCutToTheTerminalWidth) {
  ScreenTerminal t(20);
  LiveLines block(t);
  block.Draw({"demo-dev-web  demo-web:5  rolling out  1/2 running", "short"});
  EXPECT_EQ(t.rows(), (Rows{"demo-dev-web  demo…", "short", ""}));
}

TEST(FitToColumns, KeepsALineThatFits) { EXPECT_EQ(FitToColumns("web 1/2", 20), "web 1/2"); }

TEST(FitToColumns, LeavesTheLastColumnFree) {
  EXPECT_EQ(FitToColumns("0123456789", 11), "0123456789");
  EXPECT_EQ(FitToColumns("0123456789", 10), "01234567…");
}

TEST(FitToColumns, CutsBetweenUtf8CharactersNeverInside) {
  // Seven columns of room: six characters and the ellipsis, whatever their byte lengths.
  EXPECT_EQ(FitToColumns("héllo wörld", 8), "héllo …");
  EXPECT_EQ(FitToColumns("ééééééééé", 8), "éééééé…");
}

TEST(FitToColumns, CountsWideCharactersAsTwoColumns) {
  EXPECT_EQ(FitToColumns("日本語テキスト", 8), "日本語…");
  EXPECT_EQ(FitToColumns("日本", 8), "日本");
}

TEST(FitToColumns, ControlCharactersCannotMoveTheCursor) {
  EXPECT_EQ(FitToColumns("a\nb\x1b[2Jc\rd", 40), "a b [2Jc d");
}

TEST(FitToColumns, BytesThatAreNotUtf8BecomeReplacementCharacters) {
  EXPECT_EQ(FitToColumns(std::string("a\xff") + "b", 40), std::string("a\xEF\xBF\xBD") + "b");
}

TEST(LiveLines, AnUnknownWidthIsTakenAsEightyColumns) {
  ScreenTerminal t(0);
  LiveLines block(t);
  block.Draw({std::string(100, 'x')});
  EXPECT_EQ(t.rows()[0], std::string(78, 'x') + "…");
}

}  // namespace
}  // namespace slipway::cli
