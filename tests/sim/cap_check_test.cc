// Rate caps against the scenario's capacities (sim/cap_check.h): the pure
// checks on hand-made numbers, and whole runs whose network model was given
// capacities 10 % above the scenario's (SimOptions::link_capacity_factor),
// which the network model's own check (cap_violations) cannot see.
#include "sim/cap_check.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "sim/engine.h"
#include "sim/scenario_yaml.h"

namespace swarm::sim {
namespace {

using core::Duration;
using core::Rate;
using core::Time;

// 1 Mbit/s = 125,000 B/s.
const Rate kMbit = Rate::MegabitsPerSecond(1);

TEST(CapCheck, OverCapAllowsOnlyFloatSlack) {
  EXPECT_FALSE(OverCap(125000, kMbit));
  EXPECT_FALSE(OverCap(125000 * (1 + 1e-10), kMbit));
  EXPECT_TRUE(OverCap(125000 * (1 + 1e-6), kMbit));
  EXPECT_TRUE(OverCap(125000 * 1.1, kMbit));
  EXPECT_FALSE(OverCap(0, Rate::Zero()));
  EXPECT_TRUE(OverCap(1, Rate::Zero()));
}

TEST(CapCheck, CapShare) {
  EXPECT_DOUBLE_EQ(CapShare(62500, kMbit), 0.5);
  EXPECT_EQ(CapShare(0, Rate::Zero()), 0);
  EXPECT_TRUE(std::isinf(CapShare(1, Rate::Zero())));
}

TEST(CapCheck, MinWireBytesCountsAHeaderPerBlock) {
  EXPECT_EQ(MinWireBytes(0, 16384), 0);
  EXPECT_EQ(MinWireBytes(16384, 16384), 16384 + 13);
  EXPECT_EQ(MinWireBytes(16385, 16384), 16385 + 2 * 13);
  EXPECT_EQ(MinWireBytes(10 * 16384, 16384), 10 * (16384 + 13));
}

// One class at 1 Mbit/s both ways, one peer present from 10 s to 110 s.
struct HandMade {
  Scenario s;
  RunResult r;
  HandMade() {
    PeerClassSpec c;
    c.upload = kMbit;
    c.download = kMbit;
    s.peers.push_back(c);
    s.file.block_size = 16384;
    PeerRecord p;
    p.join = Time::Zero() + Duration::Seconds(10);
    p.leave = Time::Zero() + Duration::Seconds(110);
    r.peers.push_back(p);
    r.stats.end_time = Time::Zero() + Duration::Seconds(200);
  }
};

// 100 s at 125,000 B/s carry 12,500,000 wire bytes: 762 whole blocks and
// their headers (12,494,514 B); one more block breaks it.
TEST(CapCheck, VolumeUpToCapacityTimesStayPasses) {
  HandMade h;
  h.r.peers[0].uploaded = 762 * 16384;
  h.r.peers[0].downloaded = 381 * 16384;
  CapVolumeCheck v = CheckCapVolumes(h.s, h.r);
  EXPECT_EQ(v.violations, 0u);
  EXPECT_NEAR(v.worst_share, 762 * (16384 + 13) / 12.5e6, 1e-12);
}

TEST(CapCheck, VolumeAboveCapacityTimesStayFails) {
  HandMade h;
  h.r.peers[0].uploaded = 763 * 16384;
  h.r.peers[0].downloaded = 763 * 16384;
  CapVolumeCheck v = CheckCapVolumes(h.s, h.r);
  EXPECT_EQ(v.violations, 2u);
  EXPECT_GT(v.worst_share, 1.0);
}

// A peer still present at the end is measured to the end of the run; one
// that never joined is not measured.
TEST(CapCheck, VolumeUsesTheEndOfTheRunForPeersStillThere) {
  HandMade h;
  h.r.peers[0].leave.reset();  // present 10 s .. 200 s: 23,750,000 B
  h.r.peers[0].uploaded = 1400 * 16384;  // 22,955,800 B on the wire
  PeerRecord absent;
  absent.uploaded = 1 << 30;  // nonsense, but it never joined
  h.r.peers.push_back(absent);
  EXPECT_EQ(CheckCapVolumes(h.s, h.r).violations, 0u);
  h.r.peers[0].leave = Time::Zero() + Duration::Seconds(150);
  EXPECT_EQ(CheckCapVolumes(h.s, h.r).violations, 1u);
}

TEST(CapCheck, BytesOverAZeroCapacityFail) {
  HandMade h;
  h.s.peers[0].upload = Rate::Zero();
  h.r.peers[0].uploaded = 1;
  CapVolumeCheck v = CheckCapVolumes(h.s, h.r);
  EXPECT_EQ(v.violations, 1u);
  EXPECT_TRUE(std::isinf(v.worst_share));
}

// An upload-bound swarm: the seed's and the leechers' uplinks are busy
// most of the run.
const char* kBusy = R"(name: busy
seed: 7
stop: {all_complete: true, max_time: 1h}
file: {size: 4MiB, piece_size: 64KiB, block_size: 16KiB}
network: {latency: {constant: 10ms}}
peers:
  - {class: seed, count: 1, upload: 2Mbit/s, download: 100Mbit/s, start: complete}
  - {class: leecher, count: 12, upload: 1Mbit/s, download: 50Mbit/s,
     leave: {after_complete: {fixed: 30s}}}
sample_interval: 1s
)";

RunResult RunBusy(double factor) {
  auto parsed = ParseScenario("busy.yaml", kBusy, {});
  const Scenario* s = std::get_if<Scenario>(&parsed);
  EXPECT_NE(s, nullptr);
  if (!s) return {};
  SimOptions o;
  o.check_invariants = true;
  o.link_capacity_factor = factor;
  return Simulation(*s, o).Run();
}

TEST(CapCheck, CorrectRunHasNoViolationsAndReachesItsCaps) {
  RunResult r = RunBusy(1);
  EXPECT_EQ(r.stats.cap_violations, 0u);
  EXPECT_EQ(r.stats.host_rate_violations, 0u);
  EXPECT_EQ(r.stats.volume_violations, 0u);
  EXPECT_EQ(r.stats.utilization_violations, 0u);
  // The checks are not vacuous: some host does run at its capacity, and
  // some peer's link is busy for most of its stay.
  EXPECT_GT(r.stats.worst_host_rate_share, 1 - 1e-9);
  EXPECT_LE(r.stats.worst_host_rate_share, 1 + 1e-9);
  EXPECT_GT(r.stats.worst_volume_share, 0.8);
  EXPECT_LE(r.stats.worst_volume_share, 1);
  EXPECT_GT(r.stats.max_upload_utilization, 0.9);
  EXPECT_LE(r.stats.max_upload_utilization, 1 + 1e-6);
}

// Every link 10 % faster than the scenario says: the network model keeps to
// the capacities it was given, so its own check finds nothing, and only the
// checks against the scenario catch it.
TEST(CapCheck, LinksFasterThanTheScenarioAreCaught) {
  RunResult r = RunBusy(1.1);
  EXPECT_EQ(r.stats.cap_violations, 0u);
  EXPECT_GT(r.stats.host_rate_violations, 0u);
  EXPECT_NEAR(r.stats.worst_host_rate_share, 1.1, 1e-6);
  EXPECT_GT(r.stats.volume_violations, 0u);
  EXPECT_GT(r.stats.utilization_violations, 0u);
  EXPECT_GT(r.stats.max_upload_utilization, 1.05);
}

// 2 % too slow breaks nothing: the checks are upper bounds.
TEST(CapCheck, SlowerLinksAreNotViolations) {
  RunResult r = RunBusy(0.98);
  EXPECT_EQ(r.stats.host_rate_violations, 0u);
  EXPECT_EQ(r.stats.volume_violations, 0u);
  EXPECT_EQ(r.stats.utilization_violations, 0u);
  EXPECT_LT(r.stats.worst_host_rate_share, 0.99);
}

}  // namespace
}  // namespace swarm::sim
