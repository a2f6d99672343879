#include "core/bitfield.h"

#include <gtest/gtest.h>

namespace swarm::core {
namespace {

TEST(BitfieldTest, SetClearCount) {
  Bitfield b(10);
  EXPECT_TRUE(b.None());
  b.Set(0);
  b.Set(9);
  b.Set(9);
  EXPECT_EQ(b.Count(), 2u);
  EXPECT_TRUE(b.Test(9));
  b.Clear(9);
  EXPECT_FALSE(b.Test(9));
  EXPECT_EQ(b.Count(), 1u);
  EXPECT_TRUE(Bitfield(70, true).All());
}

TEST(BitfieldTest, FromStringAndToString) {
  Bitfield b = Bitfield::FromString("1 1  *");
  EXPECT_EQ(b.size(), 6u);
  EXPECT_EQ(b.ToString(), "101001");
}

TEST(BitfieldTest, WireRoundTripIsBep3Layout) {
  Bitfield b = Bitfield::FromString("1000000001");
  std::vector<uint8_t> wire = b.ToWire();
  ASSERT_EQ(wire.size(), 2u);
  EXPECT_EQ(wire[0], 0x80);
  EXPECT_EQ(wire[1], 0x40);
  auto back = Bitfield::FromWire(wire, 10);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, b);
}

TEST(BitfieldTest, FromWireRejectsWrongSizeAndSpareBits) {
  std::vector<uint8_t> wire = {0xff, 0xc0};
  EXPECT_TRUE(Bitfield::FromWire(wire, 10).has_value());
  EXPECT_FALSE(Bitfield::FromWire(wire, 17).has_value());   // too few bytes
  EXPECT_FALSE(Bitfield::FromWire(wire, 8).has_value());    // too many bytes
  std::vector<uint8_t> spare = {0xff, 0xe0};                 // bit 10 set
  EXPECT_FALSE(Bitfield::FromWire(spare, 10).has_value());
}

// Up to kInlineBits the bits live in the object, beyond on the heap; both
// must behave the same through copies, moves and comparisons.
TEST(BitfieldTest, InlineAndHeapBitfieldsCopyMoveAndCompare) {
  for (size_t size : {size_t{1}, Bitfield::kInlineBits, Bitfield::kInlineBits + 1, size_t{5000}}) {
    SCOPED_TRACE(size);
    Bitfield b(size);
    b.Set(0);
    b.Set(size - 1);
    ASSERT_EQ(b.words().size(), (size + 63) / 64);
    EXPECT_EQ(b.words()[(size - 1) / 64] >> ((size - 1) % 64), 1u);
    Bitfield copy = b;
    EXPECT_EQ(copy, b);
    copy.Clear(size - 1);
    EXPECT_FALSE(copy == b);  // a deep copy: b keeps its bit
    EXPECT_TRUE(b.Test(size - 1));
    EXPECT_EQ(copy.Count(), size == 1 ? 0u : 1u);
    copy = b;  // assignment over a bitfield of the same size
    EXPECT_EQ(copy, b);
    Bitfield small(3);
    small = b;  // and over one of another size
    EXPECT_EQ(small, b);
    Bitfield moved = std::move(copy);
    EXPECT_EQ(moved, b);
    EXPECT_EQ(moved.Count(), b.Count());
    Bitfield full(size, true);
    EXPECT_TRUE(full.All());
    EXPECT_EQ(full.CountNotIn(b), size - b.Count());
    EXPECT_EQ(Bitfield::FromWire(b.ToWire(), size), b);
  }
}

}  // namespace
}  // namespace swarm::core
