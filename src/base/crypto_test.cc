#include "base/crypto.h"

#include <gtest/gtest.h>

#include "base/strings.h"

namespace slipway {

TEST(Crypto, Sha256OfEmptyStringIsTheKnownDigest) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Crypto, Sha1MatchesTheKnownDigest) {
  EXPECT_EQ(Sha1Hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST(Crypto, HmacSha256MatchesRfc4231Case2) {
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Crypto, ConstantTimeEqualsComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
}

TEST(Crypto, SealedValuesOpenOnlyWithTheirKeyAndContext) {
  const std::string key = RandomBytes(kSealKeyBytes);
  const std::string sealed = Seal(key, "hunter2 is my password", "secret:a:v1");
  EXPECT_EQ(sealed.find("hunter2"), std::string::npos);
  EXPECT_EQ(Open(key, sealed, "secret:a:v1"), "hunter2 is my password");
  EXPECT_EQ(Open(key, sealed, "secret:b:v1"), std::nullopt) << "a value moved to another row";
  EXPECT_EQ(Open(RandomBytes(kSealKeyBytes), sealed, "secret:a:v1"), std::nullopt);
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::string flipped = sealed;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x01);
    EXPECT_EQ(Open(key, flipped, "secret:a:v1"), std::nullopt) << "byte " << i;
  }
  EXPECT_EQ(Open(key, sealed.substr(0, 20), "secret:a:v1"), std::nullopt);
  EXPECT_EQ(Open(key, "", ""), std::nullopt);
}

TEST(Crypto, SealingTheSameValueTwiceGivesDifferentBytes) {
  const std::string key = RandomBytes(kSealKeyBytes);
  EXPECT_NE(Seal(key, "same", "c"), Seal(key, "same", "c"));
  EXPECT_EQ(Open(key, Seal(key, "", "c"), "c"), "");
}

}  // namespace slipway
