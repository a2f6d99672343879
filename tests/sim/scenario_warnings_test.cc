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
      "ever complete, and the run stops with `pieces_lost` once a piece has no holder left";
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
      "`pieces_lost` once a piece has no holder left";
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

}  // namespace
}  // namespace swarm::sim
