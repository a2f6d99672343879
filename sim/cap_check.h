// Rate caps against the scenario: VALIDATION.md's hard bound 2 (each peer's
// upload <= its upload capacity, its download <= its download capacity),
// checked with the capacities the scenario gives each peer's class.
//
// FlowNetwork checks every link's load against the capacity stored in the
// link (FlowNetwork::CheckCapsOfLastRegion). That check cannot see a network
// set up with the wrong capacities: with every link 10 % faster than the
// scenario says it finds nothing. The functions here take the capacity from
// the scenario instead (a class's `upload` and `download` hold for the whole
// run: no scenario field changes them over time):
//  - OverCap: one host's summed rate at one instant against its capacity,
//    with the float slack FlowNetwork's own check allows. The engine calls it
//    in checked runs (SimOptions::check_invariants) after every
//    reallocation and at every timeline sample.
//  - CheckCapVolumes: over each peer's stay, the bytes it sent and received
//    against capacity x stay, from the run's results alone (join, leave and
//    byte counts), so it holds whatever the network model did in between.
//
// Both are pure functions; thread-safe.
#ifndef SWARM_SIM_CAP_CHECK_H_
#define SWARM_SIM_CAP_CHECK_H_

#include <cstdint>

#include "core/types.h"
#include "sim/results.h"
#include "sim/scenario.h"

namespace swarm::sim {

// Whether `bytes_per_second` exceeds `cap` by more than float slack
// (relative 1e-9 plus 1e-6 B/s, as FlowNetwork::CheckCaps).
bool OverCap(double bytes_per_second, core::Rate cap);

// The ratio `bytes_per_second / cap` for a worst-case report; 0 for a zero
// rate, +infinity for a positive rate over a zero capacity.
double CapShare(double bytes_per_second, core::Rate cap);

// Wire bytes of at least `payload` bytes of blocks of at most `block_size`
// bytes: each block travels with its Piece header (core::WireSize), and
// there are at least ceil(payload / block_size) of them.
double MinWireBytes(core::Bytes payload, core::Bytes block_size);

struct CapVolumeCheck {
  // Peer-directions (upload or download of one peer) whose wire bytes over
  // the peer's stay exceed its class's capacity x the stay.
  uint64_t violations = 0;
  // The highest wire bytes / (capacity x stay) over peers and directions
  // that moved any bytes (1 = the link was busy the whole stay).
  double worst_share = 0;
};

// Every peer that joined, from its join to its leave (or the end of the
// run): MinWireBytes of `uploaded` against `upload` x stay, and of
// `downloaded` against `download` x stay. Bytes count when their transfer
// finished (uploaded) or arrived (downloaded); both happen within the stay
// and after the bytes crossed the link, so a model that keeps to the
// capacities can never exceed these.
CapVolumeCheck CheckCapVolumes(const Scenario& s, const RunResult& r);

}  // namespace swarm::sim

#endif  // SWARM_SIM_CAP_CHECK_H_
