// LatencyModel: the one-way delay between two simulated peers.
//
// Built once from the scenario's network.latency: a constant; a uniform draw
// per pair of peers (the same pair always gets the same delay, whatever the
// order of connections); a per-class-pair matrix; or a topology of regions
// joined by links with delays, where the delay between two peers is the
// shortest path between their regions (Dijkstra with Boost.Graph, computed
// once per source region and cached) plus both peers' access delays.
//
// Thread-compatible; Between() is const after construction.
#ifndef SWARM_SIM_LATENCY_H_
#define SWARM_SIM_LATENCY_H_

#include <cstdint>
#include <vector>

#include "core/types.h"
#include "sim/scenario.h"

namespace swarm::sim {

class LatencyModel {
 public:
  // `peer_class[i]` is the index in scenario.peers of peer i's class.
  // REQUIRES: scenario.Validate() passed.
  LatencyModel(const Scenario& scenario, std::vector<uint32_t> peer_class);

  // One-way delay from a to b (symmetric).
  core::Duration Between(uint32_t a, uint32_t b) const;

 private:
  LatencySpec::Kind kind_;
  core::Duration constant_;
  core::Duration low_, high_;
  uint64_t seed_;
  std::vector<uint32_t> peer_class_;
  size_t classes_ = 0;
  // kMatrix and kTopology reduce to a class x class table.
  std::vector<core::Duration> class_delay_;
};

}  // namespace swarm::sim

#endif  // SWARM_SIM_LATENCY_H_
