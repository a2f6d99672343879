// Micro benchmarks: the incremental max-min solver under swarm-like churn,
// the same solver forced to re-solve everything (the non-incremental
// baseline), the event queue, and the piece picker on large pieces.
//
//   build/bin/sim_bench --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include <vector>

#include "core/piece_picker.h"
#include "core/rng.h"
#include "core/torrent_info.h"
#include "sim/event_queue.h"
#include "sim/flow_network.h"

namespace swarm::sim {
namespace {

using core::Rate;
using core::Time;

// A flash-crowd-like network: `hosts` peers with 1 Mbit/s up and 8 Mbit/s
// down, each uploading 4 flows to random others. One step = a flow finishes
// and its uploader starts a new one to a random peer, then Reallocate().
struct SwarmNet {
  FlowNetwork net;
  std::vector<std::vector<FlowId>> uploads;
  core::Rng rng{42};
  int64_t now_us = 0;

  explicit SwarmNet(uint32_t hosts) : net(hosts), uploads(hosts) {
    for (uint32_t h = 0; h < hosts; ++h)
      net.SetCapacity(h, Rate::MegabitsPerSecond(1), Rate::MegabitsPerSecond(8));
    for (uint32_t h = 0; h < hosts; ++h)
      for (int k = 0; k < 4; ++k) uploads[h].push_back(StartFrom(h));
    net.Reallocate(Time::Zero(), [](FlowId, uint64_t, Time) {});
  }
  FlowId StartFrom(uint32_t h) {
    uint32_t d = static_cast<uint32_t>(rng.Below(net.host_count() - 1));
    if (d >= h) ++d;
    return net.Start(Time::FromMicros(now_us), h, d, 16384, 0);
  }
  void Step(uint64_t* changed) {
    now_us += 100;
    uint32_t h = static_cast<uint32_t>(rng.Below(net.host_count()));
    size_t k = rng.Below(uploads[h].size());
    net.Remove(Time::FromMicros(now_us), uploads[h][k]);
    uploads[h][k] = StartFrom(h);
    net.Reallocate(Time::FromMicros(now_us),
                   [&](FlowId, uint64_t, Time) { ++*changed; });
  }
};

void BM_MaxMinIncrementalStep(benchmark::State& state) {
  SwarmNet s(static_cast<uint32_t>(state.range(0)));
  uint64_t changed = 0;
  uint64_t solved0 = s.net.solved_flows();
  for (auto _ : state) s.Step(&changed);
  state.counters["flows"] = static_cast<double>(s.net.active_flows());
  state.counters["changed/step"] =
      benchmark::Counter(static_cast<double>(changed), benchmark::Counter::kAvgIterations);
  state.counters["solved/step"] = benchmark::Counter(
      static_cast<double>(s.net.solved_flows() - solved0), benchmark::Counter::kAvgIterations);
}
BENCHMARK(BM_MaxMinIncrementalStep)->Arg(1000)->Arg(10000);

// Baseline: touching every host's capacity forces a full re-solve, which is
// what a non-incremental model would do on every change.
void BM_MaxMinFullResolve(benchmark::State& state) {
  SwarmNet s(static_cast<uint32_t>(state.range(0)));
  uint32_t hosts = static_cast<uint32_t>(state.range(0));
  for (auto _ : state) {
    for (uint32_t h = 0; h < hosts; ++h)
      s.net.SetCapacity(h, Rate::MegabitsPerSecond(1), Rate::MegabitsPerSecond(8));
    s.net.Reallocate(Time::FromMicros(s.now_us), [](FlowId, uint64_t, Time) {});
  }
}
BENCHMARK(BM_MaxMinFullResolve)->Arg(1000)->Arg(10000);

// Push/pop at a steady queue size, times spread like a simulation's.
void BM_EventQueuePushPop(benchmark::State& state) {
  EventQueue q;
  core::Rng rng(7);
  int64_t now = 0;
  for (int64_t i = 0; i < state.range(0); ++i)
    q.Push(Time::FromMicros(static_cast<int64_t>(rng.Below(1'000'000))), 0, 1, 2);
  for (auto _ : state) {
    Event e = q.Pop();
    now = e.time_us;
    q.Push(Time::FromMicros(now + static_cast<int64_t>(rng.Below(1'000'000))), 0, 1, 2);
  }
  benchmark::DoNotOptimize(now);
}
BENCHMARK(BM_EventQueuePushPop)->Arg(10'000)->Arg(1'000'000);

// Message deliveries: every event is scheduled one pair's latency after
// the current time. arg 0 / 1: every pair has the same 25 ms latency / its
// own, uniform in 20-50 ms (flash_crowd.yaml). arg 1: events queued.
void BM_EventQueueLatencyPushPop(benchmark::State& state) {
  EventQueue q;
  core::Rng rng(7);
  const bool spread = state.range(0) != 0;
  auto latency = [&] {
    return core::Duration::Micros(spread ? 20'000 + static_cast<int64_t>(rng.Below(30'000))
                                         : 25'000);
  };
  Time now;
  for (int64_t i = 0; i < state.range(1); ++i) {
    now = Time::FromMicros(i * 25'000 / state.range(1));
    q.PushAfter(now, latency(), 0, 1, 2);
  }
  for (auto _ : state) {
    Event e = q.Pop();
    now = Time::FromMicros(e.time_us);
    q.PushAfter(now, latency(), 0, 1, 2);
  }
  benchmark::DoNotOptimize(now);
}
BENCHMARK(BM_EventQueueLatencyPushPop)
    ->Args({0, 10'000})->Args({1, 10'000})->Args({0, 1'000'000})->Args({1, 1'000'000});

// One peer downloading a torrent of one piece of `arg` 16 KiB blocks: a
// step picks 16 blocks (a request pipeline's refill) and receives them; a
// completed piece fails its check and starts over (so the run never ends).
// Before the pick cursor every pick rescanned the piece from block 0: the
// cost per block grew with the blocks per piece (131,072 in 2 GiB).
void BM_PickerTakeFromLargePiece(benchmark::State& state) {
  const uint32_t blocks = static_cast<uint32_t>(state.range(0));
  core::PeerConfig config;
  const core::TorrentInfo torrent =
      core::TorrentInfo::Synthetic("big", core::Bytes(blocks) * config.block_size,
                                   core::Bytes(blocks) * config.block_size);
  core::PiecePicker picker(torrent, config);
  core::Bitfield remote(1);
  remote.Set(0);
  picker.AddPeer(remote);
  core::Rng rng(3);
  std::vector<core::BlockRef> out;
  auto none = [](const core::BlockRef&) { return false; };
  for (auto _ : state) {
    picker.Pick(core::Time(), remote, core::PeerId(1), 16, rng, none, out);
    for (const auto& b : out) picker.OnBlockReceived(b);
    if (picker.IsComplete(core::PieceIndex(0))) picker.OnPieceVerified(core::PieceIndex(0), false);
  }
  state.SetItemsProcessed(state.iterations() * 16);
}
BENCHMARK(BM_PickerTakeFromLargePiece)->Arg(16)->Arg(2048)->Arg(131072);

}  // namespace
}  // namespace swarm::sim
