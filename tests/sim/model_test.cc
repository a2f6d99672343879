// Latency models, workload generation, the closed-form bounds and the event
// queue.
#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/rng.h"
#include "sim/bounds.h"
#include "sim/event_queue.h"
#include "sim/latency.h"
#include "sim/scenario_yaml.h"
#include "sim/workload.h"

namespace swarm::sim {
namespace {

Scenario Parse(const std::string& text) {
  auto r = ParseScenario("t.yaml", text);
  if (auto* e = std::get_if<ScenarioLoadError>(&r)) ADD_FAILURE() << e->message;
  return std::get<Scenario>(r);
}

const char* kFlash = R"(name: flash
file: {size: 100MiB, piece_size: 256KiB}
peers:
  - {class: seed, count: 1, upload: 10Mbit/s, download: 100Mbit/s, start: complete}
  - {class: leecher, count: 1000, upload: 1Mbit/s, download: 8Mbit/s})";

TEST(Bounds, KumarRossForTheReferenceFlashCrowd) {
  // VALIDATION.md: N F / (u_s + N u) = 1000 * 838860800 / 1.01e9 = 830.6 s.
  SimpleBounds b = ComputeSimpleBounds(Parse(kFlash));
  EXPECT_NEAR(b.kumar_ross_s, 830.555, 1e-3);
  EXPECT_FALSE(b.piece_granular_s);  // seed upload differs
}

TEST(Bounds, PieceGranularWhenUploadsAreEqual) {
  std::string text = kFlash;
  text.replace(text.find("10Mbit/s"), 8, "1Mbit/s");
  SimpleBounds b = ComputeSimpleBounds(Parse(text));
  // (F/u)(1 + floor(log2 1000)/400) = 838.86 * (1 + 9/400) = 857.7 s.
  ASSERT_TRUE(b.piece_granular_s);
  EXPECT_NEAR(*b.piece_granular_s, 857.73, 0.01);
  // Seed-limited: F/u_s = 838.9 s dominates.
  EXPECT_NEAR(b.kumar_ross_s, 838.86, 0.01);
}

TEST(Bounds, DownloadLimited) {
  std::string text = kFlash;
  text.replace(text.find("8Mbit/s"), 7, "0.5Mbit/s");
  EXPECT_NEAR(ComputeSimpleBounds(Parse(text)).kumar_ross_s, 838860800 / 0.5e6, 1e-6);
}

// A scenario that wants every leecher done but stops before the bound
// cannot succeed: say so up front (sim check, sim run, swarm run-scenario).
TEST(Bounds, WarnsWhenTheRunStopsBeforeTheBound) {
  EXPECT_FALSE(StopsBeforeBound(Parse(kFlash)));  // 4 h against 830.6 s
  const std::string short_stop = "\nstop: {all_complete: true, max_time: 10min}";
  EXPECT_EQ(StopsBeforeBound(Parse(kFlash + short_stop)).value_or(""),
            "stop.max_time (10min) is shorter than the Kumar-Ross bound (830.6 s): the run "
            "will stop before every leecher completes");
  // Not when the run is meant to stop at max_time, nor when peers may fail
  // (the bound then counts leechers that need not finish).
  EXPECT_FALSE(StopsBeforeBound(
      Parse(kFlash + std::string("\nstop: {all_complete: false, max_time: 10min}"))));
  std::string failing = kFlash;
  failing.insert(failing.rfind("}"), ", failure: {probability: 0.1, after: 60s}");
  EXPECT_FALSE(StopsBeforeBound(Parse(failing + short_stop)));
}

// The warning takes the largest bound that applies, counted from the
// earliest the last leechers can arrive. piece_selection.yaml (one seed,
// equal uploads): Kumar-Ross 167.8 s < piece-granular 182.5 s, so a 175 s
// stop cannot work; nor can a 200 s stop with the leechers arriving at
// 100 s. Both passed silently when only Kumar-Ross from t = 0 was checked.
TEST(Bounds, WarnsWithTheLargestBoundFromTheLastArrival) {
  auto warning = [](std::vector<std::string> sets) {
    auto r = LoadScenario(std::string(SWARMLAB_SOURCE_DIR) + "/scenarios/piece_selection.yaml",
                          sets);
    if (auto* e = std::get_if<ScenarioLoadError>(&r)) ADD_FAILURE() << e->message;
    return StopsBeforeBound(std::get<Scenario>(r)).value_or("");
  };
  EXPECT_EQ(warning({"stop.max_time=175s"}),
            "stop.max_time (175s) is shorter than the piece-granular bound (182.5 s): the run "
            "will stop before every leecher completes");
  EXPECT_EQ(warning({"stop.max_time=183s"}), "");
  EXPECT_EQ(warning({"peers.1.arrival={at: 100s}", "stop.max_time=200s"}),
            "stop.max_time (200s) is shorter than 282.5 s: no leecher of class 'leecher' "
            "arrives before 100s, and the piece-granular bound from there is 182.5 s: the run "
            "will stop before every leecher completes");
  EXPECT_EQ(warning({"peers.1.arrival={uniform: [100s, 110s]}", "stop.max_time=282s"}),
            warning({"peers.1.arrival={at: 100s}", "stop.max_time=282s"}));
  EXPECT_EQ(warning({"peers.1.arrival={at: 100s}", "stop.max_time=283s"}), "");
  // A later class: the earlier leechers may hold the file by then (counted
  // as seeds), which leaves the late peer its own download link, 20 MiB at
  // 8 Mbit/s = 21.0 s after 50 min.
  const std::string late = R"(name: late
file: {size: 20MiB, piece_size: 256KiB}
peers:
  - {class: seed, count: 1, upload: 1Mbit/s, download: 8Mbit/s, start: complete}
  - {class: early, count: 100, upload: 1Mbit/s, download: 8Mbit/s}
  - {class: late, count: 1, upload: 1Mbit/s, download: 8Mbit/s, arrival: {at: 50min}}
stop: {all_complete: true, max_time: )";
  EXPECT_EQ(StopsBeforeBound(Parse(late + "3020s}")).value_or(""),
            "stop.max_time (3020s) is shorter than 3021.0 s: no leecher of class 'late' arrives "
            "before 50min, and the Kumar-Ross bound from there, with every earlier peer counted "
            "as a seed, is 21.0 s: the run will stop before every leecher completes");
  EXPECT_FALSE(StopsBeforeBound(Parse(late + "3022s}")));
}

// Qiu-Srikant for steady_state.yaml's swarm: F = 167772160 bit, download
// 4 Mbit/s (c = 1/41.94 s), mean seeding 300 s, arrivals 0.05/s.
const char* kSteady = R"(name: steady
file: {size: 20MiB, piece_size: 256KiB}
peers:
  - {class: seed, count: 1, upload: 1Mbit/s, download: 4Mbit/s, start: complete}
  - {class: leecher, count: 600, upload: 1Mbit/s, download: 4Mbit/s,
     arrival: {poisson: {rate: 0.05/s}}, leave: {after_complete: {exponential: 300s}}})";

TEST(Bounds, FluidSteadyStateCountsFreeRidersAsZeroUploadAndSkipsFailures) {
  std::vector<ClassFluid> f = ComputeFluid(Parse(kSteady));
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].class_index, 1u);
  EXPECT_TRUE(f[0].skipped.empty());
  EXPECT_NEAR(f[0].state.download_time_s, 167.77216 / 4, 1e-6);  // download-bound
  EXPECT_NEAR(f[0].state.seeds, 0.05 * 300, 1e-9);

  // Free-riders upload nothing, as leechers or as seeds: only the permanent
  // seed's 1 Mbit/s serves a demand of 0.05/s x 167.8 Mbit, so the leecher
  // population has no bound, and the seeds are what it finishes times 300 s.
  std::string text = kSteady;
  text.insert(text.rfind("}"), ", free_rider: true");
  f = ComputeFluid(Parse(text));
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].state.download_time_s, std::numeric_limits<double>::infinity());
  EXPECT_NEAR(f[0].state.seeds, 1e6 / 167772160.0 * 300, 1e-6);
  // A free-riding seed is no permanent seed either.
  text.insert(text.find("start: complete") + 15, ", free_rider: true");
  EXPECT_EQ(ComputeFluid(Parse(text))[0].state.seeds, 0);

  text = kSteady;
  text.insert(text.rfind("}"), ", failure: {probability: 0.1, after: 1min}");
  f = ComputeFluid(Parse(text));
  ASSERT_EQ(f.size(), 1u);
  EXPECT_FALSE(f[0].skipped.empty());

  // Seeds that come and go as a Poisson process are not a downloading class.
  text = kSteady;
  text.insert(text.find("start: complete") + 15,
              ", arrival: {poisson: {rate: 0.01/s}}, leave: {after_complete: 100s}");
  f = ComputeFluid(Parse(text));
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].class_index, 1u);
}

// A class of count 0 (switched off, e.g. `--vary peers.2.count=0,50`) has
// no peers: the bounds and the fluid model are those of the scenario
// without it. Its download rate used to count as d_min, and an empty fluid
// class stopped the steady state from describing the swarm.
TEST(Bounds, AClassOfCountZeroChangesNothing) {
  std::string text = kFlash;
  text += "\n  - {class: slow, count: 0, upload: 1Mbit/s, download: 0.1Mbit/s}";
  const SimpleBounds with = ComputeSimpleBounds(Parse(text));
  const SimpleBounds without = ComputeSimpleBounds(Parse(kFlash));
  EXPECT_EQ(with.leechers, 1000u);
  EXPECT_EQ(with.min_download_bps, without.min_download_bps);
  EXPECT_EQ(with.kumar_ross_s, without.kumar_ross_s);
  // With equal uploads the piece-granular bound still applies.
  std::string equal = kFlash;
  equal.replace(equal.find("10Mbit/s"), 8, "1Mbit/s");
  const std::string extra_seed =
      "\n  - {class: seed2, count: 0, upload: 5Mbit/s, download: 8Mbit/s, start: complete}";
  ASSERT_TRUE(ComputeSimpleBounds(Parse(equal + extra_seed)).piece_granular_s);
  EXPECT_EQ(*ComputeSimpleBounds(Parse(equal + extra_seed)).piece_granular_s,
            *ComputeSimpleBounds(Parse(equal)).piece_granular_s);

  const std::string fluid_off =
      "\n  - {class: riders, count: 0, upload: 1Mbit/s, download: 4Mbit/s, free_rider: true,"
      " arrival: {poisson: {rate: 0.05/s}}, leave: {after_complete: 300s}}";
  ASSERT_TRUE(SwarmFluidSteadyState(Parse(kSteady)));
  const auto f = SwarmFluidSteadyState(Parse(kSteady + fluid_off));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->class_index, 1u);
  EXPECT_EQ(ComputeFluid(Parse(kSteady + fluid_off)).size(), 1u);
  EXPECT_EQ(f->state.download_time_s, SwarmFluidSteadyState(Parse(kSteady))->state.download_time_s);

  // Nor does an empty class whose peers would fail silence the warning of
  // a run that stops before the bound.
  EXPECT_TRUE(StopsBeforeBound(Parse(
      kFlash + std::string("\n  - {class: flaky, count: 0, upload: 1Mbit/s, download: 8Mbit/s,"
                           " failure: {probability: 0.1, after: 60s}}") +
      "\nstop: {all_complete: true, max_time: 10min}")));
}

TEST(Latency, TopologyUsesShortestPathPlusAccess) {
  Scenario s = Parse(R"(name: topo
network: {latency: {topology: {regions: [a, b, c],
  links: [{from: a, to: b, delay: 10ms}, {from: b, to: c, delay: 10ms},
          {from: a, to: c, delay: 50ms}], access: 1ms}}}
peers:
  - {class: x, count: 1, upload: 1Mbit/s, download: 1Mbit/s, start: complete, region: a}
  - {class: y, count: 1, upload: 1Mbit/s, download: 1Mbit/s, region: c}
  - {class: z, count: 1, upload: 1Mbit/s, download: 1Mbit/s, region: a})");
  LatencyModel m(s, {0, 1, 2});
  EXPECT_EQ(m.Between(0, 1), core::Duration::Millis(22));  // a-b-c + 2 x 1 ms
  EXPECT_EQ(m.Between(1, 0), core::Duration::Millis(22));
  EXPECT_EQ(m.Between(0, 2), core::Duration::Millis(2));   // same region
}

TEST(Latency, UniformIsSymmetricAndInRange) {
  Scenario s = Parse(R"(name: u
network: {latency: {uniform: [20ms, 50ms]}}
peers:
  - {class: x, count: 1, upload: 1Mbit/s, download: 1Mbit/s, start: complete}
  - {class: y, count: 49, upload: 1Mbit/s, download: 1Mbit/s})");
  LatencyModel m(s, std::vector<uint32_t>(50, 0));
  bool differ = false;
  for (uint32_t a = 0; a < 50; ++a) {
    for (uint32_t b = a + 1; b < 50; ++b) {
      EXPECT_EQ(m.Between(a, b), m.Between(b, a));
      EXPECT_GE(m.Between(a, b), core::Duration::Millis(20));
      EXPECT_LE(m.Between(a, b), core::Duration::Millis(50));
      differ |= m.Between(a, b) != m.Between(0, 1);
    }
  }
  EXPECT_TRUE(differ);
}

TEST(Latency, MatrixIsSymmetricWhenHalfGiven) {
  Scenario s = Parse(R"(name: m
network: {latency: {matrix: {x: {x: 5ms, y: 30ms}, y: {y: 7ms}}}}
peers:
  - {class: x, count: 1, upload: 1Mbit/s, download: 1Mbit/s, start: complete}
  - {class: y, count: 1, upload: 1Mbit/s, download: 1Mbit/s})");
  LatencyModel m(s, {0, 1});
  EXPECT_EQ(m.Between(1, 0), core::Duration::Millis(30));
}

TEST(Workload, PoissonArrivalsHaveTheRightRate) {
  Scenario s = Parse(R"(name: p
peers:
  - {class: x, count: 1, upload: 1Mbit/s, download: 1Mbit/s, start: complete}
  - {class: y, count: 4000, upload: 1Mbit/s, download: 1Mbit/s,
     arrival: {poisson: {rate: 0.5/s, start: 100s}},
     leave: {after_complete: {exponential: 300s}},
     failure: {probability: 0.25, after: 1min}})");
  std::vector<PeerPlan> plans = PlanWorkload(s);
  ASSERT_EQ(plans.size(), 4001u);
  double last = plans.back().join.seconds();
  // 4000 arrivals at 0.5/s take about 8000 s (sd ~ 126 s).
  EXPECT_NEAR(last - 100, 8000, 500);
  double seeding = 0;
  int failing = 0;
  for (size_t i = 1; i < plans.size(); ++i) {
    EXPECT_GE(plans[i].join, plans[i - 1].join);
    seeding += plans[i].seeding_time.seconds();
    if (plans[i].fail_at != core::Time::Never()) {
      ++failing;
      EXPECT_EQ(plans[i].fail_at - plans[i].join, core::Duration::Seconds(60));
    }
  }
  EXPECT_NEAR(seeding / 4000, 300, 20);
  EXPECT_NEAR(failing, 1000, 100);
}

// Failures have streams of their own: switching them on, or raising their
// probability, leaves arrivals and seeding times alone, and a higher
// probability fails a superset of the peers, each at the same moment.
TEST(Workload, FailuresDoNotMoveArrivalsOrSeedingTimes) {
  auto plan = [](const std::string& failure) {
    return PlanWorkload(Parse(R"(name: p
peers:
  - {class: x, count: 1, upload: 1Mbit/s, download: 1Mbit/s, start: complete}
  - {class: y, count: 500, upload: 1Mbit/s, download: 1Mbit/s,
     arrival: {poisson: {rate: 1/s}},
     leave: {after_complete: {exponential: 60s}})" + failure + "}"));
  };
  std::vector<PeerPlan> none = plan("");
  std::vector<PeerPlan> few = plan(", failure: {probability: 0.2, after: {exponential: 30s}}");
  std::vector<PeerPlan> many = plan(", failure: {probability: 0.6, after: {exponential: 30s}}");
  ASSERT_EQ(none.size(), 501u);
  ASSERT_EQ(few.size(), 501u);
  ASSERT_EQ(many.size(), 501u);
  int failing_few = 0, failing_many = 0;
  for (size_t i = 0; i < none.size(); ++i) {
    EXPECT_EQ(few[i].join, none[i].join) << i;
    EXPECT_EQ(many[i].join, none[i].join) << i;
    EXPECT_EQ(few[i].seeding_time, none[i].seeding_time) << i;
    EXPECT_EQ(many[i].seeding_time, none[i].seeding_time) << i;
    EXPECT_EQ(none[i].fail_at, core::Time::Never());
    if (few[i].fail_at != core::Time::Never()) {
      ++failing_few;
      EXPECT_EQ(many[i].fail_at, few[i].fail_at) << i;
    }
    if (many[i].fail_at != core::Time::Never()) ++failing_many;
  }
  EXPECT_NEAR(failing_few, 100, 30);
  EXPECT_NEAR(failing_many, 300, 40);
}

// A rate so low that the arrivals lie past the clock's range used to
// overflow it (a CHECK failure at run time); they are capped far beyond any
// max_time instead, so those peers simply never join.
TEST(Workload, ArrivalsPastTheClocksRangeAreCapped) {
  Scenario s = Parse(R"(name: p
peers:
  - {class: x, count: 1, upload: 1Mbit/s, download: 1Mbit/s, start: complete}
  - {class: y, count: 2000, upload: 1Mbit/s, download: 1Mbit/s,
     arrival: {poisson: {rate: 0.00001/d}},
     leave: {after_complete: {exponential: 1000000000000s}}})");
  std::vector<PeerPlan> plans = PlanWorkload(s);
  for (size_t i = 1; i < plans.size(); ++i) {
    EXPECT_GE(plans[i].join, plans[i - 1].join);
    EXPECT_GT(plans[i].join.micros(), 0);
    EXPECT_GT(plans[i].seeding_time.micros(), 0);
  }
  EXPECT_EQ(plans.back().join, core::Time::Zero() + core::Duration::Seconds(2'000'000'000'000));
}

TEST(EventQueue, PopsInTimeThenSequenceOrder) {
  EventQueue q;
  core::Rng rng(5);
  for (uint32_t i = 0; i < 5000; ++i)
    q.Push(core::Time::FromMicros(static_cast<int64_t>(rng.Below(100))), 0, i);
  int64_t last_t = -1;
  uint64_t last_seq = 0;
  for (int i = 0; i < 5000; ++i) {
    Event e = q.Pop();
    ASSERT_TRUE(e.time_us > last_t || (e.time_us == last_t && e.seq > last_seq));
    EXPECT_EQ(e.a, e.seq);  // the payload travels with its event
    last_t = e.time_us;
    last_seq = e.seq;
  }
  EXPECT_TRUE(q.empty());
}

// The calendar's buckets, the far heap and the jumps over empty stretches
// must together give exactly the (time, sequence) order one heap would:
// delays from zero (into the bucket being consumed) through a bucket width
// to several seconds (beyond the ring), repeated times, and long quiet gaps.
TEST(EventQueue, CalendarKeepsTheGlobalOrder) {
  EventQueue q;
  core::Rng rng(11);
  std::vector<Event> pushed;  // (time, seq, a) of every event, as a reference
  core::Time now;
  uint64_t seq = 0;
  uint32_t id = 0;
  auto push_one = [&](core::Duration d) {
    q.PushAfter(now, d, 0, id);
    pushed.push_back(Event{(now + d).micros(), seq++, 0, id++});
  };
  auto push_some = [&] {
    for (int k = 0; k < 3; ++k) {
      switch (rng.Below(6)) {
        case 0: push_one(core::Duration::Zero()); break;
        case 1: push_one(core::Duration::Micros(static_cast<int64_t>(rng.Below(600)))); break;
        case 2: push_one(core::Duration::Micros(20'000 + static_cast<int64_t>(rng.Below(30'000)))); break;
        case 3: push_one(core::Duration::Micros(static_cast<int64_t>(rng.Below(12)) * 37)); break;
        case 4: push_one(core::Duration::Micros(static_cast<int64_t>(rng.Below(3'000'000)))); break;
        default:
          // Rarely, far beyond everything queued: the ring runs dry and
          // the clock must jump.
          if (rng.Bernoulli(0.01)) push_one(core::Duration::Seconds(60));
          break;
      }
    }
  };
  for (int i = 0; i < 50; ++i) push_some();
  std::vector<uint32_t> popped;
  while (!q.empty()) {
    ASSERT_EQ(q.TopTime(), core::Time::FromMicros(q.Top().time_us));
    Event e = q.Pop();
    ASSERT_GE(e.time_us, now.micros());
    now = core::Time::FromMicros(e.time_us);
    popped.push_back(e.a);
    if (popped.size() < 40000) push_some();
  }
  std::sort(pushed.begin(), pushed.end(), [](const Event& x, const Event& y) {
    return x.time_us != y.time_us ? x.time_us < y.time_us : x.seq < y.seq;
  });
  ASSERT_EQ(popped.size(), pushed.size());
  for (size_t i = 0; i < pushed.size(); ++i) ASSERT_EQ(popped[i], pushed[i].a) << "at " << i;
  EXPECT_GT(now.seconds(), 60);  // the far heap and the jumps were exercised
}

// Peek shows the coming events in pop order, as far as the bucket being
// consumed and the one after it reach; beyond them, nothing.
TEST(EventQueue, PeekShowsWhatPopWillReturn) {
  EventQueue q;
  core::Rng rng(3);
  for (uint32_t i = 0; i < 3000; ++i)
    q.Push(core::Time::FromMicros(static_cast<int64_t>(rng.Below(2'000'000))), 0, i);
  size_t peeked = 0;
  while (!q.empty()) {
    q.Top();  // settle on the next event
    std::vector<uint32_t> ahead;
    for (size_t k = 0; const Event* e = q.Peek(k); ++k) ahead.push_back(e->a);
    ASSERT_FALSE(ahead.empty());  // the next event is always in the bucket
    peeked += ahead.size();
    for (uint32_t a : ahead) ASSERT_EQ(q.Pop().a, a);
  }
  EXPECT_EQ(peeked, 3000u);  // each event seen once, before its pop
}

// Near the end of a bucket the prefetcher needs the first events of the
// next one: Peek reaches into it, in pop order, although they were pushed
// out of order; an event pushed there afterwards still pops in its place.
TEST(EventQueue, PeekSeesIntoTheNextBucket) {
  EventQueue q;
  // Buckets are 256 us wide: 1024-1279 us is one, 1280-1535 us the next.
  q.Push(core::Time::FromMicros(1034), 0, 1);
  q.Push(core::Time::FromMicros(1044), 0, 2);
  q.Push(core::Time::FromMicros(1320), 0, 5);
  q.Push(core::Time::FromMicros(1284), 0, 3);
  q.Push(core::Time::FromMicros(1300), 0, 4);
  q.Top();  // the clock steps to the first bucket and sorts the next
  std::vector<uint32_t> ahead;
  for (size_t k = 0; const Event* e = q.Peek(k); ++k) ahead.push_back(e->a);
  EXPECT_EQ(ahead, (std::vector<uint32_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(q.Pop().a, 1u);
  q.Push(core::Time::FromMicros(1290), 0, 6);  // lands in the sorted next bucket
  std::vector<uint32_t> popped;
  while (!q.empty()) popped.push_back(q.Pop().a);
  EXPECT_EQ(popped, (std::vector<uint32_t>{2, 3, 6, 4, 5}));
}

}  // namespace
}  // namespace swarm::sim
