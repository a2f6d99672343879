#include "sim/theory/units.h"

#include <cmath>

#include "core/check.h"

namespace swarm::sim::theory {

double TransferSeconds(core::Bytes amount, core::Rate rate) {
  const double bps = rate.bytes_per_second();
  SWARM_CHECK(amount >= 0);
  SWARM_CHECK(bps >= 0);  // Also false for NaN.
  if (amount == 0) return 0.0;
  if (bps == 0) return kNever;
  return static_cast<double>(amount) / bps;  // 0 when bps is +infinity.
}

double FilesPerSecond(core::Rate rate, core::Bytes file_size) {
  const double bps = rate.bytes_per_second();
  SWARM_CHECK(file_size > 0);
  SWARM_CHECK(bps >= 0);
  return bps / static_cast<double>(file_size);
}

std::optional<core::Duration> ToDuration(double seconds) {
  SWARM_CHECK(seconds >= 0);
  // Beyond Duration::Infinite() the value is not representable; treat it as
  // "never" rather than overflow.
  if (!(seconds < core::Duration::Infinite().seconds())) return std::nullopt;
  return core::Duration::SecondsF(seconds);
}

}  // namespace swarm::sim::theory
