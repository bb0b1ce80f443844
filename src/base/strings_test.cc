#include "base/strings.h"

#include <gtest/gtest.h>

#include "base/clock.h"

namespace slipway {

TEST(Strings, UriEncodeKeepsUnreservedAndEscapesTheRest) {
  EXPECT_EQ(UriEncode("a-b_c.d~e"), "a-b_c.d~e");
  EXPECT_EQ(UriEncode("a b/c"), "a%20b%2Fc");
  EXPECT_EQ(UriEncode("a b/c", /*keep_slash=*/true), "a%20b/c");
  EXPECT_EQ(UriEncode("\xe1\x88\xb4"), "%E1%88%B4");
}

TEST(Strings, UriDecodeReversesEncodingAndFormPlus) {
  EXPECT_EQ(UriDecode("a%20b%2Fc"), "a b/c");
  EXPECT_EQ(UriDecode("a+b", /*plus_as_space=*/true), "a b");
  EXPECT_EQ(UriDecode("a+b"), "a+b");
  EXPECT_EQ(UriDecode("100%"), "100%");
}

TEST(Strings, SplitKeepsEmptyPieces) {
  EXPECT_EQ(Split("a,,b", ','), (std::vector<std::string>{"a", "", "b"}));
  EXPECT_EQ(Join({"a", "b"}, ", "), "a, b");
}

TEST(Strings, IsUtf8AcceptsWellFormedTextOnly) {
  EXPECT_TRUE(IsUtf8(""));
  EXPECT_TRUE(IsUtf8("plain ascii"));
  EXPECT_TRUE(IsUtf8("caf\xc3\xa9 \xe1\x88\xb4 \xf0\x9f\x9a\xa2"));
  EXPECT_FALSE(IsUtf8("\xff"));              // never a lead byte
  EXPECT_FALSE(IsUtf8("\xc3"));              // truncated
  EXPECT_FALSE(IsUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsUtf8("\xed\xa0\x80"));      // a UTF-16 surrogate
  EXPECT_FALSE(IsUtf8("\xf4\x90\x80\x80"));  // past U+10FFFF
}

TEST(Strings, RandomHexHasRequestedLengthAndAlphabet) {
  std::string id = RandomHex(32);
  ASSERT_EQ(id.size(), 32u);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(RandomHex(32), id);
}

TEST(Strings, Utf8CutLengthNeverEndsInsideACharacter) {
  EXPECT_EQ(Utf8CutLength("abc"), 3u);
  EXPECT_EQ(Utf8CutLength("ab\xc3\xa9"), 4u);         // ends on a whole two-byte character
  EXPECT_EQ(Utf8CutLength("ab\xc3"), 2u);              // half of it: cut before
  EXPECT_EQ(Utf8CutLength("ab\xe2\x82"), 2u);          // two bytes of a three-byte character
  EXPECT_EQ(Utf8CutLength("ab\xf0\x9f\x98\x80"), 6u);  // a whole four-byte character
  EXPECT_EQ(Utf8CutLength("ab\xf0\x9f\x98"), 2u);
  EXPECT_EQ(Utf8CutLength("ab\xff"), 3u);              // not UTF-8 at all: kept, replaced later
  EXPECT_EQ(Utf8CutLength(""), 0u);
}

TEST(Strings, ToValidUtf8ReplacesOnlyTheBytesThatAreNotUtf8) {
  EXPECT_EQ(ToValidUtf8("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(ToValidUtf8("caf\xe9!"), "caf\xef\xbf\xbd!");
  EXPECT_EQ(ToValidUtf8("\xc0\xaf"), "\xef\xbf\xbd\xef\xbf\xbd");  // an overlong '/'
  EXPECT_TRUE(IsUtf8(ToValidUtf8("\xff\xfe\xed\xa0\x80 text")));
}

TEST(Strings, TerminalSafeLeavesNoWayToStartAControlSequence) {
  const std::string r = "\xef\xbf\xbd";  // U+FFFD
  EXPECT_EQ(TerminalSafe("caf\xc3\xa9 \xe2\x9c\x93\tok\n"), "caf\xc3\xa9 \xe2\x9c\x93\tok\n");
  // A title change (OSC ... BEL), a screen clear (CSI), colour, a carriage return that would
  // write over the line, DEL, and an 8-bit CSI (U+009B).
  EXPECT_EQ(TerminalSafe("a\x1b]0;title\x07" "b"), "a" + r + "]0;title" + r + "b");
  EXPECT_EQ(TerminalSafe("\x1b[2J\x1b[31mred"), r + "[2J" + r + "[31mred");
  EXPECT_EQ(TerminalSafe("ok\rfake\x7f"), "ok" + r + "fake" + r);
  EXPECT_EQ(TerminalSafe("\xc2\x9b" "31m \xc2\xa0"), r + "31m \xc2\xa0");  // NBSP stays
  // Right-to-left override and a first-strong isolate; bytes that are not UTF-8.
  EXPECT_EQ(TerminalSafe("x\xe2\x80\xaey\xe2\x81\xa8z"), "x" + r + "y" + r + "z");
  EXPECT_EQ(TerminalSafe("\xe2\x80\xa9\xe2\x81\xa5"), "\xe2\x80\xa9\xe2\x81\xa5");  // neighbours stay
  EXPECT_EQ(TerminalSafe("\xff"), r);
}

TEST(Strings, XmlEscapeWritesOnlyWhatAnXmlParserAccepts) {
  EXPECT_EQ(XmlEscape("a<b & \"c\" 'd'>"), "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;");
  EXPECT_EQ(XmlEscape("caf\xc3\xa9 \xf0\x9f\x98\x80"), "caf\xc3\xa9 \xf0\x9f\x98\x80");  // UTF-8 kept
  EXPECT_EQ(XmlEscape("tab\tline\n"), "tab\tline\n");
  EXPECT_EQ(XmlEscape("cr\r"), "cr&#13;");
  // Control characters XML 1.0 cannot carry, even as references, become U+FFFD.
  EXPECT_EQ(XmlEscape("x\x01y"), "x\xef\xbf\xbdy");
  EXPECT_EQ(XmlEscape(std::string("\0\x1f", 2)), "\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(XmlEscape("\xef\xbf\xbe\xef\xbf\xbf"), "\xef\xbf\xbd\xef\xbf\xbd");  // U+FFFE, U+FFFF
  // Bytes that are not UTF-8, one U+FFFD each.
  EXPECT_EQ(XmlEscape("caf\xe9!"), "caf\xef\xbf\xbd!");
  EXPECT_EQ(XmlEscape("\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // a surrogate
  EXPECT_TRUE(IsUtf8(XmlEscape("\xff\xfe\xc3")));
}

TEST(Strings, Base64RoundTripsAndMatchesRfc4648Vectors) {
  const std::pair<const char*, const char*> kVectors[] = {
      {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : kVectors) {
    EXPECT_EQ(Base64Encode(plain), encoded);
    EXPECT_EQ(Base64Decode(encoded), plain);
  }
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  EXPECT_EQ(Base64Decode(Base64Encode(all)), all);
}

TEST(Strings, Base64DecodeRefusesWhatIsNotPaddedBase64) {
  for (const char* bad : {"Zg", "Zg=", "Z===", "Zg==Zg==", "Zm9v\n", "Zm 9", "Zm9-", "=Zm9", "Zg=a"}) {
    EXPECT_EQ(Base64Decode(bad), std::nullopt) << bad;
  }
}

TEST(Durations, UnitsAreSecondsMinutesHoursAndDaysAndAnythingElseIsMalformed) {
  EXPECT_EQ(ParseDuration("90s"), 90);
  EXPECT_EQ(ParseDuration("10m"), 600);
  EXPECT_EQ(ParseDuration("2h"), 7200);
  EXPECT_EQ(ParseDuration("7d"), 7 * 86400);
  EXPECT_EQ(ParseDuration("0d"), 0);
  for (const char* bad : {"", "d", "7", "7w", "-1d", "1.5h", " 1h", "99999999999d"}) {
    EXPECT_EQ(ParseDuration(bad), -1) << bad;
  }
}

TEST(Strings, NestingIsMeasuredOutsideStringsOnly) {
  EXPECT_FALSE(NestsDeeperThan(R"({"a":"[[[[[[[[[[[[\"[[[["})", 2));
  EXPECT_TRUE(NestsDeeperThan(R"({"a":[[1]]})", 2));
  EXPECT_FALSE(NestsDeeperThan(R"({"a":[1],"b":{"c":2}})", 2));
  EXPECT_FALSE(NestsDeeperThan(R"({"a":[[1]]})", 3));
  // Deep input is scanned, never recursed into.
  EXPECT_TRUE(NestsDeeperThan(std::string(100000, '[') + std::string(100000, ']'), 64));
}

}  // namespace slipway
