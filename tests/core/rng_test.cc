#include "core/rng.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <vector>

#include <gtest/gtest.h>

namespace swarm::core {
namespace {

// Golden values (checked against an independent Python implementation of
// SplitMix64 + xoshiro256**): if these change, every simulation result changes. Only
// update them on purpose, and say so in the commit.
TEST(RngTest, GoldenValues) {
  Rng rng(42);
  EXPECT_EQ(rng.NextU64(), 0x15780b2e0c2ec716ULL);
  EXPECT_EQ(rng.NextU64(), 0x6104d9866d113a7eULL);
  EXPECT_EQ(rng.Below(1000), 680u);
  Rng stream = Rng::ForStream(42, 7);
  EXPECT_EQ(stream.NextU64(), 0x89b89d7610e53d94ULL);
}

TEST(RngTest, SameSeedSameSequence) {
  Rng a(7), b(7);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(a.NextU64(), b.NextU64());
}

TEST(RngTest, StreamsDiffer) {
  Rng a = Rng::ForStream(1, 0), b = Rng::ForStream(1, 1), c = Rng::ForStream(2, 0);
  EXPECT_NE(a.NextU64(), b.NextU64());
  EXPECT_NE(Rng::ForStream(1, 0).NextU64(), c.NextU64());
}

TEST(RngTest, BelowIsInRangeAndCoversIt) {
  Rng rng(3);
  std::array<int, 7> counts{};
  for (int i = 0; i < 70000; ++i) {
    uint64_t v = rng.Below(7);
    ASSERT_LT(v, 7u);
    counts[v]++;
  }
  for (int c : counts) EXPECT_NEAR(c, 10000, 500);  // ~5 sigma
}

TEST(RngTest, UniformIntInclusive) {
  Rng rng(5);
  bool saw_lo = false, saw_hi = false;
  for (int i = 0; i < 10000; ++i) {
    int64_t v = rng.UniformInt(-2, 2);
    ASSERT_GE(v, -2);
    ASSERT_LE(v, 2);
    saw_lo |= v == -2;
    saw_hi |= v == 2;
  }
  EXPECT_TRUE(saw_lo && saw_hi);
}

TEST(RngTest, UniformRealInUnitInterval) {
  Rng rng(9);
  double sum = 0;
  for (int i = 0; i < 100000; ++i) {
    double v = rng.UniformReal();
    ASSERT_GE(v, 0.0);
    ASSERT_LT(v, 1.0);
    sum += v;
  }
  EXPECT_NEAR(sum / 100000, 0.5, 0.005);
}

TEST(RngTest, ExponentialMean) {
  Rng rng(11);
  double sum = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    double v = rng.Exponential(3.0);
    ASSERT_GE(v, 0.0);
    sum += v;
  }
  EXPECT_NEAR(sum / n, 3.0, 0.05);  // sd of mean = 3/sqrt(n) ~ 0.0067
}

TEST(RngTest, ShuffleIsPermutationAndDeterministic) {
  std::vector<int> a(50), b(50);
  std::iota(a.begin(), a.end(), 0);
  b = a;
  Rng r1(13), r2(13);
  r1.Shuffle(std::span<int>(a));
  r2.Shuffle(std::span<int>(b));
  EXPECT_EQ(a, b);
  std::vector<int> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int> expect(50);
  std::iota(expect.begin(), expect.end(), 0);
  EXPECT_EQ(sorted, expect);
  EXPECT_NE(a, expect);  // 1/50! chance of a false failure
}

}  // namespace
}  // namespace swarm::core
