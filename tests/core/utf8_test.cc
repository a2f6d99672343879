#include "core/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace swarm::core {
namespace {

TEST(Utf8Test, WellFormedTextHasNoProblem) {
  for (const std::string s : {"", "plain ascii", "caf\u00e9", "\u65e5\u672c\u8a9e",
                              "\U0001F600 smile", "\u007f\u0080\u07ff\u0800\uffff\U00010000"}) {
    EXPECT_EQ(Utf8ErrorAt(s), std::string::npos) << s;
    EXPECT_EQ(Utf8Problem(s), std::nullopt) << s;
    EXPECT_EQ(EscapeNonUtf8(s), s);
  }
}

TEST(Utf8Test, FindsTheFirstMalformedByte) {
  EXPECT_EQ(Utf8ErrorAt("ab\xff"), 2u);              // never valid
  EXPECT_EQ(Utf8ErrorAt("\x80"), 0u);                // stray continuation
  EXPECT_EQ(Utf8ErrorAt("x\xc0\xaf"), 1u);           // overlong '/'
  EXPECT_EQ(Utf8ErrorAt("\xe0\x80\xaf"), 0u);        // overlong, 3 bytes
  EXPECT_EQ(Utf8ErrorAt("ok\xed\xa0\x80"), 2u);      // surrogate U+D800
  EXPECT_EQ(Utf8ErrorAt("\xf4\x90\x80\x80"), 0u);    // beyond U+10FFFF
  EXPECT_EQ(Utf8ErrorAt("caf\xc3"), 3u);             // cut short at the end
  EXPECT_EQ(Utf8ErrorAt("\xe6\x97x"), 0u);           // cut short before ASCII
}

TEST(Utf8Test, DecodesCodePoints) {
  char32_t cp = 0;
  EXPECT_EQ(Utf8DecodeOne("A", 0, &cp), 1u);
  EXPECT_EQ(cp, U'A');
  EXPECT_EQ(Utf8DecodeOne("x\u00e9", 1, &cp), 2u);
  EXPECT_EQ(cp, U'\u00e9');
  EXPECT_EQ(Utf8DecodeOne("\u202e", 0, &cp), 3u);
  EXPECT_EQ(cp, U'\u202e');
  EXPECT_EQ(Utf8DecodeOne("\U0001F600", 0, &cp), 4u);
  EXPECT_EQ(cp, U'\U0001F600');
  EXPECT_EQ(Utf8DecodeOne("\xc3", 0, &cp), 0u);
}

TEST(Utf8Test, ProblemCountsBytesFromOneAndQuotesTheByte) {
  EXPECT_EQ(Utf8Problem("ab\xff"), "not valid UTF-8 at byte 3 (0xff)");
}

TEST(Utf8Test, EscapesEachBadByteOnItsOwn) {
  EXPECT_EQ(EscapeNonUtf8("a\xff" "b\xc3"), "a\\xffb\\xc3");
  EXPECT_EQ(EscapeNonUtf8("\xe6\x97x"), "\\xe6\\x97x");
}

}  // namespace
}  // namespace swarm::core
