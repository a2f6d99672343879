#include "sim/flow_network.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
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

// The clock counts whole microseconds, so a block's finish time is rounded
// up and the block really ended up to 1 us earlier. The next block on the
// same flow (Restart) starts from that real end: what the flow moved in the
// rounded-up tail already belongs to it. Otherwise every block on a fast
// link would cost up to 1 us extra (docs/scenarios.md, "Fast links").

// One flow alone on a link of `rate` sends `blocks` back-to-back blocks of
// `bytes` each, the next restarted at the previous one's finish time as the
// simulator does. Returns the last block's finish time.
Time BackToBack(Rate rate, double bytes, int blocks, FlowNetwork* net) {
  net->SetCapacity(0, rate, rate);
  net->SetCapacity(1, rate, rate);
  FlowId f = net->Start(Time::Zero(), 0, 1, bytes, 0);
  Time finish = Time::Never();
  net->Reallocate(Time::Zero(), [&](FlowId, uint64_t, Time t) { finish = t; });
  for (int i = 1; i < blocks; ++i) finish = net->Restart(finish, f, bytes, 0);
  return finish;
}

// A 16 KiB block with its 13-byte header, 16397 bytes on the wire, lasts
// 131.176 us at 1 Gbit/s (125e6 B/s), 13.1176 us at 10 Gbit/s, 1.31176 us at
// 100 Gbit/s and 0.131176 us at 1000 Gbit/s: 1000 of them end at 1000 times
// that, not at 1000 times the rounded-up duration (132000, 14000, 2000 and
// 1000 us). At 1000 Gbit/s seven or eight blocks end within one microsecond.
TEST(FlowNetwork, BackToBackBlocksEndAtTheirBytesOverTheRate) {
  const struct {
    int gbit;
    double exact_us;
  } cases[] = {{1, 131176}, {10, 13117.6}, {100, 1311.76}, {1000, 131.176}};
  for (const auto& c : cases) {
    SCOPED_TRACE(std::to_string(c.gbit) + " Gbit/s");
    FlowNetwork net(2);
    const Time last = BackToBack(Rate::MegabitsPerSecond(c.gbit * 1000), 16397, 1000, &net);
    // Never early; at most the final rounding late.
    EXPECT_GE(static_cast<double>(last.micros()), c.exact_us - 1e-6);
    EXPECT_LT(static_cast<double>(last.micros()), c.exact_us + 1);
  }
}

// A rate that leaves every block a fraction of a microsecond: 3 Mbit/s
// (375000 B/s) moves a 16397-byte block in 43725.333... us. 10000 blocks take
// 437253333.33 us, where rounding each up would give 437260000 us.
TEST(FlowNetwork, LongFlowAtAnUnevenRateLosesNoTimeToRounding) {
  FlowNetwork net(2);
  const Time last = BackToBack(Rate::MegabitsPerSecond(3), 16397, 10000, &net);
  EXPECT_EQ(last, Time::FromMicros(437'253'334));
}

// While a flow sends back-to-back blocks its link is never idle, so the
// bytes moved are the rate times the time, and once the flow is removed at
// its last finish exactly the bytes of its blocks.
TEST(FlowNetwork, BackToBackBlocksKeepTheLinkBusy) {
  FlowNetwork net(2);
  const double rate = 375000;  // 3 Mbit/s; 1000 bytes last 2666.67 us
  net.SetCapacity(0, Rate::BytesPerSecond(rate), Rate::BytesPerSecond(rate));
  net.SetCapacity(1, Rate::BytesPerSecond(rate), Rate::BytesPerSecond(rate));
  FlowId f = net.Start(Time::Zero(), 0, 1, 1000, 0);
  Time finish;
  net.Reallocate(Time::Zero(), [&](FlowId, uint64_t, Time t) { finish = t; });
  double worst = 0;  // |bytes moved - rate * time| at the restarts
  for (int i = 1; i < 100; ++i) {
    const Time t = finish;
    finish = net.Restart(t, f, 1000, 0);
    worst = std::max(worst, std::fabs(net.BytesMoved(t) - rate * t.seconds()));
  }
  EXPECT_LT(worst, 1e-6);
  // 100000 bytes in 266666.67 us.
  EXPECT_EQ(finish, Time::FromMicros(266'667));
  net.Remove(finish, f);
  EXPECT_NEAR(net.BytesMoved(Time::FromMicros(300'000)), 100000, 1e-6);
}

// The bytes a restarted flow moved before its block's rounded-up start stay
// counted when its rate changes mid-block, and when it is removed.
TEST(FlowNetwork, CarriedBytesSurviveARateChangeAndARemoval) {
  // Host 0 uploads at 3 Mbit/s (0.375 B/us). Block 1 of 1000 bytes ends at
  // 2666.67 us, rounded up to 2667; in the last 0.33 us the flow moved 0.125
  // bytes of block 2. At 3667 us a second flow halves its rate: block 2 has
  // 1000 - 0.125 - 375 = 624.875 bytes left, 3332.67 us at 0.1875 B/us, so
  // it ends at 6999.67 us, rounded up to 7000 (7001 without the carry).
  for (bool remove : {false, true}) {
    Harness h(3);
    h.net.SetCapacity(0, Rate::MegabitsPerSecond(3), Rate::MegabitsPerSecond(10));
    h.net.SetCapacity(1, Rate::MegabitsPerSecond(10), Rate::MegabitsPerSecond(10));
    h.net.SetCapacity(2, Rate::MegabitsPerSecond(10), Rate::MegabitsPerSecond(10));
    FlowId f = h.net.Start(Time::Zero(), 0, 1, 1000, 0);
    h.Solve();
    ASSERT_EQ(h.finish[f], Time::FromMicros(2667));
    ASSERT_EQ(h.net.Restart(Time::FromMicros(2667), f, 1000, 0), Time::FromMicros(5334));
    const Time t = Time::FromMicros(3667);
    // Busy since 0: 0.375 B/us over 3667 us.
    EXPECT_NEAR(h.net.BytesMoved(t), 1375.125, 1e-6);
    if (remove) {  // aborted: it keeps what it moved, carry included
      h.net.Remove(t, f);
      EXPECT_NEAR(h.net.BytesMoved(Time::FromMicros(9000)), 1375.125, 1e-6);
      continue;
    }
    h.net.Start(t, 0, 2, 1e6, 0);
    h.Solve(t);
    EXPECT_NEAR(h.net.Remaining(f, t), 624.875, 1e-6);
    EXPECT_EQ(h.finish[f], Time::FromMicros(7000));
  }
}

// Only a restarted flow carries its overrun over: a flow removed at its
// rounded-up finish passes nothing to a fresh one started there, whose
// block so starts up to 1 us late (what the "Fast links" warning is about).
TEST(FlowNetwork, AFreshFlowStartsFromZero) {
  Harness h(3);
  h.net.SetCapacity(0, Rate::MegabitsPerSecond(3), Rate::MegabitsPerSecond(10));
  h.net.SetCapacity(1, Rate::MegabitsPerSecond(10), Rate::MegabitsPerSecond(10));
  FlowId a = h.net.Start(Time::Zero(), 0, 1, 1000, 0);
  h.Solve();
  ASSERT_EQ(h.finish[a], Time::FromMicros(2667));
  const Time t = h.finish[a];
  h.net.Remove(t, a);
  FlowId b = h.net.Start(t, 0, 1, 1000, 0);
  h.Solve(t);
  EXPECT_EQ(h.finish[b], Time::FromMicros(2 * 2667));
  EXPECT_NEAR(h.net.BytesMoved(Time::FromMicros(10'000)), 2000, 1e-6);
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
