#include "sim/theory/distribution_bounds.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "sim/theory/theory.h"
#include "sim/theory/units.h"

namespace swarm::sim::theory {
namespace {

using core::kKiB;
using core::kMiB;
using core::Rate;

Rate Mbps(double m) { return Rate::MegabitsPerSecond(m); }

// n leechers with the same capacities and the given seeds.
DistributionProblem Homogeneous(int n, Rate up, Rate down,
                                std::vector<Rate> seeds) {
  DistributionProblem p;
  p.file_size = 100 * kMiB;
  p.piece_length = 256 * kKiB;
  p.seed_uploads = std::move(seeds);
  p.leechers.assign(n, LeecherCapacity{up, down});
  return p;
}

// VALIDATION.md V1: N = 1000, F = 100 MiB, u = 1 Mb/s, d = 8 Mb/s, one seed
// at 10 Mb/s. By hand: F/u_s = 83.886 s, F/d = 104.858 s,
// N*F/(u_s + N*u) = 1000 * 838.8608 s / 1010 = 830.555 s.
TEST(KumarRossTest, ValidationV1) {
  const auto p = Homogeneous(1000, Mbps(1), Mbps(8), {Mbps(10)});
  EXPECT_NEAR(KumarRossMinTime(p), 830.5552475, 1e-6);
}

TEST(KumarRossTest, SeedTermBinds) {
  // One slow seed (0.5 Mb/s) and two fast leechers: F/u_s = 1677.7 s.
  const auto p = Homogeneous(2, Mbps(100), Mbps(100), {Mbps(0.5)});
  EXPECT_NEAR(KumarRossMinTime(p), 1677.7216, 1e-6);
}

TEST(KumarRossTest, DownloadTermBinds) {
  // The slowest leecher downloads at 0.25 Mb/s: F/d_min = 3355.4 s.
  auto p = Homogeneous(3, Mbps(10), Mbps(10), {Mbps(10)});
  p.leechers[1].download = Mbps(0.25);
  EXPECT_NEAR(KumarRossMinTime(p), 3355.4432, 1e-6);
}

TEST(KumarRossTest, SeveralSeedsActAsTheirSum) {
  const auto one = Homogeneous(1000, Mbps(1), Mbps(8), {Mbps(10)});
  const auto two = Homogeneous(1000, Mbps(1), Mbps(8), {Mbps(4), Mbps(6)});
  EXPECT_DOUBLE_EQ(KumarRossMinTime(one), KumarRossMinTime(two));
  EXPECT_EQ(KumarRossRankBounds(one), KumarRossRankBounds(two));
  // The seed term uses the summed seed upload: 2 x 0.25 Mb/s -> F/0.5 Mb/s.
  const auto slow =
      Homogeneous(2, Mbps(100), Mbps(100), {Mbps(0.25), Mbps(0.25)});
  EXPECT_NEAR(KumarRossMinTime(slow), 1677.7216, 1e-6);
}

TEST(KumarRossTest, RankBoundsOfV1) {
  const auto p = Homogeneous(1000, Mbps(1), Mbps(8), {Mbps(10)});
  const std::vector<double> b = KumarRossRankBounds(p);
  ASSERT_EQ(b.size(), 1000u);
  EXPECT_NEAR(b[0], 104.8576, 1e-6);       // F/d dominates early ranks.
  EXPECT_NEAR(b[499], 415.2776238, 1e-6);  // 500 * 838.8608 / 1010.
  EXPECT_DOUBLE_EQ(b.back(), KumarRossMinTime(p));
  EXPECT_TRUE(std::is_sorted(b.begin(), b.end()));
}

TEST(KumarRossTest, RankBoundsUseSortedPeerDownloads) {
  // Plenty of upload: the k-th finisher waits for the k-th fastest link.
  DistributionProblem p;
  p.file_size = 100 * kMiB;
  p.seed_uploads = {Mbps(1000)};
  for (double d : {4.0, 1.0, 2.0}) p.leechers.push_back({Mbps(1000), Mbps(d)});
  const std::vector<double> b = KumarRossRankBounds(p);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_NEAR(b[0], 209.7152, 1e-6);
  EXPECT_NEAR(b[1], 419.4304, 1e-6);
  EXPECT_NEAR(b[2], 838.8608, 1e-6);
  EXPECT_NEAR(KumarRossPeerBound(p.file_size, p.leechers[1]), 838.8608, 1e-6);
}

TEST(KumarRossTest, NoLeechers) {
  const auto p = Homogeneous(0, Mbps(1), Mbps(8), {Mbps(10)});
  EXPECT_EQ(KumarRossMinTime(p), 0.0);
  EXPECT_TRUE(KumarRossRankBounds(p).empty());
}

TEST(KumarRossTest, ZeroCapacityIsNeverNotNaN) {
  const auto no_seed_upload = Homogeneous(10, Mbps(1), Mbps(8), {Rate::Zero()});
  EXPECT_EQ(KumarRossMinTime(no_seed_upload), kNever);
  const auto no_seed = Homogeneous(10, Mbps(1), Mbps(8), {});
  EXPECT_EQ(KumarRossMinTime(no_seed), kNever);
  for (double b : KumarRossRankBounds(no_seed)) EXPECT_EQ(b, kNever);

  auto one_stuck = Homogeneous(3, Mbps(1), Mbps(8), {Mbps(10)});
  one_stuck.leechers[2].download = Rate::Zero();
  EXPECT_EQ(KumarRossMinTime(one_stuck), kNever);
  const std::vector<double> b = KumarRossRankBounds(one_stuck);
  EXPECT_TRUE(std::isfinite(b[1]));  // The other two can still finish.
  EXPECT_EQ(b[2], kNever);
}

TEST(KumarRossTest, EmptyFileAndUnlimitedLinks) {
  auto empty = Homogeneous(5, Rate::Zero(), Rate::Zero(), {Rate::Zero()});
  empty.file_size = 0;
  EXPECT_EQ(KumarRossMinTime(empty), 0.0);
  const Rate unlimited = Rate::BytesPerSecond(INFINITY);
  // Unlimited downloads: only upload terms remain; for N = 9 and a 10 Mb/s
  // seed the aggregate one binds: 9 * 838.8608 s / 19 = 397.3551 s.
  const auto p = Homogeneous(9, Mbps(1), unlimited, {Mbps(10)});
  EXPECT_NEAR(KumarRossMinTime(p), 397.3551158, 1e-6);
  EXPECT_EQ(KumarRossPeerBound(p.file_size, p.leechers[0]), 0.0);
}

// VALIDATION.md: (F/u)(1 + floor(log2 1000)/400) = 838.8608 * 1.0225.
TEST(PieceGranularTest, ValidationValue) {
  EXPECT_NEAR(PieceGranularBound(1000, 100 * kMiB, 256 * kKiB, Mbps(1)),
              857.735168, 1e-6);
}

TEST(PieceGranularTest, FloorOfLog2) {
  const auto bound = [](int64_t n) {
    // F = 4 pieces of 1 KiB at 1 KiB/s: F/u = 4 s, one piece-time = 1 s.
    return PieceGranularBound(n, 4 * kKiB, kKiB, Rate::BytesPerSecond(1024));
  };
  EXPECT_EQ(bound(0), 0.0);
  EXPECT_DOUBLE_EQ(bound(1), 4.0);
  EXPECT_DOUBLE_EQ(bound(2), 5.0);
  EXPECT_DOUBLE_EQ(bound(3), 5.0);
  EXPECT_DOUBLE_EQ(bound(4), 6.0);
  EXPECT_DOUBLE_EQ(bound(1023), 13.0);
  EXPECT_DOUBLE_EQ(bound(1024), 14.0);
}

TEST(PieceGranularTest, ShortLastPieceUsesTheSmallestPiece) {
  // F = 1000 B in pieces of 300 B: 300, 300, 300, 100. N = 4: two doublings
  // of the 100-byte piece after F/u.
  EXPECT_DOUBLE_EQ(PieceGranularBound(4, 1000, 300, Rate::BytesPerSecond(100)),
                   10.0 + 2.0);
}

TEST(PieceGranularTest, ZeroUploadIsNever) {
  EXPECT_EQ(PieceGranularBound(10, 100 * kMiB, 256 * kKiB, Rate::Zero()),
            kNever);
}

TEST(PieceGranularTest, AppliesOnlyToEqualUploadsAndOneSeed) {
  const auto equal = Homogeneous(1000, Mbps(1), Mbps(8), {Mbps(1)});
  ASSERT_TRUE(PieceGranularBoundIfApplies(equal).has_value());
  EXPECT_NEAR(*PieceGranularBoundIfApplies(equal), 857.735168, 1e-6);
  EXPECT_FALSE(PieceGranularBoundIfApplies(
                   Homogeneous(1000, Mbps(1), Mbps(8), {Mbps(10)}))
                   .has_value());
  EXPECT_FALSE(PieceGranularBoundIfApplies(
                   Homogeneous(1000, Mbps(1), Mbps(8), {Mbps(1), Mbps(1)}))
                   .has_value());
  EXPECT_FALSE(
      PieceGranularBoundIfApplies(Homogeneous(0, Mbps(1), Mbps(8), {Mbps(1)}))
          .has_value());
  auto one_differs = equal;
  one_differs.leechers[17].upload = Mbps(1.001);
  EXPECT_FALSE(PieceGranularBoundIfApplies(one_differs).has_value());
}

TEST(SwarmBoundsTest, CombinesTheBounds) {
  const SwarmBounds v1 =
      ComputeSwarmBounds(Homogeneous(1000, Mbps(1), Mbps(8), {Mbps(10)}));
  EXPECT_NEAR(v1.kumar_ross_s, 830.5552475, 1e-6);
  EXPECT_FALSE(v1.piece_granular_s.has_value());
  EXPECT_EQ(v1.makespan_bound_s, v1.kumar_ross_s);
  EXPECT_EQ(v1.rank_bounds_s.size(), 1000u);

  // Seed at peer speed: Kumar-Ross gives F/u_s = 838.86 s (the aggregate
  // term is N*F/((N+1)u) = 838.02 s), below the piece-granular 857.74 s,
  // which becomes the makespan bound.
  const SwarmBounds equal =
      ComputeSwarmBounds(Homogeneous(1000, Mbps(1), Mbps(8), {Mbps(1)}));
  EXPECT_NEAR(equal.kumar_ross_s, 838.8608, 1e-6);  // F/u_s binds.
  ASSERT_TRUE(equal.piece_granular_s.has_value());
  EXPECT_NEAR(equal.makespan_bound_s, 857.735168, 1e-6);
}

}  // namespace
}  // namespace swarm::sim::theory
