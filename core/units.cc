#include "core/units.h"

#include <charconv>
#include <cmath>
#include <optional>
#include <utility>

namespace swarm::core {
namespace {

struct Unit {
  std::string_view name;
  double factor;
};

// Splits "12.5MiB" (or "12.5 MiB") into its number's text and "MiB". The
// number is digits, optionally a point and more digits: no signs, no
// exponents, and a point needs a digit on each side (".5h" and "1.h" are
// refused, as typos more often than not).
std::optional<std::pair<std::string_view, std::string_view>> SplitText(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  auto digits = [&](size_t i) {
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i;
  };
  size_t i = digits(0);
  if (i == 0) return std::nullopt;
  if (i < s.size() && s[i] == '.') {
    const size_t j = digits(i + 1);
    if (j == i + 1) return std::nullopt;
    i = j;
  }
  std::string_view unit = s.substr(i);
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  return std::make_pair(s.substr(0, i), unit);
}

std::optional<std::pair<double, std::string_view>> SplitNumber(std::string_view s) {
  auto split = SplitText(s);
  if (!split) return std::nullopt;
  const std::string_view num = split->first;
  double v = 0;
  auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
  if (ec != std::errc() || ptr != num.data() + num.size()) return std::nullopt;
  return std::make_pair(v, split->second);
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
  constexpr uint64_t kMax = 9'000'000'000'000'000'000u;
  auto split = SplitText(s);
  if (!split) return std::nullopt;
  if (split->first.find('.') == std::string_view::npos) {
    // A whole number, counted exactly: a double would read
    // 9000000000000000001B as the largest size, 9000000000000000000B.
    uint64_t n = 0;
    const std::string_view num = split->first;
    auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), n);
    if (ec != std::errc() || ptr != num.data() + num.size()) return std::nullopt;
    for (const Unit& u : kByteUnits) {
      if (u.name != split->second) continue;
      uint64_t v = 0;
      if (__builtin_mul_overflow(n, static_cast<uint64_t>(u.factor), &v) || v > kMax)
        return std::nullopt;
      return static_cast<Bytes>(v);
    }
    return std::nullopt;
  }
  // With a point, a double holds it; up to 2^53 it tells a whole byte from
  // a fraction of one, beyond that it cannot, so a larger size is written
  // as a whole number.
  auto v = ParseWith(s, kByteUnits);
  if (!v || *v >= 9007199254740992.0) return std::nullopt;
  double r = std::round(*v);
  if (std::fabs(r - *v) > 1e-6) return std::nullopt;  // fractional byte
  return static_cast<Bytes>(r);
}

std::optional<Rate> ParseRate(std::string_view s) {
  auto v = ParseWith(s, kRateUnits);
  if (!v || *v > kMaxRate.bytes_per_second()) return std::nullopt;
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
// A rate goes in the largest bit unit in which it is at least 1 with at
// most six decimals and reads back exactly: 1Gbit/s, 1.5Gbit/s,
// 1000Gbit/s (kMaxRate), 100Mbit/s; 1234.5678Mbit/s stays in Mbit/s
// (1.2345678Gbit/s has seven decimals).
std::string FormatRate(Rate r) {
  const double bits = r.bits_per_second();
  auto parse = [](std::string_view t) -> std::optional<double> {
    auto rate = ParseRate(t);
    return rate ? std::optional(rate->bits_per_second()) : std::nullopt;
  };
  if (auto t = InUnit(bits, 1e9, "Gbit/s", parse)) return *t;
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
