#include "core/units.h"

#include <gtest/gtest.h>

namespace swarm::core {
namespace {


TEST(Units, Durations) {
  EXPECT_EQ(ParseDuration("25ms"), Duration::Millis(25));
  EXPECT_EQ(ParseDuration("1.5s"), Duration::Millis(1500));
  EXPECT_EQ(ParseDuration("30min"), Duration::Seconds(1800));
  EXPECT_EQ(ParseDuration("4h"), Duration::Seconds(4 * 3600));
  EXPECT_EQ(ParseDuration("0s"), Duration::Zero());
  EXPECT_EQ(ParseDuration("10"), std::nullopt);     // no unit
  EXPECT_EQ(ParseDuration("-5s"), std::nullopt);    // negative
  EXPECT_EQ(ParseDuration("5 parsecs"), std::nullopt);
}

TEST(Units, Sizes) {
  EXPECT_EQ(ParseBytes("100MiB"), 100 * kMiB);
  EXPECT_EQ(ParseBytes("256KiB"), 256 * kKiB);
  EXPECT_EQ(ParseBytes("1MB"), 1'000'000);
  EXPECT_EQ(ParseBytes("512B"), 512);
  EXPECT_EQ(ParseBytes("0.5B"), std::nullopt);
  EXPECT_EQ(ParseBytes("100"), std::nullopt);
}

TEST(Units, Rates) {
  EXPECT_DOUBLE_EQ(ParseRate("10Mbit/s")->bytes_per_second(), 1.25e6);
  EXPECT_DOUBLE_EQ(ParseRate("1MiB/s")->bytes_per_second(), 1048576.0);
  EXPECT_DOUBLE_EQ(ParseRate("512kbit/s")->bytes_per_second(), 64000.0);
  EXPECT_EQ(ParseRate("10Mbps"), std::nullopt);
  EXPECT_DOUBLE_EQ(*ParseFrequency("0.2/s"), 0.2);
  EXPECT_DOUBLE_EQ(*ParseFrequency("12/min"), 0.2);
}

TEST(Units, FormatRoundTrips) {
  for (const char* s : {"25ms", "10s", "30min", "4h", "0s", "1500us"})
    EXPECT_EQ(FormatDuration(*ParseDuration(s)), s);
  for (const char* s : {"100MiB", "256KiB", "16KiB", "1000B"})
    EXPECT_EQ(FormatBytes(*ParseBytes(s)), s);
  for (const char* s : {"10Mbit/s", "1Mbit/s", "512kbit/s", "1.5Mbit/s", "1Gbit/s",
                        "1.5Gbit/s", "10Gbit/s", "1000Gbit/s", "1234.5678Mbit/s"})
    EXPECT_EQ(FormatRate(*ParseRate(s)), s);
  for (const char* s : {"7/min", "0.2/s", "3/h"})
    EXPECT_EQ(FormatFrequency(*ParseFrequency(s)), s);
}

// The largest unit in which the value is exact: a resolved scenario
// wrote 1 Gbit/s as 1000Mbit/s and the largest rate as 1000000Mbit/s.
TEST(Units, RatesInTheLargestExactUnit) {
  EXPECT_EQ(FormatRate(*ParseRate("1000Mbit/s")), "1Gbit/s");
  EXPECT_EQ(FormatRate(*ParseRate("2500Mbit/s")), "2.5Gbit/s");
  EXPECT_EQ(FormatRate(*ParseRate("125MB/s")), "1Gbit/s");
  EXPECT_EQ(FormatRate(kMaxRate), "1000Gbit/s");
  EXPECT_EQ(FormatRate(*ParseRate("999Mbit/s")), "999Mbit/s");       // under 1 Gbit/s
  EXPECT_EQ(FormatRate(*ParseRate("1000kbit/s")), "1Mbit/s");
  EXPECT_EQ(FormatRate(*ParseRate("1MiB/s")), "8.388608Mbit/s");
}

// A resolved scenario must reproduce its run: whatever a value was written
// as, its formatted text reads back as exactly the same double.
TEST(Units, FormattedValuesReadBackExactly) {
  for (const char* s : {"1.23456789012Mbit/s", "1234567.89bit/s", "1MiB/s", "3bit/s",
                        "0.1Mbit/s", "12.5MB/s", "1.23456789Gbit/s", "1GiB/s",
                        "999.9999999Gbit/s"}) {
    const Rate r = *ParseRate(s);
    EXPECT_EQ(ParseRate(FormatRate(r))->bytes_per_second(), r.bytes_per_second()) << s;
  }
  for (const char* s : {"7/min", "0.00001/d", "1/h", "0.1166666667/s", "1000000/s"}) {
    const double f = *ParseFrequency(s);
    EXPECT_EQ(*ParseFrequency(FormatFrequency(f)), f) << s << " -> " << FormatFrequency(f);
  }
}


TEST(UnitsTest, MinutesHaveTwoSpellings) {
  EXPECT_EQ(ParseDuration("5m"), Duration::Seconds(300));
  EXPECT_EQ(ParseDuration("5min"), Duration::Seconds(300));
}

// A point needs a digit on each side; a space may stand before the unit.
TEST(Units, DecimalsAndSpaces) {
  EXPECT_EQ(ParseDuration(".5h"), std::nullopt);
  EXPECT_EQ(ParseDuration("1.h"), std::nullopt);
  EXPECT_EQ(ParseDuration("1.2.3s"), std::nullopt);
  EXPECT_EQ(ParseDuration("0.5h"), Duration::Seconds(1800));
  EXPECT_EQ(ParseBytes("2 MiB"), 2 * kMiB);
}

// Sizes are counted exactly up to the largest; rates stop at 1 Tbit/s.
TEST(Units, Limits) {
  EXPECT_EQ(ParseBytes("9000000000000000000B"), 9'000'000'000'000'000'000);
  EXPECT_EQ(ParseBytes("9000000000000000001B"), std::nullopt);
  EXPECT_EQ(ParseBytes("9007199254740993B"), 9'007'199'254'740'993);
  EXPECT_EQ(ParseBytes("8388607.5GiB"), 9'007'199'254'740'992 - 512 * kMiB);
  EXPECT_EQ(ParseBytes("8388608.5GiB"), std::nullopt);  // a point, beyond 2^53
  EXPECT_EQ(ParseBytes("99999999999999999999B"), std::nullopt);
  EXPECT_EQ(ParseRate("1000Gbit/s")->bits_per_second(), 1e12);
  EXPECT_EQ(ParseRate("1000.001Gbit/s"), std::nullopt);
  EXPECT_EQ(ParseRate("200GB/s"), std::nullopt);
}

}  // namespace
}  // namespace swarm::core
