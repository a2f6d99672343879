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
    }
  }
  if (b.leechers == 0) return b;
  theory::SwarmBounds t = theory::ComputeSwarmBounds(ToDistributionProblem(s));
  b.kumar_ross_s = t.kumar_ross_s;
  b.piece_granular_s = t.piece_granular_s;
  return b;
}

std::optional<std::string> StopsBeforeBound(const Scenario& s) {
  if (!s.stop.all_complete) return std::nullopt;
  for (const PeerClassSpec& c : s.peers) {
    if (c.failure.probability > 0 && c.count > 0) return std::nullopt;
  }
  const SimpleBounds b = ComputeSimpleBounds(s);
  const double stop_s = s.stop.max_time.seconds();
  if (b.leechers == 0 || !std::isfinite(b.kumar_ross_s) || b.kumar_ross_s <= stop_s) {
    return std::nullopt;
  }
  char text[200];
  std::snprintf(text, sizeof text,
                "stop.max_time (%s) is shorter than the Kumar-Ross bound (%.1f s): "
                "the run will stop before every leecher completes",
                core::FormatDuration(s.stop.max_time).c_str(), b.kumar_ross_s);
  return std::string(text);
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
