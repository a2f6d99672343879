// Warnings `sim check` and `sim run` give about valid scenarios.
#include "sim/scenario_warnings.h"

#include <gtest/gtest.h>

#include <string>

#include "sim/scenario_yaml.h"

namespace swarm::sim {
namespace {

Scenario Parse(const std::string& text, std::vector<std::string> sets = {}) {
  auto r = ParseScenario("t.yaml", text, sets);
  if (auto* e = std::get_if<ScenarioLoadError>(&r)) ADD_FAILURE() << e->message;
  return std::get<Scenario>(r);
}

const char* kSmall = R"(name: small
stop: {all_complete: true, max_time: 1h}
file: {size: 4MiB, piece_size: 256KiB, block_size: 16KiB}
peers:
  - {class: seed, count: 1, upload: 10Mbit/s, download: 100Mbit/s, start: complete}
  - {class: leecher, count: 10, upload: 1Mbit/s, download: 8Mbit/s})";

// The only seed a free rider or a polluter: the Kumar-Ross bound is
// infinite and StopsBeforeBound, which skips that, said nothing.
TEST(ScenarioWarnings, NobodyCanCompleteWithoutAnHonestSeed) {
  EXPECT_FALSE(NobodyCanComplete(Parse(kSmall)));
  const std::string want =
      "no class that can upload good data holds the file: every class that starts complete "
      "is a free rider (uploads nothing) or a polluter (corrupt_uploads), so no leecher can "
      "ever complete, and the run stops with `pieces_lost` once a piece has no holder left "
      "that can pass it on";
  EXPECT_EQ(NobodyCanComplete(Parse(kSmall, {"peers.0.free_rider=true"})).value_or(""), want);
  EXPECT_EQ(NobodyCanComplete(Parse(kSmall, {"peers.0.corrupt_uploads=true"})).value_or(""),
            want);
  EXPECT_EQ(ScenarioWarnings(Parse(kSmall, {"peers.0.free_rider=true"})),
            std::vector<std::string>{want});
  // An honest seed class next to it is enough; one of count 0 is not.
  const std::string two_seeds = std::string(kSmall) +
                                "\n  - {class: honest, count: 1, upload: 1Mbit/s, "
                                "download: 1Mbit/s, start: complete}";
  EXPECT_FALSE(NobodyCanComplete(Parse(two_seeds, {"peers.0.free_rider=true"})));
  EXPECT_EQ(
      NobodyCanComplete(Parse(two_seeds, {"peers.0.free_rider=true", "peers.2.count=0"}))
          .value_or(""),
      want);
}

// Seeds that leave or fail before they could upload one copy of the file
// between them (4 MiB at 10 Mbit/s takes 3.4 s): the field is named.
TEST(ScenarioWarnings, NobodyCanCompleteWhenTheSeedsLeaveAtOnce) {
  const std::string tail =
      " of the 4MiB file, so no leecher can ever complete, and the run stops with "
      "`pieces_lost` once a piece has no holder left that can pass it on";
  const std::string head =
      "every seed that can upload good data is gone before it could upload one copy of the "
      "file: ";
  EXPECT_EQ(NobodyCanComplete(Parse(kSmall, {"peers.0.leave={after_complete: 0s}"})).value_or(""),
            head + "peers.0.leave (class 'seed': 0s); at their upload rates they send at most 0B" +
                tail);
  EXPECT_EQ(NobodyCanComplete(Parse(kSmall, {"peers.0.leave={at: 1us}"})).value_or(""),
            head + "peers.0.leave (class 'seed': 1us); at their upload rates they send at most 1B" +
                tail);
  EXPECT_EQ(NobodyCanComplete(Parse(kSmall, {"peers.0.failure={probability: 1, after: 0s}"}))
                .value_or(""),
            head + "peers.0.failure (class 'seed': 0s); at their upload rates they send at most 0B" +
                tail);
  // 3 s at 10 Mbit/s: 3.75 MB, 3.6 MiB of 4 MiB.
  EXPECT_EQ(NobodyCanComplete(Parse(kSmall, {"peers.0.leave={at: 3s}"})).value_or(""),
            head + "peers.0.leave (class 'seed': 3s); at their upload rates they send at most 3.6MiB" +
                tail);
  // Long enough for one copy, or perhaps: no warning.
  EXPECT_FALSE(NobodyCanComplete(Parse(kSmall, {"peers.0.leave={at: 4s}"})));
  EXPECT_FALSE(NobodyCanComplete(Parse(kSmall, {"peers.0.failure={probability: 0.9, after: 0s}"})));
  EXPECT_FALSE(
      NobodyCanComplete(Parse(kSmall, {"peers.0.leave={after_complete: {exponential: 1s}}"})));
  // Two seeds each staying 2 s send 5 MB between them: enough.
  EXPECT_FALSE(NobodyCanComplete(Parse(kSmall, {"peers.0.leave={at: 2s}", "peers.0.count=2"})));
  // Without all_complete the run lasts max_time.
  EXPECT_NE(NobodyCanComplete(Parse(kSmall, {"peers.0.leave={at: 1us}", "stop.all_complete=false"}))
                .value_or("")
                .find("and the run lasts stop.max_time (1h)"),
            std::string::npos);
}

// A block with no successor waiting on its connection ends on a whole
// microsecond: at 1 Gbit/s a 16 KiB block lasts 131 us, and transfers may
// take up to 1/131 longer.
TEST(ScenarioWarnings, BlocksUnder200usAreWarnedAbout) {
  EXPECT_TRUE(CoarseClockWarnings(Parse(kSmall)).empty());
  EXPECT_TRUE(CoarseClockWarnings(Parse(kSmall, {"peers.1.download=600Mbit/s"})).empty());
  EXPECT_EQ(CoarseClockWarnings(Parse(kSmall, {"peers.1.download=1Gbit/s"})),
            std::vector<std::string>{
                "class 'leecher': at its download rate (1Gbit/s) a 16KiB block lasts 131 us, "
                "under 200 us; a block not followed at once by the next on its connection "
                "(no request waiting) ends on a whole microsecond, so its transfers may take "
                "up to 0.763 % longer than the rate says (docs/scenarios.md, \"Fast links\")"});
  // Both rates of a class; a seed's download and a free rider's upload
  // carry no blocks; a class of count 0 has no peers.
  const std::vector<std::string> fast = CoarseClockWarnings(
      Parse(kSmall, {"peers.0.upload=1000Gbit/s", "peers.0.download=1000Gbit/s",
                     "peers.1.upload=10Gbit/s", "peers.1.download=10Gbit/s"}));
  ASSERT_EQ(fast.size(), 3u);
  EXPECT_EQ(fast[0].rfind("class 'seed': at its upload rate (1000Gbit/s) a 16KiB block lasts "
                          "0.131 us, under 200 us;",
                          0),
            0u)
      << fast[0];
  EXPECT_NE(fast[0].find("up to 763 % longer"), std::string::npos) << fast[0];
  EXPECT_NE(fast[1].find("class 'leecher': at its upload rate (10Gbit/s) a 16KiB block lasts "
                         "13.1 us"),
            std::string::npos)
      << fast[1];
  EXPECT_NE(fast[2].find("download rate (10Gbit/s)"), std::string::npos) << fast[2];
  EXPECT_TRUE(CoarseClockWarnings(Parse(kSmall, {"peers.1.upload=10Gbit/s",
                                                  "peers.1.free_rider=true"}))
                  .empty());
  EXPECT_TRUE(CoarseClockWarnings(Parse(std::string(kSmall) +
                                        "\n  - {class: off, count: 0, upload: 10Gbit/s, "
                                        "download: 10Gbit/s}"))
                  .empty());
}

// One seed and one leecher at 1 Gbit/s: 5 requests of 16 KiB in flight
// carry 5 x 16 KiB per round trip plus a block's time, 13.1 Mbit/s over
// 50 ms (a 1 GiB download measured 657 s), 308 Mbit/s over 2 ms (27.95 s).
TEST(ScenarioWarnings, PipelineBelowTheRateTimesTheRoundTrip) {
  EXPECT_TRUE(PipelineWarnings(Parse(kSmall)).empty());
  const std::vector<std::string> fast = {
      "peers.1.count=1", "peers.0.upload=1Gbit/s", "peers.1.download=1Gbit/s"};
  auto with = [&](std::vector<std::string> more) {
    more.insert(more.begin(), fast.begin(), fast.end());
    return PipelineWarnings(Parse(kSmall, more));
  };
  EXPECT_EQ(with({}),  // the default latency, {constant: 25ms}
            std::vector<std::string>{
                "classes 'seed' -> 'leecher': a connection may carry 1Gbit/s "
                "(upload 1Gbit/s over 1 at once, download 1Gbit/s), but 5 "
                "requests of 16KiB in flight over a round trip of up to 50ms "
                "carry at most 13.1Mbit/s, 1.31 % of it (request_pipeline x "
                "block_size / (round trip + block_size / rate)); set "
                "protocol.request_pipeline to at least 383 (and "
                "max_queued_requests of class 'seed' as high: more queued "
                "requests than it allows is abuse), or use larger blocks "
                "(file.block_size) (docs/scenarios.md, \"Fast links\")"});
  EXPECT_EQ(
      with({"network.latency={constant: 1ms}"}),
      std::vector<std::string>{
          "classes 'seed' -> 'leecher': a connection may carry 1Gbit/s "
          "(upload 1Gbit/s over 1 at once, download 1Gbit/s), but 5 "
          "requests of 16KiB in flight over a round trip of up to 2ms carry "
          "at most 308Mbit/s, 30.8 % of it (request_pipeline x block_size / "
          "(round trip + block_size / rate)); set protocol.request_pipeline "
          "to at least 17 (docs/scenarios.md, \"Fast links\")"});
  // Rates in binary units are rounded as the computed ones are: 4MiB/s is
  // 33.6Mbit/s, not 33.554432Mbit/s.
  const std::vector<std::string> binary = PipelineWarnings(
      Parse(kSmall, {"peers.1.count=1", "peers.0.upload=4MiB/s", "peers.1.download=8MiB/s",
                     "network.latency={constant: 100ms}"}));
  ASSERT_EQ(binary.size(), 1u);
  EXPECT_NE(binary[0].find("a connection may carry 33.6Mbit/s (upload 33.6Mbit/s over 1 at "
                           "once, download 67.1Mbit/s)"),
            std::string::npos)
      << binary[0];
  // That many lifts the cap, one fewer does not; nor does a latency of 0.
  EXPECT_TRUE(
      with({"network.latency={constant: 1ms}", "protocol.request_pipeline=17"})
          .empty());
  EXPECT_EQ(
      with({"network.latency={constant: 1ms}", "protocol.request_pipeline=16"})
          .size(),
      1u);
  EXPECT_TRUE(with({"network.latency={constant: 0s}"}).empty());
  // An adaptive pipeline holds what the rate delivers in request_queue_time
  // (at most half of max_queued_requests): 3 s at 1 Gbit/s is 22,888
  // blocks, so 128 over 50 ms, 335 Mbit/s.
  EXPECT_TRUE(with({"network.latency={constant: 1ms}",
                    "protocol.request_queue_time=3s"})
                  .empty());
  EXPECT_NE(with({"protocol.request_queue_time=3s"})
                .at(0)
                .find("but 128 requests of 16KiB in flight over a round trip "
                      "of up to 50ms carry "
                      "at most 335Mbit/s"),
            std::string::npos);
  // The largest delay of a uniform window; a class's own pipeline is named.
  EXPECT_NE(with({"network.latency={uniform: [0s, 1ms]}"})
                .at(0)
                .find("round trip of up to 2ms"),
            std::string::npos);
  EXPECT_NE(with({"network.latency={constant: 1ms}",
                  "peers.1.protocol={request_pipeline: 8}"})
                .at(0)
                .find("8 requests of 16KiB in flight over a round trip of up "
                      "to 2ms carry at most 492Mbit/s, 49.2 % of it "
                      "(request_pipeline x block_size / (round trip + "
                      "block_size / rate)); set "
                      "peers.1.protocol.request_pipeline to at least 17"),
            std::string::npos);
  // With four leechers the seed serves each at a quarter of its upload:
  // 250 Mbit/s over 2 ms fits in 5 blocks.
  EXPECT_TRUE(PipelineWarnings(
                  Parse(kSmall, {"peers.1.count=4", "peers.0.upload=1Gbit/s",
                                 "peers.1.download=1Gbit/s",
                                 "network.latency={constant: 1ms}"}))
                  .empty());
  // The flash crowd a reviewer measured (100 leechers, 100 Mbit/s seed,
  // 20 Mbit/s up and 100 Mbit/s down, 20-50 ms): the seed's connections
  // only; the leechers' 5 Mbit/s shares fit.
  const std::vector<std::string> crowd = PipelineWarnings(
      Parse(kSmall, {"peers.1.count=100", "peers.0.upload=100Mbit/s",
                     "peers.1.upload=20Mbit/s", "peers.1.download=100Mbit/s",
                     "network.latency={uniform: [20ms, 50ms]}"}));
  ASSERT_EQ(crowd.size(), 1u);
  EXPECT_EQ(
      crowd[0].rfind(
          "classes 'seed' -> 'leecher': a connection may carry 25Mbit/s "
          "(upload 100Mbit/s over 4 at once, download 100Mbit/s), but 5 "
          "requests of 16KiB in flight over a round trip of up to 100ms carry "
          "at most 6.23Mbit/s, 24.9 % of it",
          0),
      0u)
      << crowd[0];
  EXPECT_NE(crowd[0].find("to at least 21 ("), std::string::npos) << crowd[0];
  // A matrix: the delay between the two classes, not the largest of all.
  const std::string three =
      std::string(kSmall) +
      "\n  - {class: far, count: 1, upload: 1Mbit/s, download: 1Mbit/s}"
      "\nnetwork: {latency: {matrix: {seed: {seed: 0s, leecher: 2ms, "
      "far: 1s}, leecher: {leecher: 0s, far: 1s}, far: {far: 0s}}}}";
  const std::vector<std::string> m = PipelineWarnings(
      Parse(three, {"peers.0.upload=1Gbit/s", "peers.1.download=1Gbit/s"}));
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(
      m[0].rfind(
          "classes 'seed' -> 'leecher': a connection may carry 250Mbit/s", 0),
      0u)
      << m[0];
  EXPECT_NE(m[0].find("round trip of up to 4ms"), std::string::npos) << m[0];
  EXPECT_EQ(
      m[1].rfind("classes 'seed' -> 'far': a connection may carry 1Mbit/s", 0),
      0u)
      << m[1];
  EXPECT_NE(m[1].find("round trip of up to 2s"), std::string::npos) << m[1];
  // A free rider uploads nothing; two unconnectable classes never meet.
  EXPECT_TRUE(
      PipelineWarnings(
          Parse(three, {"peers.0.upload=1Gbit/s", "peers.1.download=1Gbit/s",
                        "peers.0.free_rider=true", "peers.2.count=0"}))
          .empty());
  const std::vector<std::string> nat = PipelineWarnings(
      Parse(three, {"peers.0.upload=1Gbit/s", "peers.1.download=1Gbit/s",
                    "peers.0.connectable=false", "peers.1.connectable=false"}));
  ASSERT_EQ(nat.size(), 2u);
  EXPECT_EQ(
      nat[0].rfind(
          "classes 'seed' -> 'far': a connection may carry 1Mbit/s (upload "
          "1Gbit/s over 1 at once",
          0),
      0u)
      << nat[0];
  EXPECT_EQ(
      nat[1].rfind("classes 'leecher' -> 'far': a connection may carry 1Mbit/s",
                   0),
      0u)
      << nat[1];
}

// A downloader that may keep more requests at a neighbour than the
// neighbour queues is disconnected for too_many_requests: its fixed
// pipeline, or half its own max_queued_requests with request_queue_time,
// against the uploader's max_queued_requests.
TEST(ScenarioWarnings, ADownloaderAskingMoreThanItsUploaderQueues) {
  auto mismatch = [](std::vector<std::string> sets) {
    std::vector<std::string> found;
    for (const std::string& w : PipelineWarnings(Parse(kSmall, sets)))
      if (w.find("too_many_requests") != std::string::npos) found.push_back(w);
    return found;
  };
  EXPECT_TRUE(mismatch({}).empty());
  EXPECT_TRUE(mismatch({"protocol.request_queue_time=3s"}).empty());
  // The leecher's adaptive pipeline reaches 500 against the seed's 256.
  const std::vector<std::string> deep = mismatch(
      {"peers.1.protocol={request_queue_time: 3s, max_queued_requests: 1000}"});
  ASSERT_EQ(deep.size(), 1u);
  EXPECT_EQ(deep[0].rfind("classes 'seed' -> 'leecher': 'leecher' may keep up to 500 requests "
                          "in flight at a neighbour, more than the 256 that 'seed' queues",
                          0),
            0u)
      << deep[0];
  // At 512, half is the seed's 256: taken.
  EXPECT_TRUE(
      mismatch({"peers.1.protocol={request_queue_time: 3s, max_queued_requests: 512}"})
          .empty());
  // A fixed pipeline deeper than the seed queues.
  const std::vector<std::string> fixed =
      mismatch({"peers.0.protocol={max_queued_requests: 8}",
                "peers.1.protocol={request_pipeline: 10}"});
  ASSERT_EQ(fixed.size(), 1u);
  EXPECT_NE(fixed[0].find("lower 'leecher''s request_pipeline"), std::string::npos)
      << fixed[0];
}

// Choosing a new piece scans every piece: past 10,000 pieces per block of
// a piece, picking is a quarter or more of a run's CPU.
TEST(ScenarioWarnings, ManyPiecesMakePickingSlow) {
  EXPECT_FALSE(SlowPiecePicking(Parse(kSmall)));
  const std::vector<std::string> tiny = {"file.piece_size=1KiB",
                                         "file.block_size=1KiB"};
  auto with = [&](std::vector<std::string> more) {
    more.insert(more.begin(), tiny.begin(), tiny.end());
    return SlowPiecePicking(Parse(kSmall, more));
  };
  EXPECT_FALSE(with({"file.size=10000KiB"}));
  EXPECT_EQ(
      with({"file.size=10001KiB"}).value_or(""),
      "file: 10001 pieces of 1 block (1KiB): choosing a new piece scans "
      "every piece, so each leecher's picking costs CPU time growing with "
      "the square of the piece count, and above 10000 pieces (10000 per "
      "block of a piece) it is a quarter or more of the run's CPU, growing "
      "with the piece count; larger pieces (file.piece_size) make it small "
      "(docs/performance.md, \"Many pieces\")");
  // Last of all warnings (5 blocks of 1 KiB per 50 ms round trip also
  // hold the seed's connections below their 2.5 Mbit/s).
  const std::vector<std::string> all = ScenarioWarnings(Parse(
      kSmall,
      {"file.piece_size=1KiB", "file.block_size=1KiB", "file.size=10001KiB"}));
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].rfind("classes 'seed' -> 'leecher'", 0), 0u) << all[0];
  EXPECT_EQ(all[1], *with({"file.size=10001KiB"}));
  // Pieces of 16 blocks: 160,000 pieces.
  auto sixteen = [&](const std::string& size) {
    return SlowPiecePicking(
        Parse(kSmall, {"file.piece_size=16KiB", "file.block_size=1KiB", size}));
  };
  EXPECT_FALSE(sixteen("file.size=2500MiB"));
  EXPECT_EQ(sixteen("file.size=2600MiB")
                .value_or("")
                .rfind("file: 166400 pieces of 16 blocks (16KiB): ", 0),
            0u);
  // Sequential picking stops at the first piece it may take; one class
  // that scans is enough.
  EXPECT_FALSE(
      with({"file.size=20000KiB", "protocol.piece_selection=sequential"}));
  EXPECT_TRUE(with({"file.size=20000KiB", "protocol.piece_selection=sequential",
                    "peers.1.protocol={piece_selection: random}"}));
}

}  // namespace
}  // namespace swarm::sim
