#include "sim/scenario_warnings.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "core/units.h"
#include "sim/bounds.h"

namespace swarm::sim {

namespace {

// How such a run ends: with stop.all_complete the simulator stops once a
// piece is lost for good (docs/scenarios.md, "Stop conditions").
std::string HowItEnds(const Scenario& s) {
  if (s.stop.all_complete) return "the run stops with `pieces_lost` once a piece has no holder left";
  return "the run lasts stop.max_time (" + core::FormatDuration(s.stop.max_time) + ")";
}

bool IsSource(const PeerClassSpec& c) {
  return c.count > 0 && c.start_complete && !c.free_rider && !c.corrupt_uploads;
}

// The earliest a peer of class `c` can join.
core::Duration EarliestJoin(const ArrivalSpec& a) {
  return a.kind == ArrivalSpec::Kind::kUniform ? a.from : a.at;
}

// The longest a peer of seed class `c` can stay, and the field that limits
// it ("" when nothing does: it may stay for good).
std::pair<core::Duration, std::string> LongestStay(const PeerClassSpec& c, size_t index) {
  const std::string at = "peers." + std::to_string(index) + ".";
  core::Duration stay = core::Duration::Infinite();
  std::string field;
  if (c.leave.kind == LeaveSpec::Kind::kAt) {
    stay = std::max(core::Duration::Zero(), c.leave.at - EarliestJoin(c.arrival));
    field = at + "leave";
  } else if (c.leave.kind == LeaveSpec::Kind::kAfterComplete && !c.leave.seeding_time.exponential) {
    stay = c.leave.seeding_time.value;  // a seed completed at its join
    field = at + "leave";
  }
  if (c.failure.probability >= 1 && !c.failure.after.exponential && c.failure.after.value < stay) {
    stay = c.failure.after.value;
    field = at + "failure";
  }
  return {stay, field};
}

}  // namespace

std::optional<std::string> NobodyCanComplete(const Scenario& s) {
  bool any = false;
  for (const PeerClassSpec& c : s.peers) any |= IsSource(c);
  if (!any) {
    return "no class that can upload good data holds the file: every class that starts "
           "complete is a free rider (uploads nothing) or a polluter (corrupt_uploads), so no "
           "leecher can ever complete, and " + HowItEnds(s);
  }
  // Every piece must leave some seed at least once before the seeds are
  // gone: if all of them together cannot upload one copy of the file in
  // the time they stay, no leecher can ever complete.
  double budget = 0;  // bytes
  std::string fields;
  for (size_t i = 0; i < s.peers.size(); ++i) {
    const PeerClassSpec& c = s.peers[i];
    if (!IsSource(c)) continue;
    const auto [stay, field] = LongestStay(c, i);
    if (field.empty()) return std::nullopt;
    budget += c.count * c.upload.bytes_per_second() * stay.seconds();
    fields += (fields.empty() ? "" : ", ") + field + " (class '" + c.name + "': " +
              core::FormatDuration(stay) + ")";
  }
  if (budget >= static_cast<double>(s.file.size)) return std::nullopt;
  // Under 1 KiB exact (0B for a seed gone at once), else to a tenth.
  char sent[32];
  if (budget < 1024) {
    std::snprintf(sent, sizeof sent, "%s", core::FormatBytes(static_cast<core::Bytes>(budget)).c_str());
  } else if (budget < 1024.0 * 1024) {
    std::snprintf(sent, sizeof sent, "%.1fKiB", budget / 1024);
  } else {
    std::snprintf(sent, sizeof sent, "%.1fMiB", budget / (1024.0 * 1024));
  }
  char text[160];
  std::snprintf(text, sizeof text, "at most %s of the %s file", sent,
                core::FormatBytes(s.file.size).c_str());
  return "every seed that can upload good data is gone before it could upload one copy of "
         "the file: " + fields + "; at their upload rates they send " + text +
         ", so no leecher can ever complete, and " + HowItEnds(s);
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
