// The progress line's text: each number says what it counts.
#include "sim/progress_line.h"

#include <gtest/gtest.h>

namespace swarm::sim {
namespace {

TEST(ProgressLineTest, NamesLeechersDoneAndDataApart) {
  // 180 s into a flash crowd: no leecher finished yet, 62% of the payload
  // delivered. The line used to read "0.0% done | ... | ETA 30 s".
  Progress p;
  p.now = core::Time::FromMicros(180'100'000);
  p.done = 0;
  p.leechers = 1000;
  p.events = 65'000'000;
  p.payload = 0.62;
  p.fraction = 0.62;
  EXPECT_EQ(FormatProgress(p, 50.0),
            "sim 180.1 s | leechers done 0/1000 (0.0%) | data 62.0% | 1.30 M ev/s | ETA 31 s");
}

TEST(ProgressLineTest, NoEtaBeforeOnePercent) {
  Progress p;
  p.now = core::Time::FromMicros(2'000'000);
  p.done = 3;
  p.leechers = 8;
  p.events = 1000;
  p.payload = 0.004;
  p.fraction = 0.005;
  EXPECT_EQ(FormatProgress(p, 1.0),
            "sim 2.0 s | leechers done 3/8 (37.5%) | data 0.4% | 0.00 M ev/s | ETA ?");
}

}  // namespace
}  // namespace swarm::sim
