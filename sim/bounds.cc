#include "sim/bounds.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "core/units.h"
#include "sim/theory/theory.h"

namespace swarm::sim {

theory::DistributionProblem ToDistributionProblem(const Scenario& s) {
  theory::DistributionProblem p;
  p.file_size = s.file.size;
  p.piece_length = s.file.piece_size;
  for (const PeerClassSpec& c : s.peers) {
    // A free-rider's capacity exists but is never offered; a polluter's
    // uploads are all discarded.
    core::Rate up = c.free_rider || c.corrupt_uploads ? core::Rate::Zero() : c.upload;
    for (uint32_t k = 0; k < c.count; ++k) {
      if (c.start_complete) {
        p.seed_uploads.push_back(up);
      } else {
        p.leechers.push_back(theory::LeecherCapacity{up, c.download});
      }
    }
  }
  return p;
}

SimpleBounds ComputeSimpleBounds(const Scenario& s) {
  SimpleBounds b;
  b.file_bits = static_cast<double>(s.file.size) * 8;
  b.min_download_bps = std::numeric_limits<double>::infinity();
  for (const PeerClassSpec& c : s.peers) {
    if (c.count == 0) continue;  // switched off: not even its download rate counts
    double u = c.free_rider || c.corrupt_uploads ? 0 : c.upload.bits_per_second();
    if (c.start_complete) {
      b.seed_upload_bps += u * c.count;
    } else {
      b.leechers += c.count;
      b.leecher_upload_bps += u * c.count;
      b.min_download_bps = std::min(b.min_download_bps, c.download.bits_per_second());
      b.max_download_bps = std::max(b.max_download_bps, c.download.bits_per_second());
    }
  }
  if (b.leechers == 0) return b;
  theory::SwarmBounds t = theory::ComputeSwarmBounds(ToDistributionProblem(s));
  b.kumar_ross_s = t.kumar_ross_s;
  b.piece_granular_s = t.piece_granular_s;
  // Its doubling argument has one sender per piece; a peer that downloads
  // faster than the (equal) upload can gather a piece from several at once
  // and finish earlier (docs/theory.md, section 2).
  b.piece_granular_is_bound =
      b.piece_granular_s && b.max_download_bps <= b.seed_upload_bps * (1 + 1e-9);
  return b;
}

namespace {

// The earliest a peer of a class can arrive (the start of its window or
// process; the first Poisson or decaying arrival comes after it).
core::Duration EarliestArrival(const ArrivalSpec& a) {
  return a.kind == ArrivalSpec::Kind::kUniform ? a.from : a.at;
}

}  // namespace

// The largest lower bound on the last completion over thresholds t, the
// earliest arrivals of the leecher classes: the leechers that cannot arrive
// before t (S_t) receive nothing before it, and after it need at least the
// Kumar-Ross time (and the piece-granular one where it applies) of the
// problem in which they are the leechers and every other peer, seeds and
// earlier leechers alike, is already a seed -- an optimistic start, so the
// sum is a lower bound. The smallest t puts every leecher in S_t: the
// scenario's own bounds, counted from the first possible arrival.
std::optional<std::string> StopsBeforeBound(const Scenario& s) {
  if (!s.stop.all_complete) return std::nullopt;
  for (const PeerClassSpec& c : s.peers) {
    if (c.failure.probability > 0 && c.count > 0) return std::nullopt;
  }
  const SimpleBounds b = ComputeSimpleBounds(s);
  if (b.leechers == 0 || !std::isfinite(b.kumar_ross_s)) return std::nullopt;
  std::vector<core::Duration> starts;
  for (const PeerClassSpec& c : s.peers) {
    if (!c.start_complete && c.count > 0) starts.push_back(EarliestArrival(c.arrival));
  }
  std::sort(starts.begin(), starts.end());
  starts.erase(std::unique(starts.begin(), starts.end()), starts.end());
  struct Worst {
    double total_s = -1;
    core::Duration from;
    double bound_s = 0;
    bool piece_granular = false;
    bool every_leecher = true;
    std::string classes;  // 'a', 'b': the leecher classes of S_t
  } worst;
  for (const core::Duration t : starts) {
    theory::DistributionProblem p;
    p.file_size = s.file.size;
    p.piece_length = s.file.piece_size;
    bool every_leecher = true;
    std::string classes;
    int named = 0;
    for (const PeerClassSpec& c : s.peers) {
      const core::Rate up = c.free_rider || c.corrupt_uploads ? core::Rate::Zero() : c.upload;
      const bool later = !c.start_complete && EarliestArrival(c.arrival) >= t;
      every_leecher &= c.start_complete || c.count == 0 || later;
      if (later && c.count > 0) {
        classes += (named++ ? ", '" : "'") + c.name + "'";
      }
      for (uint32_t k = 0; k < c.count; ++k) {
        if (later) {
          p.leechers.push_back(theory::LeecherCapacity{up, c.download});
        } else {
          p.seed_uploads.push_back(up);
        }
      }
    }
    double bound = theory::KumarRossMinTime(p);
    bool piece_granular = false;
    if (auto g = theory::PieceGranularBoundIfApplies(p); g && *g > bound) {
      bound = *g;
      piece_granular = true;
    }
    if (!std::isfinite(bound)) continue;
    const double total = t.seconds() + bound;
    if (total > worst.total_s) {
      worst = {total, t, bound, piece_granular, every_leecher,
               (named > 1 ? "classes " : "class ") + classes};
    }
  }
  const double stop_s = s.stop.max_time.seconds();
  if (worst.total_s <= stop_s) return std::nullopt;
  const char* name = worst.piece_granular ? "piece-granular" : "Kumar-Ross";
  char text[200];
  if (worst.from == core::Duration::Zero()) {
    std::snprintf(text, sizeof text,
                  "stop.max_time (%s) is shorter than the %s bound (%.1f s): "
                  "the run will stop before every leecher completes",
                  core::FormatDuration(s.stop.max_time).c_str(), name, worst.bound_s);
    return std::string(text);
  }
  // Counted from the arrival: e.g. "no leecher of class 'b' arrives
  // before 100s, and the Kumar-Ross bound from there is ...".
  std::snprintf(text, sizeof text, "stop.max_time (%s) is shorter than %.1f s: ",
                core::FormatDuration(s.stop.max_time).c_str(), worst.total_s);
  std::string out = text;
  out += "no leecher of " + worst.classes + " arrives before " +
         core::FormatDuration(worst.from) + ", and the " + name + " bound from there";
  if (!worst.every_leecher) out += ", with every earlier peer counted as a seed,";
  std::snprintf(text, sizeof text, " is %.1f s", worst.bound_s);
  out += text;
  out += ": the run will stop before every leecher completes";
  return out;
}

namespace {

bool IsPermanentSeed(const PeerClassSpec& c) {
  return c.start_complete && c.leave.kind == LeaveSpec::Kind::kNever &&
         c.failure.probability == 0;
}

// Seeds arriving as a Poisson process download nothing: not a fluid class.
bool IsFluidClass(const PeerClassSpec& c) {
  return !c.start_complete && c.arrival.kind == ArrivalSpec::Kind::kPoisson &&
         c.leave.kind == LeaveSpec::Kind::kAfterComplete;
}

}  // namespace

std::vector<ClassFluid> ComputeFluid(const Scenario& s) {
  // What a peer offers: a free-rider's capacity is never used and a
  // polluter's uploads are all thrown away.
  auto offered = [](const PeerClassSpec& c) {
    return c.free_rider || c.corrupt_uploads ? core::Rate::Zero() : c.upload;
  };
  double permanent_bps = 0;
  uint32_t permanent = 0;
  for (const PeerClassSpec& c : s.peers) {
    if (!IsPermanentSeed(c)) continue;
    permanent_bps += offered(c).bytes_per_second() * c.count;
    permanent += c.count;
  }
  std::vector<ClassFluid> out;
  for (uint32_t i = 0; i < s.peers.size(); ++i) {
    const PeerClassSpec& c = s.peers[i];
    if (!IsFluidClass(c) || c.count == 0) continue;
    ClassFluid f;
    f.class_index = i;
    f.permanent_seeds = permanent;
    if (c.failure.probability > 0) {
      f.skipped = "its peers may fail, which the model leaves out";
    } else {
      auto p = theory::FluidParams::FromSwarm(
          c.arrival.rate_per_s, s.file.size, offered(c), c.download, c.leave.seeding_time.value,
          0, 1.0, core::Rate::BytesPerSecond(permanent_bps));
      f.state = theory::FluidSteadyStateOf(p);
    }
    out.push_back(f);
  }
  return out;
}

std::optional<ClassFluid> SwarmFluidSteadyState(const Scenario& s) {
  std::vector<ClassFluid> fluid = ComputeFluid(s);
  if (fluid.size() != 1 || !fluid.front().skipped.empty()) return std::nullopt;
  for (const PeerClassSpec& c : s.peers) {
    if (c.count == 0) continue;  // a class switched off changes nothing
    if (c.free_rider || c.corrupt_uploads || c.failure.probability > 0) return std::nullopt;
    if (!IsPermanentSeed(c) && !IsFluidClass(c)) return std::nullopt;
  }
  return fluid.front();
}

}  // namespace swarm::sim
