#include "sim/theory/units.h"

#include <gtest/gtest.h>

#include <cmath>

namespace swarm::sim::theory {
namespace {

using core::kMiB;
using core::Rate;

// VALIDATION.md: F = 100 MiB = 838,860,800 bit; u = 1 Mb/s = 10^6 bit/s.
TEST(UnitsTest, MebibytesOverMegabitsPerSecond) {
  EXPECT_DOUBLE_EQ(TransferSeconds(100 * kMiB, Rate::MegabitsPerSecond(1)),
                   838.8608);
  // Mixing MB (10^6) with MiB would give 800 s: a 4.9% error.
  EXPECT_DOUBLE_EQ(TransferSeconds(100'000'000, Rate::MegabitsPerSecond(1)),
                   800.0);
}

TEST(UnitsTest, ZeroAndInfiniteRates) {
  EXPECT_EQ(TransferSeconds(0, Rate::Zero()), 0.0);
  EXPECT_EQ(TransferSeconds(1, Rate::Zero()), kNever);
  EXPECT_EQ(TransferSeconds(1, Rate::BytesPerSecond(INFINITY)), 0.0);
  EXPECT_TRUE(std::isinf(kNever));
}

TEST(UnitsTest, FilesPerSecond) {
  EXPECT_DOUBLE_EQ(1.0 / FilesPerSecond(Rate::MegabitsPerSecond(4), 100 * kMiB),
                   209.7152);
}

TEST(UnitsTest, ToDurationRoundsAndRefusesInfinity) {
  EXPECT_EQ(ToDuration(830.5552475)->micros(), 830'555'248);
  EXPECT_EQ(ToDuration(0.0), core::Duration::Zero());
  EXPECT_FALSE(ToDuration(kNever).has_value());
  EXPECT_FALSE(ToDuration(1e300).has_value());
}

}  // namespace
}  // namespace swarm::sim::theory
