#include "sim/scenario_warnings.h"

#include <cstdio>

#include "core/units.h"
#include "sim/bounds.h"

namespace swarm::sim {

std::optional<std::string> NobodyCanComplete(const Scenario& s) {
  for (const PeerClassSpec& c : s.peers) {
    if (c.count > 0 && c.start_complete && !c.free_rider && !c.corrupt_uploads)
      return std::nullopt;
  }
  return "no class that can upload good data holds the file: every class that starts "
         "complete is a free rider (uploads nothing) or a polluter (corrupt_uploads), so no "
         "leecher can ever complete, and the run lasts stop.max_time (" +
         core::FormatDuration(s.stop.max_time) + ")";
}

std::vector<std::string> CoarseClockWarnings(const Scenario& s) {
  std::vector<std::string> out;
  auto check = [&](const PeerClassSpec& c, const char* what, core::Rate rate) {
    const double us = static_cast<double>(s.file.block_size) / rate.bytes_per_second() * 1e6;
    if (!(us < kShortestQuietBlockUs)) return;
    char text[512];
    std::snprintf(text, sizeof text,
                  "class '%s': at its %s rate (%s) a %s block lasts %.3g us, under %.0f us; "
                  "a block not followed at once by the next on its connection (no request "
                  "waiting) ends on a whole microsecond, so its transfers may take up to "
                  "%.3g %% longer than the rate says (docs/scenarios.md, "
                  "\"Fast links\")",
                  c.name.c_str(), what, core::FormatRate(rate).c_str(),
                  core::FormatBytes(s.file.block_size).c_str(), us, kShortestQuietBlockUs,
                  100 / us);
    out.push_back(text);
  };
  for (const PeerClassSpec& c : s.peers) {
    if (c.count == 0) continue;
    // A free rider's upload and a seed's download carry no blocks.
    if (!c.free_rider && c.upload.bytes_per_second() > 0) check(c, "upload", c.upload);
    if (!c.start_complete && c.download.bytes_per_second() > 0)
      check(c, "download", c.download);
  }
  return out;
}

std::vector<std::string> ScenarioWarnings(const Scenario& s) {
  std::vector<std::string> out;
  if (auto w = NobodyCanComplete(s)) out.push_back(*w);
  for (std::string& w : CoarseClockWarnings(s)) out.push_back(std::move(w));
  if (auto w = StopsBeforeBound(s)) out.push_back(*w);
  return out;
}

}  // namespace swarm::sim
