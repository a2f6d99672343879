#include "net-real/token_bucket.h"

#include <gtest/gtest.h>

namespace swarm::net {
namespace {

using core::Duration;
using core::Time;

TEST(TokenBucketTest, UnlimitedIsAlwaysReady) {
  TokenBucket b(core::Rate::Zero(), 1);
  b.Take(Time::Zero(), 1 << 30);
  EXPECT_TRUE(b.Ready(Time::Zero()));
}

TEST(TokenBucketTest, DebtIsRepaidAtTheRate) {
  TokenBucket b(core::Rate::BytesPerSecond(1000), 100);
  Time t0 = Time::Zero();
  EXPECT_TRUE(b.Ready(t0));
  b.Take(t0, 600);  // 100 tokens -> -500
  EXPECT_FALSE(b.Ready(t0));
  EXPECT_EQ(b.ReadyAt(t0), t0 + Duration::Millis(500));
  EXPECT_FALSE(b.Ready(t0 + Duration::Millis(499)));
  EXPECT_TRUE(b.Ready(t0 + Duration::Millis(500)));
}

TEST(TokenBucketTest, LongRunRateMatches) {
  // Sending 16 KiB blocks as fast as allowed for 10 s moves rate*10 + burst.
  TokenBucket b(core::Rate::BytesPerSecond(1 << 20), 64 << 10);
  Time t = Time::Zero();
  int64_t sent = 0;
  while (t < Time::Zero() + Duration::Seconds(10)) {
    t = b.ReadyAt(t);
    b.Take(t, 16 << 10);
    sent += 16 << 10;
  }
  EXPECT_NEAR(double(sent), 10.0 * (1 << 20) + (64 << 10), 2 * (16 << 10));
}

TEST(TokenBucketTest, BurstCapsIdleAccumulation) {
  TokenBucket b(core::Rate::BytesPerSecond(1000), 100);
  Time later = Time::Zero() + Duration::Seconds(100);
  b.Take(later, 100);
  EXPECT_TRUE(b.Ready(later));
  b.Take(later, 1);
  EXPECT_FALSE(b.Ready(later));
}

}  // namespace
}  // namespace swarm::net
