#include "net-real/units.h"

#include <gtest/gtest.h>

namespace swarm::net {
namespace {

TEST(UnitsTest, Bytes) {
  EXPECT_EQ(ParseBytes("1024B"), 1024);
  EXPECT_FALSE(ParseBytes("1024").has_value());  // a unit is required
  EXPECT_EQ(ParseBytes("16KiB"), 16384);
  EXPECT_EQ(ParseBytes("1.5MiB"), 1572864);
  EXPECT_EQ(ParseBytes("1MB"), 1000000);
  EXPECT_FALSE(ParseBytes("12 parsecs").has_value());
  EXPECT_FALSE(ParseBytes("-1").has_value());
  EXPECT_FALSE(ParseBytes("").has_value());
}

TEST(UnitsTest, Rates) {
  EXPECT_DOUBLE_EQ(ParseRate("2MiB/s")->bytes_per_second(), 2097152.0);
  EXPECT_DOUBLE_EQ(ParseRate("10Mbit/s")->bytes_per_second(), 1.25e6);
  EXPECT_DOUBLE_EQ(ParseRate("0")->bytes_per_second(), 0);
  EXPECT_DOUBLE_EQ(ParseRate("unlimited")->bytes_per_second(), 0);
  EXPECT_FALSE(ParseRate("2MiB").has_value());
  EXPECT_FALSE(ParseRate("fast").has_value());
}

TEST(UnitsTest, Durations) {
  EXPECT_EQ(ParseDuration("30s"), core::Duration::Seconds(30));
  EXPECT_EQ(ParseDuration("250ms"), core::Duration::Millis(250));
  EXPECT_EQ(ParseDuration("5m"), core::Duration::Seconds(300));
  EXPECT_EQ(ParseDuration("1.5h"), core::Duration::Seconds(5400));
  EXPECT_FALSE(ParseDuration("30").has_value());
}

TEST(UnitsTest, Format) {
  EXPECT_EQ(FormatBytes(512), "512 B");
  EXPECT_EQ(FormatBytes(1536), "1.5 KiB");
  EXPECT_EQ(FormatBytes(32 * 1048576.0), "32.0 MiB");
}

}  // namespace
}  // namespace swarm::net
