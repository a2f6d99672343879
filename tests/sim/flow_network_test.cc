#include "sim/flow_network.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "core/rng.h"

namespace swarm::sim {
namespace {

using core::Rate;
using core::Time;

constexpr double kMbit = 1e6 / 8;  // bytes per second in 1 Mbit/s

// Reference: plain progressive filling over all flows, no increments.
std::vector<double> ReferenceMaxMin(const std::vector<double>& up,
                                    const std::vector<double>& down,
                                    const std::vector<std::pair<int, int>>& flows) {
  size_t n = flows.size();
  std::vector<double> rate(n, 0);
  std::vector<bool> frozen(n, false);
  std::vector<double> res_up = up, res_down = down;
  for (size_t done = 0; done < n;) {
    // Smallest fair share over links with unfrozen flows.
    double best = 1e300;
    std::vector<int> cu(up.size(), 0), cd(down.size(), 0);
    for (size_t i = 0; i < n; ++i)
      if (!frozen[i]) { ++cu[flows[i].first]; ++cd[flows[i].second]; }
    for (size_t h = 0; h < up.size(); ++h) {
      if (cu[h]) best = std::min(best, res_up[h] / cu[h]);
      if (cd[h]) best = std::min(best, res_down[h] / cd[h]);
    }
    for (size_t i = 0; i < n; ++i) {
      if (frozen[i]) continue;
      auto [s, d] = flows[i];
      bool tight = (res_up[s] / cu[s] <= best * (1 + 1e-12)) ||
                   (res_down[d] / cd[d] <= best * (1 + 1e-12));
      if (!tight) continue;
      frozen[i] = true;
      rate[i] = best;
      ++done;
    }
    // Recompute residuals from scratch.
    res_up = up;
    res_down = down;
    for (size_t i = 0; i < n; ++i) {
      if (!frozen[i]) continue;
      res_up[flows[i].first] -= rate[i];
      res_down[flows[i].second] -= rate[i];
    }
  }
  return rate;
}

struct Harness {
  FlowNetwork net;
  std::map<FlowId, Time> finish;
  explicit Harness(size_t hosts) : net(hosts) {}
  void Solve(Time now = Time::Zero()) {
    net.Reallocate(now, [&](FlowId f, uint64_t, Time t) { finish[f] = t; });
  }
};

TEST(FlowNetwork, OneUplinkThreeFlowsOneTightDownlink) {
  // Host 0 uploads at 3 Mbit/s to hosts 1, 2, 3; host 3 downloads at only
  // 0.5 Mbit/s. Max-min: flow to 3 gets 0.5, the other two split the
  // remaining 2.5 -> 1.25 each.
  Harness h(4);
  h.net.SetCapacity(0, Rate::MegabitsPerSecond(3), Rate::MegabitsPerSecond(100));
  for (uint32_t i = 1; i <= 2; ++i)
    h.net.SetCapacity(i, Rate::MegabitsPerSecond(1), Rate::MegabitsPerSecond(10));
  h.net.SetCapacity(3, Rate::MegabitsPerSecond(1), Rate::MegabitsPerSecond(0.5));
  FlowId a = h.net.Start(Time::Zero(), 0, 1, 1e6, 0);
  FlowId b = h.net.Start(Time::Zero(), 0, 2, 1e6, 0);
  FlowId c = h.net.Start(Time::Zero(), 0, 3, 1e6, 0);
  h.Solve();
  EXPECT_NEAR(h.net.rate(a), 1.25 * kMbit, 1e-6);
  EXPECT_NEAR(h.net.rate(b), 1.25 * kMbit, 1e-6);
  EXPECT_NEAR(h.net.rate(c), 0.5 * kMbit, 1e-6);
  EXPECT_EQ(h.net.CheckCaps(), 0);
  // 1e6 bytes at 0.5 Mbit/s = 16 s.
  EXPECT_EQ(h.finish[c], Time::FromMicros(16'000'000));
}

TEST(FlowNetwork, DownlinkSharedByTwoUploaders) {
  // Hosts 0 (4 Mbit/s up) and 1 (1 Mbit/s up) both send to host 2
  // (3 Mbit/s down); host 0 also sends to host 3 (10 Mbit/s down).
  // Downlink 2: fair share 1.5 but flow 1->2 is capped at 1 by its uplink,
  // so 0->2 gets 2; uplink 0 then has 2 left for 0->3.
  Harness h(4);
  h.net.SetCapacity(0, Rate::MegabitsPerSecond(4), Rate::MegabitsPerSecond(10));
  h.net.SetCapacity(1, Rate::MegabitsPerSecond(1), Rate::MegabitsPerSecond(10));
  h.net.SetCapacity(2, Rate::MegabitsPerSecond(1), Rate::MegabitsPerSecond(3));
  h.net.SetCapacity(3, Rate::MegabitsPerSecond(1), Rate::MegabitsPerSecond(10));
  FlowId f02 = h.net.Start(Time::Zero(), 0, 2, 1e6, 0);
  FlowId f12 = h.net.Start(Time::Zero(), 1, 2, 1e6, 0);
  FlowId f03 = h.net.Start(Time::Zero(), 0, 3, 1e6, 0);
  h.Solve();
  EXPECT_NEAR(h.net.rate(f12), 1 * kMbit, 1e-6);
  EXPECT_NEAR(h.net.rate(f02), 2 * kMbit, 1e-6);
  EXPECT_NEAR(h.net.rate(f03), 2 * kMbit, 1e-6);
}

// Host 0 (2 Mbit/s up) starts a 500000-byte flow to each of hosts 1 and 2
// (1 Mbit/s up, 10 Mbit/s down each) at time 0.
std::pair<FlowId, FlowId> TwoFlowsOnOneUplink(Harness& h) {
  h.net.SetCapacity(0, Rate::MegabitsPerSecond(2), Rate::MegabitsPerSecond(10));
  h.net.SetCapacity(1, Rate::MegabitsPerSecond(1), Rate::MegabitsPerSecond(10));
  h.net.SetCapacity(2, Rate::MegabitsPerSecond(1), Rate::MegabitsPerSecond(10));
  FlowId a = h.net.Start(Time::Zero(), 0, 1, 500000, 0);
  FlowId b = h.net.Start(Time::Zero(), 0, 2, 500000, 0);
  return {a, b};
}

TEST(FlowNetwork, RemovalRedistributesAndIntegratesProgress) {
  // Two flows share a 2 Mbit/s uplink (1 Mbit/s each). After 1 s the first
  // is removed; the second has 125000 bytes done and now runs at 2 Mbit/s.
  Harness h(3);
  const auto [a, b] = TwoFlowsOnOneUplink(h);
  h.Solve();
  EXPECT_EQ(h.finish[b], Time::FromMicros(4'000'000));
  Time t1 = Time::FromMicros(1'000'000);
  h.net.Remove(t1, a);
  h.Solve(t1);
  EXPECT_NEAR(h.net.rate(b), 2 * kMbit, 1e-6);
  EXPECT_NEAR(h.net.Remaining(b, t1), 375000, 1e-3);
  // 375000 bytes at 250000 B/s = 1.5 s more.
  EXPECT_EQ(h.finish[b], Time::FromMicros(2'500'000));
}

TEST(FlowNetwork, UnchangedRatesAreNotReported) {
  Harness h(3);
  for (uint32_t i = 0; i < 3; ++i)
    h.net.SetCapacity(i, Rate::MegabitsPerSecond(1), Rate::MegabitsPerSecond(10));
  FlowId a = h.net.Start(Time::Zero(), 0, 1, 1e6, 0);
  h.Solve();
  h.finish.clear();
  // A flow on unrelated hosts' links leaves `a` alone.
  h.net.Start(Time::Zero(), 2, 1, 1e6, 0);
  h.Solve();
  EXPECT_EQ(h.finish.count(a), 0u);
}

TEST(FlowNetwork, ZeroCapacityNeverFinishes) {
  Harness h(2);
  h.net.SetCapacity(0, Rate::Zero(), Rate::MegabitsPerSecond(1));
  h.net.SetCapacity(1, Rate::MegabitsPerSecond(1), Rate::MegabitsPerSecond(1));
  FlowId a = h.net.Start(Time::Zero(), 0, 1, 1000, 0);
  h.Solve();
  EXPECT_EQ(h.net.rate(a), 0);
}

TEST(FlowNetwork, RestartKeepsTheRateAndStartsAFreshTransfer) {
  // One flow alone on a 1 Mbit/s uplink runs at 125000 B/s. Restarted after
  // 1 s with 250000 bytes it keeps that rate (the allocation is unchanged),
  // nothing is left to re-solve, and it finishes 2 s later.
  Harness h(2);
  h.net.SetCapacity(0, Rate::MegabitsPerSecond(1), Rate::MegabitsPerSecond(10));
  h.net.SetCapacity(1, Rate::MegabitsPerSecond(10), Rate::MegabitsPerSecond(10));
  FlowId a = h.net.Start(Time::Zero(), 0, 1, 125000, 7);
  h.Solve();
  EXPECT_EQ(h.finish[a], Time::FromMicros(1'000'000));
  const uint64_t gen = h.net.generation(a);
  Time t1 = Time::FromMicros(1'000'000);
  EXPECT_EQ(h.net.Restart(t1, a, 250000, 8), Time::FromMicros(3'000'000));
  EXPECT_GT(h.net.generation(a), gen);
  EXPECT_EQ(h.net.tag(a), 8u);
  EXPECT_FALSE(h.net.dirty());
  EXPECT_NEAR(h.net.Remaining(a, Time::FromMicros(2'000'000)), 125000, 1e-6);
}

// BytesMoved is the integral of the total rate: an aborted flow counts what
// it moved, a finished one its bytes (not the microsecond its finish time
// was rounded up by), and an idle uplink adds nothing.
TEST(FlowNetwork, BytesMovedIntegratesTheTotalRate) {
  // As above: two flows at 125000 B/s each; `a` is aborted at 1 s having
  // moved 125000 bytes, `b` then runs at 250000 B/s and is done at 2.5 s.
  Harness h(3);
  const auto [a, b] = TwoFlowsOnOneUplink(h);
  EXPECT_EQ(h.net.BytesMoved(Time::Zero()), 0);
  h.Solve();
  EXPECT_NEAR(h.net.BytesMoved(Time::FromMicros(500'000)), 125000, 1e-6);
  const Time t1 = Time::FromMicros(1'000'000);
  h.net.Remove(t1, a);
  EXPECT_NEAR(h.net.BytesMoved(t1), 250000, 1e-6);
  h.Solve(t1);
  const double at_1_5s = h.net.BytesMoved(Time::FromMicros(1'500'000));
  EXPECT_NEAR(h.net.BytesMoved(Time::FromMicros(2'000'000)), 500000, 1e-6);
  // Past its finish `b` has moved all its bytes and no more, removed or not.
  const Time done = h.finish[b];
  EXPECT_EQ(done, Time::FromMicros(2'500'000));
  EXPECT_NEAR(h.net.BytesMoved(Time::FromMicros(3'000'000)), 625000, 1e-6);
  h.net.Remove(done, b);
  h.Solve(done);
  EXPECT_NEAR(h.net.BytesMoved(Time::FromMicros(4'000'000)), 625000, 1e-6);
  // Over [1.5 s, 3.5 s] the 250000 B/s uplink was busy for the first half:
  // utilisation 0.5.
  const double used = h.net.BytesMoved(Time::FromMicros(3'500'000)) - at_1_5s;
  EXPECT_NEAR(used / (2 * 250000.0), 0.5, 1e-9);
}

TEST(FlowNetwork, BytesMovedCountsEveryTransferOfARestartedFlow) {
  // 125000 B/s; the first 125000 bytes take 1 s, the next 250000 two more.
  Harness h(2);
  h.net.SetCapacity(0, Rate::MegabitsPerSecond(1), Rate::MegabitsPerSecond(10));
  h.net.SetCapacity(1, Rate::MegabitsPerSecond(10), Rate::MegabitsPerSecond(10));
  FlowId a = h.net.Start(Time::Zero(), 0, 1, 125000, 0);
  h.Solve();
  h.net.Restart(Time::FromMicros(1'000'000), a, 250000, 0);
  EXPECT_NEAR(h.net.BytesMoved(Time::FromMicros(2'000'000)), 250000, 1e-6);
  h.net.Remove(Time::FromMicros(3'000'000), a);
  EXPECT_NEAR(h.net.BytesMoved(Time::FromMicros(5'000'000)), 375000, 1e-6);
}

// Random churn of flows on a small heterogeneous network: after every step
// the incremental allocation equals a from-scratch progressive filling.
TEST(FlowNetwork, IncrementalMatchesReferenceUnderChurn) {
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    core::Rng rng(seed);
    const int hosts = 12;
    FlowNetwork net(hosts);
    std::vector<double> up(hosts), down(hosts);
    for (int i = 0; i < hosts; ++i) {
      up[i] = kMbit * static_cast<double>(rng.UniformInt(1, 8));
      down[i] = kMbit * static_cast<double>(rng.UniformInt(1, 8));
      net.SetCapacity(i, Rate::BytesPerSecond(up[i]), Rate::BytesPerSecond(down[i]));
    }
    std::vector<FlowId> live;
    double moved = 0;  // the total rate integrated step by step
    for (int step = 0; step < 300; ++step) {
      Time now = Time::FromMicros(step * 1000);
      if (step > 0) moved += net.TotalRate() * 0.001;
      // Several changes may pile up before one reallocation, as when
      // events share a timestamp.
      for (uint64_t op = 0, ops = 1 + rng.Below(3); op < ops; ++op) {
        if (live.empty() || (live.size() < 40 && rng.Bernoulli(0.6))) {
          uint32_t s = static_cast<uint32_t>(rng.Below(hosts));
          uint32_t d = static_cast<uint32_t>(rng.Below(hosts - 1));
          if (d >= s) ++d;
          live.push_back(net.Start(now, s, d, 1e9, 0));
        } else if (rng.Bernoulli(0.3)) {
          // Next block on the same pair: the flow is reused in place.
          size_t i = rng.Below(live.size());
          uint64_t gen = net.generation(live[i]);
          net.Restart(now, live[i], 1e9, 0);
          ASSERT_NE(net.generation(live[i]), gen);
        } else {
          size_t i = rng.Below(live.size());
          net.Remove(now, live[i]);
          live.erase(live.begin() + static_cast<long>(i));
        }
      }
      net.Reallocate(now, [](FlowId, uint64_t, Time) {});
      std::vector<std::pair<int, int>> pairs;
      for (FlowId f : live) pairs.emplace_back(net.src(f), net.dst(f));
      std::vector<double> ref = ReferenceMaxMin(up, down, pairs);
      for (size_t i = 0; i < live.size(); ++i)
        ASSERT_NEAR(net.rate(live[i]), ref[i], 1e-6 * kMbit) << "step " << step;
      ASSERT_EQ(net.CheckCaps(), 0);
      ASSERT_NEAR(net.BytesMoved(now), moved, 1e-9 * moved) << "step " << step;
    }
  }
}

}  // namespace
}  // namespace swarm::sim
