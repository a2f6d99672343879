#include "sim/bounds.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace swarm::sim {

SimpleBounds ComputeSimpleBounds(const Scenario& s) {
  SimpleBounds b;
  b.file_bits = static_cast<double>(s.file.size) * 8;
  b.min_download_bps = std::numeric_limits<double>::infinity();
  bool equal_uploads = true;
  double first_upload = -1;
  for (const PeerClassSpec& c : s.peers) {
    double u = c.free_rider ? 0 : c.upload.bits_per_second();
    if (first_upload < 0) first_upload = u;
    equal_uploads &= u == first_upload;
    if (c.start_complete) {
      b.seed_upload_bps += u * c.count;
    } else {
      b.leechers += c.count;
      b.leecher_upload_bps += u * c.count;
      b.min_download_bps = std::min(b.min_download_bps, c.download.bits_per_second());
    }
  }
  if (b.leechers == 0) return b;
  double f = b.file_bits;
  b.kumar_ross_s = std::max({f / b.seed_upload_bps, f / b.min_download_bps,
                             b.leechers * f / (b.seed_upload_bps + b.leecher_upload_bps)});
  if (equal_uploads && first_upload > 0) {
    double m = s.PieceCount();
    double log2n = std::floor(std::log2(static_cast<double>(b.leechers)));
    b.piece_granular_s = f / first_upload * (1 + log2n / m);
  }
  return b;
}

}  // namespace swarm::sim
