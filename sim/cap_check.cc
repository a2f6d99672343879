#include "sim/cap_check.h"

#include <algorithm>
#include <limits>

#include "core/message.h"

namespace swarm::sim {

bool OverCap(double bytes_per_second, core::Rate cap) {
  const double c = cap.bytes_per_second();
  return bytes_per_second > c * (1 + 1e-9) + 1e-6;
}

double CapShare(double bytes_per_second, core::Rate cap) {
  if (bytes_per_second <= 0) return 0;
  const double c = cap.bytes_per_second();
  return c > 0 ? bytes_per_second / c : std::numeric_limits<double>::infinity();
}

double MinWireBytes(core::Bytes payload, core::Bytes block_size) {
  if (payload <= 0) return 0;
  const core::Bytes header = core::WireSize(core::Piece{core::BlockRef{}});
  const core::Bytes blocks = (payload + block_size - 1) / block_size;
  return static_cast<double>(payload) + static_cast<double>(header * blocks);
}

CapVolumeCheck CheckCapVolumes(const Scenario& s, const RunResult& r) {
  CapVolumeCheck out;
  for (const PeerRecord& p : r.peers) {
    if (!p.join) continue;
    const core::Time until = p.leave ? *p.leave : r.stats.end_time;
    const double stay = std::max(0.0, (until - *p.join).seconds());
    const PeerClassSpec& c = s.peers[p.class_index];
    for (const auto& [payload, cap] : {std::pair{p.uploaded, c.upload},
                                       std::pair{p.downloaded, c.download}}) {
      const double wire = MinWireBytes(payload, s.file.block_size);
      if (wire <= 0) continue;
      // The mean rate over the stay against the capacity, with the same
      // slack as an instant's rate; bytes in no time at all break the cap.
      const double mean = stay > 0 ? wire / stay : std::numeric_limits<double>::infinity();
      if (OverCap(mean, cap)) ++out.violations;
      out.worst_share = std::max(out.worst_share, CapShare(mean, cap));
    }
  }
  return out;
}

}  // namespace swarm::sim
