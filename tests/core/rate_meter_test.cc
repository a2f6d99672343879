#include "core/rate_meter.h"

#include <gtest/gtest.h>

namespace swarm::core {
namespace {

// The window is five 4-second buckets: a rate is the bytes of the buckets
// overlapping the last 20 s, divided by 20 s.
Time At(double seconds) { return Time::FromMicros(static_cast<int64_t>(seconds * 1e6)); }
double BytesPerSecond(const RateMeter& m, double seconds) {
  return m.Get(At(seconds)).bytes_per_second();
}

TEST(RateMeterTest, StartsAtZero) {
  RateMeter m;
  EXPECT_EQ(BytesPerSecond(m, 0), 0);
  EXPECT_EQ(BytesPerSecond(m, 1000), 0);
}

TEST(RateMeterTest, AveragesOverTheWholeWindow) {
  RateMeter m;
  m.Add(At(0.5), 1000);
  m.Add(At(3.9), 1000);   // same bucket
  m.Add(At(4.0), 2000);   // next bucket
  EXPECT_DOUBLE_EQ(BytesPerSecond(m, 4.0), 4000.0 / 20);
  EXPECT_DOUBLE_EQ(BytesPerSecond(m, 19.9), 4000.0 / 20);  // all 5 buckets still in
}

TEST(RateMeterTest, OldBucketsLeaveTheWindowOneByOne) {
  RateMeter m;
  m.Add(At(1), 100);   // bucket 0
  m.Add(At(5), 200);   // bucket 1
  m.Add(At(9), 400);   // bucket 2
  EXPECT_DOUBLE_EQ(BytesPerSecond(m, 19), 700.0 / 20);  // buckets 0..4
  EXPECT_DOUBLE_EQ(BytesPerSecond(m, 20), 600.0 / 20);  // bucket 0 gone
  EXPECT_DOUBLE_EQ(BytesPerSecond(m, 24), 400.0 / 20);   // window: buckets 2..6
  EXPECT_DOUBLE_EQ(BytesPerSecond(m, 27.9), 400.0 / 20);
  EXPECT_EQ(BytesPerSecond(m, 28), 0);
}

TEST(RateMeterTest, ReusedSlotsForgetWhatTheyHeld) {
  RateMeter m;
  m.Add(At(1), 100);    // bucket 0, slot 0
  m.Add(At(21), 50);    // bucket 5 reuses slot 0; buckets 1..4 were empty
  EXPECT_DOUBLE_EQ(BytesPerSecond(m, 21), 50.0 / 20);
  m.Add(At(1000), 7);   // a long silence skips the whole ring
  EXPECT_DOUBLE_EQ(BytesPerSecond(m, 1000), 7.0 / 20);
  m.Add(At(1004), 3);
  EXPECT_DOUBLE_EQ(BytesPerSecond(m, 1004), 10.0 / 20);
}

TEST(RateMeterTest, LateBytesCountOnlyInsideTheWindow) {
  RateMeter m;
  m.Add(At(40), 100);   // bucket 10
  m.Add(At(33), 10);    // bucket 8, still in the window of bucket 10
  m.Add(At(10), 1000);  // bucket 2, older than the window: dropped
  EXPECT_DOUBLE_EQ(BytesPerSecond(m, 40), 110.0 / 20);
  EXPECT_DOUBLE_EQ(BytesPerSecond(m, 36.5), 10.0 / 20);  // asked before the newest bucket
}

}  // namespace
}  // namespace swarm::core
