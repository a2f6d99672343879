#include "core/units.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <utility>

namespace swarm::core {
namespace {

struct Unit {
  std::string_view name;
  double factor;
};

// Splits "12.5MiB" into 12.5 and "MiB". Rejects signs, exponents and
// missing numbers.
std::optional<std::pair<double, std::string_view>> SplitNumber(
    std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  size_t i = 0;
  while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) ++i;
  if (i == 0) return std::nullopt;
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + i, v);
  if (ec != std::errc() || ptr != s.data() + i) return std::nullopt;
  std::string_view unit = s.substr(i);
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  return std::make_pair(v, unit);
}

template <size_t N>
std::optional<double> ParseWith(std::string_view s, const Unit (&units)[N]) {
  auto split = SplitNumber(s);
  if (!split) return std::nullopt;
  for (const Unit& u : units) {
    if (u.name == split->second) {
      double v = split->first * u.factor;
      if (!std::isfinite(v)) return std::nullopt;
      return v;
    }
  }
  return std::nullopt;
}

constexpr Unit kDurationUnits[] = {
    {"us", 1e-6}, {"ms", 1e-3}, {"s", 1}, {"min", 60}, {"m", 60},
    {"h", 3600},  {"d", 86400},
};
constexpr Unit kByteUnits[] = {
    {"B", 1},     {"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0},
    {"kB", 1e3},  {"KB", 1e3},     {"MB", 1e6},        {"GB", 1e9},
};
constexpr Unit kRateUnits[] = {
    {"bit/s", 1.0 / 8},  {"kbit/s", 1e3 / 8},    {"Kbit/s", 1e3 / 8},
    {"Mbit/s", 1e6 / 8}, {"Gbit/s", 1e9 / 8},    {"B/s", 1},
    {"KiB/s", 1024.0},   {"MiB/s", 1048576.0},   {"GiB/s", 1073741824.0},
    {"kB/s", 1e3},       {"KB/s", 1e3},          {"MB/s", 1e6},
    {"GB/s", 1e9},
};
constexpr Unit kFrequencyUnits[] = {
    {"/s", 1}, {"/min", 1.0 / 60}, {"/h", 1.0 / 3600}, {"/d", 1.0 / 86400},
};

std::string Trim(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

}  // namespace

std::optional<Duration> ParseDuration(std::string_view s) {
  auto v = ParseWith(s, kDurationUnits);
  if (!v || *v > 1e12) return std::nullopt;
  return Duration::SecondsF(*v);
}

std::optional<Bytes> ParseBytes(std::string_view s) {
  auto v = ParseWith(s, kByteUnits);
  if (!v || *v > 9e18) return std::nullopt;
  double r = std::round(*v);
  if (std::fabs(r - *v) > 1e-6) return std::nullopt;  // fractional byte
  return static_cast<Bytes>(r);
}

std::optional<Rate> ParseRate(std::string_view s) {
  auto v = ParseWith(s, kRateUnits);
  if (!v) return std::nullopt;
  return Rate::BytesPerSecond(*v);
}

std::optional<double> ParseFrequency(std::string_view s) {
  return ParseWith(s, kFrequencyUnits);
}

std::string FormatDuration(Duration d) {
  int64_t us = d.micros();
  if (us % 3600000000LL == 0 && us != 0) return std::to_string(us / 3600000000LL) + "h";
  if (us % 60000000LL == 0 && us != 0) return std::to_string(us / 60000000LL) + "min";
  if (us % 1000000 == 0) return std::to_string(us / 1000000) + "s";
  if (us % 1000 == 0) return std::to_string(us / 1000) + "ms";
  return std::to_string(us) + "us";
}

std::string FormatBytes(Bytes b) {
  if (b != 0 && b % kGiB == 0) return std::to_string(b / kGiB) + "GiB";
  if (b != 0 && b % kMiB == 0) return std::to_string(b / kMiB) + "MiB";
  if (b != 0 && b % kKiB == 0) return std::to_string(b / kKiB) + "KiB";
  return std::to_string(b) + "B";
}

std::string FormatRate(Rate r) {
  double bits = r.bits_per_second();
  double mbit = bits / 1e6;
  if (mbit >= 1 && std::fabs(mbit - std::round(mbit * 1e6) / 1e6) < 1e-9)
    return Trim(mbit) + "Mbit/s";
  double kbit = bits / 1e3;
  if (kbit >= 1 && std::fabs(kbit - std::round(kbit * 1e6) / 1e6) < 1e-9)
    return Trim(kbit) + "kbit/s";
  return Trim(bits) + "bit/s";
}

std::string FormatFrequency(double per_second) { return Trim(per_second) + "/s"; }

}  // namespace swarm::core
