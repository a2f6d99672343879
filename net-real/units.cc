#include "net-real/units.h"

#include <cstdio>
#include <cstdlib>
#include <utility>

namespace swarm::net {
namespace {

// Splits "12.5MiB" into 12.5 and "MiB". nullopt if no number or negative.
std::optional<std::pair<double, std::string_view>> SplitNumber(std::string_view s) {
  std::string text(s);
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || v < 0) return std::nullopt;
  size_t used = static_cast<size_t>(end - text.c_str());
  std::string_view unit = s.substr(used);
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  return std::make_pair(v, unit);
}

std::optional<double> ByteUnit(std::string_view u) {
  static const std::pair<std::string_view, double> kUnits[] = {
      {"", 1},       {"B", 1},       {"KiB", 1024.0},      {"MiB", 1048576.0},
      {"GiB", 1073741824.0},         {"kB", 1e3},          {"KB", 1e3},
      {"MB", 1e6},   {"GB", 1e9}};
  for (const auto& [name, mult] : kUnits) {
    if (u == name) return mult;
  }
  return std::nullopt;
}

}  // namespace

std::optional<core::Bytes> ParseBytes(std::string_view s) {
  auto split = SplitNumber(s);
  if (!split) return std::nullopt;
  auto mult = ByteUnit(split->second);
  if (!mult) return std::nullopt;
  return static_cast<core::Bytes>(split->first * *mult + 0.5);
}

std::optional<core::Rate> ParseRate(std::string_view s) {
  if (s == "0" || s == "unlimited") return core::Rate::Zero();
  auto split = SplitNumber(s);
  if (!split) return std::nullopt;
  auto [v, unit] = *split;
  static const std::pair<std::string_view, double> kBits[] = {
      {"bit/s", 1}, {"kbit/s", 1e3}, {"Mbit/s", 1e6}, {"Gbit/s", 1e9}};
  for (const auto& [name, mult] : kBits) {
    if (unit == name) return core::Rate::BytesPerSecond(v * mult / 8);
  }
  if (unit.size() < 2 || unit.substr(unit.size() - 2) != "/s") return std::nullopt;
  auto mult = ByteUnit(unit.substr(0, unit.size() - 2));
  if (!mult) return std::nullopt;
  return core::Rate::BytesPerSecond(v * *mult);
}

std::optional<core::Duration> ParseDuration(std::string_view s) {
  auto split = SplitNumber(s);
  if (!split) return std::nullopt;
  auto [v, unit] = *split;
  static const std::pair<std::string_view, double> kUnits[] = {
      {"us", 1e-6}, {"ms", 1e-3}, {"s", 1}, {"m", 60}, {"h", 3600}};
  for (const auto& [name, mult] : kUnits) {
    if (unit == name) return core::Duration::SecondsF(v * mult);
  }
  return std::nullopt;
}

std::string FormatBytes(double bytes) {
  static const char* kNames[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int i = 0;
  while (bytes >= 1024 && i < 4) {
    bytes /= 1024;
    ++i;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, i == 0 ? "%.0f %s" : "%.1f %s", bytes, kNames[i]);
  return buf;
}

}  // namespace swarm::net
