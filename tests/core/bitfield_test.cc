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

}  // namespace
}  // namespace swarm::core
