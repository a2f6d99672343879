// LogLimiter with made-up times: a burst per host per interval, then one
// summary line for the rest.
#include "net-real/log_limiter.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace swarm::net {
namespace {

core::Time At(double seconds) { return core::Time::Zero() + core::Duration::SecondsF(seconds); }

LogLimiterOptions Options(uint32_t lines, int64_t interval_s, size_t max_hosts = 4096) {
  LogLimiterOptions o;
  o.lines_per_interval = lines;
  o.interval = core::Duration::Seconds(interval_s);
  o.max_hosts = max_hosts;
  return o;
}

// How many of `n` lines about `host`, one every `step` seconds from
// `from`, are let through.
int Allowed(LogLimiter* l, const std::string& host, int n, double from, double step) {
  int allowed = 0;
  for (int i = 0; i < n; ++i) allowed += l->Allow(At(from + i * step), host) ? 1 : 0;
  return allowed;
}

TEST(LogLimiterTest, AFloodFromOneHostWritesABurstThenOneSummary) {
  LogLimiter l(Options(5, 60));
  EXPECT_EQ(Allowed(&l, "10.0.0.7", 100, 0, 0.1), 5);  // 100 lines in 10 s
  EXPECT_TRUE(l.TakeSummaries(At(59.9)).empty());       // the interval is not over
  EXPECT_EQ(l.TakeSummaries(At(60)),
            std::vector<std::string>{"suppressed 95 messages from 10.0.0.7 in 60 s (at most 5 "
                                     "are written per 60 s)"});
  EXPECT_TRUE(l.TakeSummaries(At(120)).empty());  // said once
  EXPECT_EQ(l.hosts(), 0u);                        // and forgotten
  // A new interval starts afresh.
  EXPECT_EQ(Allowed(&l, "10.0.0.7", 10, 130, 1), 5);
}

TEST(LogLimiterTest, HostsAreCountedApart) {
  LogLimiter l(Options(2, 10));
  EXPECT_EQ(Allowed(&l, "10.0.0.7", 50, 0, 0.01), 2);
  EXPECT_EQ(Allowed(&l, "10.0.0.8", 1, 1, 0), 1);  // an honest neighbour is still heard
  EXPECT_EQ(Allowed(&l, "[::1]", 3, 2, 0), 2);
  const std::vector<std::string> s = l.TakeSummaries(At(12));
  ASSERT_EQ(s.size(), 2u);  // in host order; nothing to say about 10.0.0.8
  EXPECT_EQ(s[0].rfind("suppressed 48 messages from 10.0.0.7 in 10 s", 0), 0u) << s[0];
  EXPECT_EQ(s[1].rfind("suppressed 1 message from [::1] in 10 s", 0), 0u) << s[1];
}

// A host still misbehaving when its interval ends gets its summary as its
// next line comes, not only when TakeSummaries is called.
TEST(LogLimiterTest, AWindowRollsOverOnTheNextLine) {
  LogLimiter l(Options(1, 10));
  EXPECT_TRUE(l.Allow(At(0), "h"));
  EXPECT_FALSE(l.Allow(At(5), "h"));
  EXPECT_FALSE(l.Allow(At(9.99), "h"));
  EXPECT_TRUE(l.Allow(At(10), "h"));  // the next interval's first line
  EXPECT_FALSE(l.Allow(At(11), "h"));
  EXPECT_EQ(l.TakeSummaries(At(11)),
            std::vector<std::string>{
                "suppressed 2 messages from h in 10 s (at most 1 are written per 10 s)"});
  EXPECT_EQ(l.TakeSummaries(At(20)),
            std::vector<std::string>{
                "suppressed 1 message from h in 10 s (at most 1 are written per 10 s)"});
}

// Made-up hosts cannot grow it: past max_hosts the oldest is summarised
// early and forgotten.
TEST(LogLimiterTest, MemoryIsBoundedByMaxHosts) {
  LogLimiter l(Options(1, 60, 3));
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(l.Allow(At(i), "h" + std::to_string(i)));
    EXPECT_FALSE(l.Allow(At(i), "h" + std::to_string(i)));
  }
  EXPECT_TRUE(l.Allow(At(3.5), "h3"));
  EXPECT_EQ(l.hosts(), 3u);
  EXPECT_EQ(l.TakeSummaries(At(4)),
            std::vector<std::string>{
                "suppressed 1 message from h0 in 3.5 s (at most 1 are written per 60 s)"});
  for (int i = 4; i < 1000; ++i) l.Allow(At(i * 0.01 + 4), "h" + std::to_string(i));
  EXPECT_EQ(l.hosts(), 3u);
}

TEST(LogLimiterTest, AnUnknownAddressIsNamedSo) {
  LogLimiter l(Options(0, 1));
  EXPECT_FALSE(l.Allow(At(0), ""));
  EXPECT_EQ(l.TakeSummaries(At(1)),
            std::vector<std::string>{"suppressed 1 message from an unknown address in 1 s (at "
                                     "most 0 are written per 1 s)"});
}

}  // namespace
}  // namespace swarm::net
