// Micro benchmarks of core::Tracker in one big swarm: the cost of an
// announce (a known peer re-announcing, and the churn of one peer leaving
// and another joining) and of expiring peers one at a time, at 1k, 10k and
// 100k peers.
//
//   build/bin/tracker_bench --benchmark_min_time=0.5
#include <benchmark/benchmark.h>

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "core/rng.h"
#include "core/torrent_info.h"
#include "core/tracker.h"

namespace swarm::core {
namespace {

AnnounceRequest Req(const TorrentInfo& t, uint64_t id, AnnounceEvent ev, Bytes left,
                    uint32_t numwant) {
  AnnounceRequest r;
  r.info_hash = t.info_hash();
  r.peer = PeerAddress{PeerId(id), ""};
  r.event = ev;
  r.left = left;
  r.numwant = numwant;
  return r;
}

// A swarm of `n` peers, one in ten a seed, that joined one millisecond
// apart (so each expires at its own time).
struct BigSwarm {
  TorrentInfo file = TorrentInfo::Synthetic("f", 10 * kMiB, 256 * kKiB);
  Tracker tracker{TrackerConfig{}, Rng(42)};
  Rng rng{7};
  uint64_t n;
  uint64_t next_id;
  Time now;

  std::vector<uint64_t> live;  // ids of the peers in the swarm

  explicit BigSwarm(uint64_t peers) : n(peers), next_id(peers), live(peers) {
    tracker.Publish(now, file);
    for (uint64_t id = 0; id < n; ++id) {
      now = now + Duration::Millis(1);
      tracker.Announce(now, Req(file, id, AnnounceEvent::kStarted, id % 10 ? kMiB : 0, 0));
      live[id] = id;
    }
  }
};

// Google Benchmark calls a benchmark several times while it sizes the run;
// filling a big swarm can take longer than the runs themselves (seconds at
// 100k peers with an O(N) announce), so each benchmark keeps its swarms and
// goes on with them. Every benchmark below leaves the swarm's size as it
// found it.
BigSwarm& SwarmOf(std::map<int64_t, std::unique_ptr<BigSwarm>>& cache, int64_t n) {
  auto& s = cache[n];
  if (!s) s = std::make_unique<BigSwarm>(static_cast<uint64_t>(n));
  return *s;
}

// A random known peer re-announces and gets 50 others.
void BM_TrackerReannounce(benchmark::State& state) {
  static std::map<int64_t, std::unique_ptr<BigSwarm>> cache;
  BigSwarm& s = SwarmOf(cache, state.range(0));
  size_t got = 0;
  for (auto _ : state) {
    const uint64_t id = s.rng.Below(s.n);
    got += s.tracker.Announce(s.now, Req(s.file, id, AnnounceEvent::kNone, kMiB, 50)).peers.size();
  }
  benchmark::DoNotOptimize(got);
}
BENCHMARK(BM_TrackerReannounce)->Arg(1'000)->Arg(10'000)->Arg(100'000);

// Churn at a steady size: a random peer stops, a new one starts and gets
// 50 others.
void BM_TrackerStopAndJoin(benchmark::State& state) {
  static std::map<int64_t, std::unique_ptr<BigSwarm>> cache;
  BigSwarm& s = SwarmOf(cache, state.range(0));
  size_t got = 0;
  for (auto _ : state) {
    uint64_t& slot = s.live[s.rng.Below(s.n)];
    s.tracker.Announce(s.now, Req(s.file, slot, AnnounceEvent::kStopped, kMiB, 50));
    slot = s.next_id++;
    got += s.tracker.Announce(s.now, Req(s.file, slot, AnnounceEvent::kStarted, kMiB, 50))
               .peers.size();
  }
  benchmark::DoNotOptimize(got);
}
BENCHMARK(BM_TrackerStopAndJoin)->Arg(1'000)->Arg(10'000)->Arg(100'000);

// Expiry at a steady size: the driver fires the tracker's timeout, which
// expires the oldest peer, and a new peer joins (numwant 0). The timeout
// moves on by one millisecond each time, as peers joined that far apart.
void BM_TrackerExpireAndJoin(benchmark::State& state) {
  static std::map<int64_t, std::unique_ptr<BigSwarm>> cache;
  BigSwarm& s = SwarmOf(cache, state.range(0));
  for (auto _ : state) {
    const Time t = *s.tracker.NextTimeout();
    s.tracker.OnTimeout(t);
    s.tracker.Announce(t, Req(s.file, s.next_id++, AnnounceEvent::kStarted, kMiB, 0));
  }
  benchmark::DoNotOptimize(s.tracker.NextTimeout());
}
BENCHMARK(BM_TrackerExpireAndJoin)->Arg(1'000)->Arg(10'000)->Arg(100'000);

}  // namespace
}  // namespace swarm::core
