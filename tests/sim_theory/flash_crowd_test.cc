#include "sim/theory/flash_crowd.h"

#include <gtest/gtest.h>

#include "sim/theory/units.h"

namespace swarm::sim::theory {
namespace {

using core::Rate;

// VALIDATION.md V3: one piece, F = 1 MB (10^6 bytes), u = 1 Mb/s, one seed,
// N = 1000. A round is 8e6 bit / 1e6 bit/s = 8 s.
FlashCrowd V3() {
  return FlashCrowd{.leechers = 1000,
                    .seeds = 1,
                    .file_size = 1'000'000,
                    .upload = Rate::MegabitsPerSecond(1)};
}

TEST(FlashCrowdTest, ValidationV3) {
  const FlashCrowd c = V3();
  EXPECT_DOUBLE_EQ(FlashCrowdRoundSeconds(c), 8.0);
  for (int k = 0; k <= 9; ++k) {
    EXPECT_EQ(FlashCrowdCompletedAfterRounds(c, k), (int64_t{1} << k) - 1) << k;
    EXPECT_EQ(FlashCrowdCompletedAt(c, 8.0 * k), (int64_t{1} << k) - 1) << k;
  }
  EXPECT_EQ(FlashCrowdCompletedAfterRounds(c, 10), 1000);  // Capped at N.
  EXPECT_EQ(FlashCrowdRoundsToFinish(c), 10);
  EXPECT_DOUBLE_EQ(FlashCrowdMakespan(c), 80.0);
}

TEST(FlashCrowdTest, CompletionsHappenAtRoundEnds) {
  const FlashCrowd c = V3();
  EXPECT_EQ(FlashCrowdCompletedAt(c, 7.999), 0);
  EXPECT_EQ(FlashCrowdCompletedAt(c, 8.0), 1);
  EXPECT_EQ(FlashCrowdCompletedAt(c, 23.9), 3);
  EXPECT_EQ(FlashCrowdCompletedAt(c, 1e9), 1000);
}

TEST(FlashCrowdTest, CurveDoublesItsServiceCapacity) {
  const std::vector<FlashCrowdPoint> curve = FlashCrowdCurve(V3());
  ASSERT_EQ(curve.size(), 11u);
  for (int k = 0; k <= 9; ++k) {
    EXPECT_DOUBLE_EQ(curve[k].time_s, 8.0 * k);
    EXPECT_EQ(curve[k].holders, int64_t{1} << k);
    EXPECT_EQ(curve[k].completed, curve[k].holders - 1);
  }
  EXPECT_EQ(curve[10].completed, 1000);
  EXPECT_EQ(curve[10].holders, 1001);
}

TEST(FlashCrowdTest, ExactPowersOfTwo) {
  FlashCrowd c = V3();
  c.leechers = 1023;  // 2^10 - 1: ten rounds exactly.
  EXPECT_EQ(FlashCrowdRoundsToFinish(c), 10);
  c.leechers = 1024;
  EXPECT_EQ(FlashCrowdRoundsToFinish(c), 11);
  c.leechers = 1;
  EXPECT_EQ(FlashCrowdRoundsToFinish(c), 1);
}

TEST(FlashCrowdTest, SeveralSeeds) {
  FlashCrowd c = V3();
  c.seeds = 3;  // 3 (2^k - 1): 0, 3, 9, 21, ...
  EXPECT_EQ(FlashCrowdCompletedAfterRounds(c, 1), 3);
  EXPECT_EQ(FlashCrowdCompletedAfterRounds(c, 3), 21);
  EXPECT_EQ(FlashCrowdRoundsToFinish(c), 9);  // 3 * 511 = 1533 >= 1000 > 765.
}

TEST(FlashCrowdTest, EdgeCases) {
  FlashCrowd c = V3();
  c.leechers = 0;
  EXPECT_EQ(FlashCrowdMakespan(c), 0.0);
  EXPECT_EQ(FlashCrowdRoundsToFinish(c), 0);
  EXPECT_EQ(FlashCrowdCurve(c).size(), 1u);

  c = V3();
  c.seeds = 0;  // Nobody has the file.
  EXPECT_EQ(FlashCrowdMakespan(c), kNever);
  EXPECT_EQ(FlashCrowdRoundsToFinish(c), -1);
  EXPECT_EQ(FlashCrowdCompletedAfterRounds(c, 50), 0);
  EXPECT_EQ(FlashCrowdCurve(c).size(), 1u);

  c = V3();
  c.upload = Rate::Zero();
  EXPECT_EQ(FlashCrowdRoundSeconds(c), kNever);
  EXPECT_EQ(FlashCrowdMakespan(c), kNever);
  EXPECT_EQ(FlashCrowdCompletedAt(c, 1e6), 0);
  EXPECT_EQ(FlashCrowdCurve(c).size(), 1u);

  c = V3();  // Many rounds never overflow.
  EXPECT_EQ(FlashCrowdCompletedAfterRounds(c, 1'000'000), 1000);
  c.leechers = int64_t{1} << 60;
  EXPECT_EQ(FlashCrowdRoundsToFinish(c), 61);
}

}  // namespace
}  // namespace swarm::sim::theory
