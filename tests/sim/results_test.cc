// PieceAvailability (sim/results.h): timeline.csv's availability columns,
// for the simulator and `swarm run-scenario` alike, on hand-computed cases;
// and AverageOverTime, summary.json's over_time, likewise.
#include "sim/results.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <variant>
#include <vector>

#include "sim/scenario_yaml.h"

namespace swarm::sim {
namespace {

Scenario Shipped(const std::string& name) {
  auto r = LoadScenario(std::string(SWARMLAB_SOURCE_DIR) + "/scenarios/" + name);
  if (auto* e = std::get_if<ScenarioLoadError>(&r)) ADD_FAILURE() << e->message;
  return std::get<Scenario>(r);
}

// sim run's summary names the Qiu-Srikant steady state where the model
// applies (the README promised it; only summary.json's fluid_model and sim
// bounds had it), and not where it does not.
TEST(HumanSummaryTest, FluidModelLineOnlyWhereTheModelApplies) {
  const Scenario steady = Shipped("steady_state.yaml");
  const RunResult none;
  EXPECT_NE(HumanSummary(steady, none, Summarize(steady, none))
                .find("\n  fluid model    download time 41.9 s (Qiu-Srikant steady state, "
                      "download-constrained; leechers 2.1, seeds 15.0)\n"),
            std::string::npos)
      << HumanSummary(steady, none, Summarize(steady, none));
  const Scenario flash = Shipped("flash_crowd.yaml");
  EXPECT_EQ(HumanSummary(flash, none, Summarize(flash, none)).find("fluid"), std::string::npos);
}

AvailabilityStats Of(std::vector<uint32_t> copies) { return PieceAvailability(copies); }

TEST(PieceAvailabilityTest, EqualCopiesAreEvenness1) {
  const AvailabilityStats a = Of({3, 3, 3, 3});
  EXPECT_EQ(a.min, 3);
  EXPECT_EQ(a.mean, 3);
  EXPECT_DOUBLE_EQ(a.entropy, 1.0);  // log 4 / log 4
}

TEST(PieceAvailabilityTest, OneMissingPiece) {
  // Shares 1/3, 1/3, 1/3, 0: entropy log 3, over its maximum log 4.
  const AvailabilityStats a = Of({2, 2, 2, 0});
  EXPECT_EQ(a.min, 0);
  EXPECT_EQ(a.mean, 1.5);
  EXPECT_DOUBLE_EQ(a.entropy, std::log(3.0) / std::log(4.0));
  EXPECT_NEAR(a.entropy, 0.792481, 1e-6);
}

TEST(PieceAvailabilityTest, UnevenCopies) {
  // Shares 1/4 and 3/4: -(0.25 ln 0.25 + 0.75 ln 0.75) / ln 2 = 0.811278.
  const AvailabilityStats a = Of({1, 3});
  EXPECT_EQ(a.min, 1);
  EXPECT_EQ(a.mean, 2);
  EXPECT_NEAR(a.entropy, 0.811278, 1e-6);
}

// A one-piece file cannot be uneven: 1 with any number of copies (the
// real runner wrote 0 here, the simulator 1).
TEST(PieceAvailabilityTest, OnePieceIsEven) {
  for (uint32_t copies : {1u, 7u}) {
    const AvailabilityStats a = Of({copies});
    EXPECT_EQ(a.min, copies);
    EXPECT_EQ(a.mean, copies);
    EXPECT_EQ(a.entropy, 1.0) << copies << " copies";
  }
}

TEST(PieceAvailabilityTest, NoCopiesAndNoPiecesGiveZeros) {
  for (const std::vector<uint32_t>& copies :
       {std::vector<uint32_t>{0, 0, 0}, std::vector<uint32_t>{0}, std::vector<uint32_t>{}}) {
    const AvailabilityStats a = Of(copies);
    EXPECT_EQ(a.min, 0) << copies.size() << " pieces";
    EXPECT_EQ(a.mean, 0) << copies.size() << " pieces";
    EXPECT_EQ(a.entropy, 0) << copies.size() << " pieces";
  }
}


core::Time At(double s) { return core::Time::Zero() + core::Duration::SecondsF(s); }

// A seed from 0 s on; leecher A joins at 0 s, completes at 10 s and leaves
// at 20 s; leecher B joins at 5 s and fails at 15 s without completing;
// leecher C joins at 30 s. Timeline rows at 0, 10, 20 and 30 s.
RunResult Hand() {
  RunResult r;
  PeerRecord seed;
  seed.started_complete = true;
  seed.join = At(0);
  PeerRecord a;
  a.join = At(0);
  a.completion = At(10);
  a.leave = At(20);
  PeerRecord b;
  b.join = At(5);
  b.leave = At(15);
  b.failed = true;
  PeerRecord c;
  c.join = At(30);
  r.peers = {seed, a, b, c};
  const double util[] = {0, 0.5, 1.0, 0.2}, min[] = {1, 1, 2, 0}, ent[] = {1, 0.8, 0.9, 0.5};
  for (int i = 0; i < 4; ++i) {
    TimelineRow row;
    row.time = At(10 * i);
    row.upload_utilization_mean = util[i];
    row.availability_min = min[i];
    row.availability_entropy = ent[i];
    r.timeline.push_back(row);
  }
  return r;
}

TEST(AverageOverTimeTest, HandComputedOverTheFirstTwentySeconds) {
  const auto o = AverageOverTime(Hand(), At(0), At(20));
  ASSERT_TRUE(o);
  EXPECT_EQ(o->from_s, 0);
  EXPECT_EQ(o->until_s, 20);
  // Leecher-seconds: A 0..10, B 5..15 = 20 over 20 s.
  EXPECT_DOUBLE_EQ(o->leechers, 1.0);
  // Seed-seconds: the seed 20, A seeding 10..20 = 10; 30 over 20 s, of
  // which A's 10 came from a leecher of the run.
  EXPECT_DOUBLE_EQ(o->seeds, 1.5);
  EXPECT_DOUBLE_EQ(o->seeds_from_leechers, 0.5);
  // Rows 10 s and 20 s stand for (0, 10] and (10, 20]; row 30 s is outside.
  EXPECT_DOUBLE_EQ(*o->upload_utilization, (0.5 * 10 + 1.0 * 10) / 20);
  EXPECT_DOUBLE_EQ(*o->availability_min, (1 * 10 + 2 * 10) / 20.0);
  EXPECT_DOUBLE_EQ(*o->availability_entropy, (0.8 * 10 + 0.9 * 10) / 20);
  EXPECT_EQ(*o->lowest_availability_min, 1);  // rows 0, 10 and 20 s
}

TEST(AverageOverTimeTest, APartOfEachIntervalCountsForItsShare) {
  const auto o = AverageOverTime(Hand(), At(5), At(15));
  ASSERT_TRUE(o);
  EXPECT_DOUBLE_EQ(o->leechers, (5 + 10) / 10.0);  // A 5..10, B 5..15
  EXPECT_DOUBLE_EQ(o->seeds, (10 + 5) / 10.0);     // the seed, A 10..15
  EXPECT_DOUBLE_EQ(o->seeds_from_leechers, 0.5);
  EXPECT_DOUBLE_EQ(*o->upload_utilization, (0.5 * 5 + 1.0 * 5) / 10);
  EXPECT_EQ(*o->lowest_availability_min, 1);  // the one row inside: 10 s
  // To the end: C's 0 s of leeching before 30 s count nothing, and the
  // last row's interval brings min 0.
  const auto all = AverageOverTime(Hand(), At(0), At(30));
  EXPECT_DOUBLE_EQ(all->leechers, 20 / 30.0);
  EXPECT_DOUBLE_EQ(all->seeds, (30 + 10) / 30.0);
  EXPECT_EQ(*all->lowest_availability_min, 0);
  EXPECT_DOUBLE_EQ(*all->upload_utilization, (5 + 10 + 2) / 30.0);
}

TEST(AverageOverTimeTest, AnEmptySpanHasNoAverages) {
  EXPECT_FALSE(AverageOverTime(Hand(), At(20), At(20)));
  EXPECT_FALSE(AverageOverTime(Hand(), At(20), At(10)));
  // A span inside one row's interval, (10, 20]: that row's values, and no
  // sample in it for the lowest.
  const auto o = AverageOverTime(Hand(), At(12), At(14));
  ASSERT_TRUE(o);
  EXPECT_DOUBLE_EQ(*o->upload_utilization, 1.0);
  EXPECT_FALSE(o->lowest_availability_min);  // no sample in it
}

}  // namespace
}  // namespace swarm::sim
