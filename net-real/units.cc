#include "net-real/units.h"

#include <cstdio>

namespace swarm::net {

std::optional<core::Rate> ParseRate(std::string_view s) {
  if (s == "0" || s == "unlimited") return core::Rate::Zero();
  return core::ParseRate(s);
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
