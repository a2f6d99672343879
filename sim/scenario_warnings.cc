#include "sim/scenario_warnings.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <optional>
#include <utility>

#include "core/units.h"
#include "sim/bounds.h"
#include "sim/latency.h"

namespace swarm::sim {

namespace {

// How such a run ends: with stop.all_complete the simulator stops once a
// piece is lost for good (docs/scenarios.md, "Stop conditions").
std::string HowItEnds(const Scenario& s) {
  if (s.stop.all_complete) {
    return "the run stops with `pieces_lost` once a piece has no holder left that can pass "
           "it on";
  }
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

namespace {

// A computed rate, to three significant digits in the largest bit unit in
// which it is at least 1 ("12.9Mbit/s"): for messages, not to be read back.
std::string ApproxRate(double bytes_per_second) {
  const double bits = bytes_per_second * 8;
  const char* unit = "bit/s";
  double v = bits;
  if (bits >= 1e9) {
    v = bits / 1e9;
    unit = "Gbit/s";
  } else if (bits >= 1e6) {
    v = bits / 1e6;
    unit = "Mbit/s";
  } else if (bits >= 1e3) {
    v = bits / 1e3;
    unit = "kbit/s";
  }
  char text[64];
  std::snprintf(text, sizeof text, "%.3g%s", v, unit);
  return text;
}

}  // namespace

std::vector<std::string> PipelineWarnings(const Scenario& s) {
  std::vector<std::string> out;
  const size_t n = s.peers.size();
  // The largest one-way delay between a peer of class a and one of class
  // b. A matrix or a topology is a class table: a model with one peer per
  // class reads it.
  const LatencySpec& l = s.network.latency;
  std::optional<LatencyModel> table;
  if (l.kind == LatencySpec::Kind::kMatrix ||
      l.kind == LatencySpec::Kind::kTopology) {
    std::vector<uint32_t> one_each(n);
    std::iota(one_each.begin(), one_each.end(), 0u);
    table.emplace(s, std::move(one_each));
  }
  auto largest_delay = [&](size_t a, size_t b) {
    switch (l.kind) {
      case LatencySpec::Kind::kConstant:
        return l.constant;
      case LatencySpec::Kind::kUniform:
        return l.high;
      case LatencySpec::Kind::kMatrix:
      case LatencySpec::Kind::kTopology:
        break;
    }
    return table->Between(static_cast<uint32_t>(a), static_cast<uint32_t>(b));
  };
  const double block = static_cast<double>(s.file.block_size);
  // Whether a peer of class a may connect to one of class b: a peer does
  // not connect to itself, and two that both refuse connections never meet.
  auto meet = [&](size_t a, size_t b) {
    if (a == b && s.peers[a].count < 2) return false;
    return s.peers[a].connectable || s.peers[b].connectable;
  };
  auto downloads = [&](const PeerClassSpec& c) {
    return c.count > 0 && !c.start_complete &&
           c.download.bytes_per_second() > 0;
  };
  for (size_t u = 0; u < n; ++u) {
    const PeerClassSpec& up = s.peers[u];
    // A free rider uploads nothing; a class at 0bit/s delivers no block.
    if (up.count == 0 || up.free_rider || !(up.upload.bytes_per_second() > 0))
      continue;
    const core::PeerConfig up_config = s.PeerConfigFor(up);
    // It serves at most unchoke_slots neighbours at once, and no more than
    // there are peers that download from it.
    uint64_t others = 0;
    for (size_t d = 0; d < n; ++d) {
      if (downloads(s.peers[d]) && meet(u, d))
        others += s.peers[d].count - (u == d ? 1 : 0);
    }
    const uint64_t served = std::min<uint64_t>(up_config.unchoke_slots, others);
    for (size_t d = 0; d < n; ++d) {
      const PeerClassSpec& down = s.peers[d];
      if (!downloads(down) || !meet(u, d)) continue;
      const core::PeerConfig down_config = s.PeerConfigFor(down);
      // The most requests `down` may keep at `up` at once: its pipeline, or
      // with request_queue_time up to half its own max_queued_requests.
      // More than `up` allows is abuse to `up`, which disconnects it.
      const uint64_t deepest =
          down_config.request_queue_time > core::Duration::Zero()
              ? std::max<uint64_t>(down_config.request_pipeline,
                                   std::min<uint64_t>(down_config.max_queued_requests / 2,
                                                      UINT16_MAX))
              : down_config.request_pipeline;
      if (deepest > up_config.max_queued_requests) {
        out.push_back("classes '" + up.name + "' -> '" + down.name + "': '" + down.name +
                      "' may keep up to " + std::to_string(deepest) +
                      " requests in flight at a neighbour, more than the " +
                      std::to_string(up_config.max_queued_requests) + " that '" + up.name +
                      "' queues (its max_queued_requests), so '" + up.name +
                      "' disconnects it (too_many_requests); give both classes the same "
                      "max_queued_requests, or lower '" + down.name + "''s " +
                      (down_config.request_queue_time > core::Duration::Zero()
                           ? "max_queued_requests (the adaptive pipeline keeps up to half "
                             "of it)"
                           : "request_pipeline"));
      }
      const double rate =
          std::min(up.upload.bytes_per_second() / static_cast<double>(served),
                   down.download.bytes_per_second());
      const core::Duration one_way = largest_delay(u, d);
      const double round_trip_s = 2 * one_way.seconds();
      // An adaptive pipeline (request_queue_time) at the full rate holds
      // what that rate delivers in its time, within its bounds.
      double pipeline = down_config.request_pipeline;
      if (down_config.request_queue_time > core::Duration::Zero()) {
        pipeline = std::clamp(
            std::floor(rate * down_config.request_queue_time.seconds() / block),
            pipeline, static_cast<double>(deepest));
      }
      if (!(pipeline * block < rate * round_trip_s + block)) continue;
      const double cap = pipeline * block / (round_trip_s + block / rate);
      // The smallest pipeline with pipeline x block >= rate x round trip +
      // block.
      const double need = std::ceil(rate * round_trip_s / block) + 1;
      const std::string where = down.protocol
                                    ? "peers." + std::to_string(d) + ".protocol"
                                    : "protocol";
      std::string advice = "set " + where + ".request_pipeline to at least " +
                           std::to_string(static_cast<uint64_t>(need));
      if (need > up_config.max_queued_requests) {
        advice += " (and max_queued_requests of class '" + up.name +
                  "' as high: more queued requests than it allows is abuse), "
                  "or use larger blocks (file.block_size)";
      }
      std::vector<char> text(1024 + up.name.size() + down.name.size() +
                             advice.size());
      std::snprintf(
          text.data(), text.size(),
          "classes '%s' -> '%s': a connection may carry %s (upload %s over %u "
          "at once, download %s), but %u requests of %s in flight over a "
          "round trip of up to %s carry at most %s, %.3g %% of it "
          "(request_pipeline x block_size / (round trip + block_size / rate)); "
          "%s (docs/scenarios.md, \"Fast links\")",
          up.name.c_str(), down.name.c_str(), ApproxRate(rate).c_str(),
          ApproxRate(up.upload.bytes_per_second()).c_str(), static_cast<unsigned>(served),
          ApproxRate(down.download.bytes_per_second()).c_str(),
          static_cast<unsigned>(pipeline),
          core::FormatBytes(s.file.block_size).c_str(),
          core::FormatDuration(one_way * 2).c_str(), ApproxRate(cap).c_str(),
          100 * cap / rate, advice.c_str());
      out.push_back(text.data());
    }
  }
  return out;
}

std::optional<std::string> SlowPiecePicking(const Scenario& s) {
  bool scans = false;
  for (const PeerClassSpec& c : s.peers) {
    if (c.count > 0 && !c.start_complete &&
        s.PeerConfigFor(c).piece_selection != core::PieceSelection::kSequential)
      scans = true;
  }
  const uint64_t pieces = s.PieceCount();
  const uint64_t blocks_per_piece =
      static_cast<uint64_t>(s.file.piece_size / s.file.block_size);
  const uint64_t most = kPiecesPerBlockWherePickingDominates * blocks_per_piece;
  if (!scans || pieces <= most) return std::nullopt;
  return "file: " + std::to_string(pieces) + " pieces of " +
         std::to_string(blocks_per_piece) +
         (blocks_per_piece == 1 ? " block" : " blocks") + " (" +
         core::FormatBytes(s.file.piece_size) +
         "): choosing a new piece scans every piece, so each leecher's "
         "picking costs CPU time growing with the square of the piece count, "
         "and above " +
         std::to_string(most) + " pieces (" +
         std::to_string(kPiecesPerBlockWherePickingDominates) +
         " per block of a piece) it is a quarter or more of the run's CPU, "
         "growing with the piece count; larger pieces (file.piece_size) make "
         "it small (docs/performance.md, \"Many pieces\")";
}

std::vector<std::string> ScenarioWarnings(const Scenario& s) {
  std::vector<std::string> out;
  if (auto w = NobodyCanComplete(s)) out.push_back(*w);
  for (std::string& w : CoarseClockWarnings(s)) out.push_back(std::move(w));
  for (std::string& w : PipelineWarnings(s)) out.push_back(std::move(w));
  if (auto w = SlowPiecePicking(s)) out.push_back(*w);
  if (auto w = StopsBeforeBound(s)) out.push_back(*w);
  return out;
}

}  // namespace swarm::sim
