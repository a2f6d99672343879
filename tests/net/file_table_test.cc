#include "net-real/cli/file_table.h"

#include <sstream>

#include <gtest/gtest.h>

namespace swarm::net::cli {
namespace {

core::FileEntry Entry(const std::string& name, uint32_t seeds = 1) {
  core::FileEntry e;
  e.name = name;
  e.length = 3 * core::kMiB;
  e.piece_length = 256 * core::kKiB;
  e.piece_count = 12;
  e.seeds = seeds;
  for (size_t i = 0; i < e.info_hash.size(); ++i) e.info_hash[i] = static_cast<uint8_t>(17 * i);
  return e;
}

// Code points, counted here independently of DisplayWidth: every byte that
// does not continue a UTF-8 sequence.
size_t Columns(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(PrintableNameTest, KeepsWellFormedText) {
  for (const char* s : {"movie.bin", "caf\u00e9.mkv", "\u65e5\u672c\u8a9e.txt",
                        "\u0645\u0644\u0641", "\U0001F600 emoji", "\U0010FFFD"}) {
    EXPECT_EQ(PrintableName(s), s);
  }
}

TEST(PrintableNameTest, ReplacesWhatSteersTheTerminal) {
  EXPECT_EQ(PrintableName("a\x1b[31mred"), "a?[31mred");  // ESC
  EXPECT_EQ(PrintableName("a\tb\x7f"), "a?b?");            // tab, DEL
  EXPECT_EQ(PrintableName("x\xc2\x9b" "31m"), "x?31m");    // C1 CSI, U+009B
  EXPECT_EQ(PrintableName("evil\u202etxt.exe"), "evil?txt.exe");  // right-to-left override
  EXPECT_EQ(PrintableName("a\u2066b\u2069"), "a?b?");      // bidi isolates
}

// Every byte that is not part of a well-formed sequence becomes one '?'.
TEST(PrintableNameTest, ReplacesMalformedBytesOneByOne) {
  EXPECT_EQ(PrintableName("\xff" "a"), "?a");            // never valid
  EXPECT_EQ(PrintableName("a\x80"), "a?");               // stray continuation
  EXPECT_EQ(PrintableName("\xc0\xaf"), "??");            // overlong '/'
  EXPECT_EQ(PrintableName("\xe0\x80\xaf"), "???");       // overlong, 3 bytes
  EXPECT_EQ(PrintableName("\xed\xa0\x80"), "???");       // surrogate U+D800
  EXPECT_EQ(PrintableName("\xf4\x90\x80\x80"), "????");  // beyond U+10FFFF
  EXPECT_EQ(PrintableName("ab\xe6\x97"), "ab??");        // cut short at the end
  EXPECT_EQ(PrintableName("\xe6\x97" "x"), "??x");       // cut short before ASCII
}

// Terminal columns, not code points (it counted 7 for the Japanese name
// and 1 for the emoji, so `swarm list` rows with such names stuck out).
TEST(DisplayWidthTest, CountsTerminalColumns) {
  EXPECT_EQ(DisplayWidth(""), 0u);
  EXPECT_EQ(DisplayWidth("movie.bin"), 9u);
  EXPECT_EQ(DisplayWidth("caf\u00e9"), 4u);                 // 5 bytes
  EXPECT_EQ(DisplayWidth("cafe\u0301"), 4u);                // e + combining acute
  EXPECT_EQ(DisplayWidth("\u65e5\u672c\u8a9e.txt"), 10u);  // 13 bytes, 3 wide
  EXPECT_EQ(DisplayWidth("\U0001F600"), 2u);                // 4 bytes, wide
}

// A row with wide characters is padded to the same columns as one without.
TEST(FormatFileTableTest, WideNamesArePaddedByColumns) {
  const auto lines = Lines(FormatFileTable({Entry("\u65e5\u672c\u8a9e.txt"), Entry("abcdefghij")}));
  ASSERT_EQ(lines.size(), 3u);
  // 10 columns each: the same padding after both names.
  EXPECT_EQ(lines[1].substr(std::string("\u65e5\u672c\u8a9e.txt").size()), lines[2].substr(10));
}

// Every line of the table is as wide as the header, whatever the names.
TEST(FormatFileTableTest, ColumnsLineUpWithMultiByteNames) {
  const std::string table = FormatFileTable(
      {Entry("plain.bin"), Entry("caf\u00e9-\u00fcber-na\u00efve.mkv", 2),
       Entry("\u0444\u0438\u043b\u044c\u043c.avi"), Entry("bad\xff\xfe.bin"),
       Entry("esc\x1b[2J.bin")});
  const auto lines = Lines(table);
  ASSERT_EQ(lines.size(), 6u);
  // NAME (32) + SIZE (1+12) + PIECES (1+8) + SEEDS (1+6) + LEECHERS (1+9)
  // + INFO-HASH (2+16)
  for (const auto& line : lines) EXPECT_EQ(Columns(line), 89u) << line;
  EXPECT_EQ(lines[4].substr(0, 32), "bad??.bin" + std::string(23, ' '));
  EXPECT_EQ(lines[5].find('\x1b'), std::string::npos);
}

// A long name widens the column by its code points, not its bytes: 40
// two-byte characters make a column of 40, not 80.
TEST(FormatFileTableTest, LongNameWidensTheColumnByCodePoints) {
  std::string name;
  for (int i = 0; i < 40; ++i) name += "\u00e9";
  const auto lines = Lines(FormatFileTable({Entry(name), Entry("short")}));
  ASSERT_EQ(lines.size(), 3u);
  for (const auto& line : lines) EXPECT_EQ(Columns(line), 40u + 39u + 18u) << line;
  EXPECT_EQ(lines[2].rfind("short", 0), 0u);
}

// The last column is the info-hash's first 16 hex digits (8 bytes).
TEST(FormatFileTableTest, SameLayoutAsBeforeForAsciiNames) {
  EXPECT_EQ(FormatFileTable({Entry("payload.bin", 0)}),
            "NAME                                     SIZE   PIECES  SEEDS  LEECHERS  INFO-HASH       \n"
            "payload.bin                           3.0 MiB       12      0         0  0011223344556677\n");
  EXPECT_EQ(FormatFileTable({}),
            "NAME                                     SIZE   PIECES  SEEDS  LEECHERS  INFO-HASH       \n"
            "(no files published)\n");
}

}  // namespace
}  // namespace swarm::net::cli
