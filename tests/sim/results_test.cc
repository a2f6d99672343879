// PieceAvailability (sim/results.h): timeline.csv's availability columns,
// for the simulator and `swarm run-scenario` alike, on hand-computed cases.
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

}  // namespace
}  // namespace swarm::sim
