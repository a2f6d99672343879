#include "core/units.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>
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

// The shortest decimal that reads back as exactly `v`, without an exponent
// (the unit parsers take plain decimals only).
std::string Shortest(double v) {
  char buf[400];  // the longest double in fixed notation has ~330 characters
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  return std::string(buf, end);
}

// `v` in `unit` if that reads back as exactly `v` and looks like a number a
// person would write (at most six decimals), else nothing.
template <typename Parse>
std::optional<std::string> InUnit(double v, double unit, const char* name, Parse parse,
                                  double at_least = 1) {
  const double x = v / unit;
  if (x < at_least || std::fabs(x - std::round(x * 1e6) / 1e6) > 1e-9) return std::nullopt;
  std::string text = Shortest(std::round(x * 1e6) / 1e6) + name;
  auto back = parse(text);
  if (!back || *back != v) return std::nullopt;
  return text;
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

// Both formats below must read back exactly: a resolved scenario written
// with them has to reproduce the run it came from.
std::string FormatRate(Rate r) {
  const double bits = r.bits_per_second();
  auto parse = [](std::string_view t) -> std::optional<double> {
    auto rate = ParseRate(t);
    return rate ? std::optional(rate->bits_per_second()) : std::nullopt;
  };
  if (auto t = InUnit(bits, 1e6, "Mbit/s", parse)) return *t;
  if (auto t = InUnit(bits, 1e3, "kbit/s", parse)) return *t;
  std::string t = Shortest(bits) + "bit/s";
  if (parse(t) == bits) return t;
  return Shortest(r.bytes_per_second()) + "B/s";  // exact: factor 1
}

std::string FormatFrequency(double per_second) {
  if (auto t = InUnit(per_second, 1, "/s", ParseFrequency, 1e-6)) return *t;
  if (auto t = InUnit(per_second, 1.0 / 60, "/min", ParseFrequency)) return *t;
  if (auto t = InUnit(per_second, 1.0 / 3600, "/h", ParseFrequency)) return *t;
  return Shortest(per_second) + "/s";  // exact: factor 1
}

}  // namespace swarm::core
