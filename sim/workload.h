// Workload: who joins when, and the per-peer random draws of a scenario
// (seeding time after completion, whether and when a peer fails).
//
// Peers are numbered class by class in scenario order; peer i is PeerId(i)
// and owns Rng stream i of the run seed (for its core::Peer). The draws here
// use separate streams, three per class index and far above any peer index
// (arrivals and seeding times; whether a peer fails; when), so adding peers
// to a class, or a class after the others, never changes another class's
// draws (a class inserted before it shifts its index, and so its draws), and
// failures never change arrivals or seeding times. One more stream orders
// the peers that join at the same instant (JoinOrder).
#ifndef SWARM_SIM_WORKLOAD_H_
#define SWARM_SIM_WORKLOAD_H_

#include <cstdint>
#include <vector>

#include "core/types.h"
#include "sim/scenario.h"

namespace swarm::sim {

struct PeerPlan {
  uint32_t class_index = 0;
  core::Time join;
  // kAfterComplete: time spent seeding before leaving.
  core::Duration seeding_time = core::Duration::Infinite();
  // kAt: absolute time of a graceful leave.
  core::Time leave_at = core::Time::Never();
  // Time of a silent failure (no `stopped` announce), or Never.
  core::Time fail_at = core::Time::Never();
};

// REQUIRES: scenario.Validate() passed.
std::vector<PeerPlan> PlanWorkload(const Scenario& scenario);

// The order in which the engine schedules the joins of `plans`: by join
// time; at one instant the peers that start complete first, then the
// leechers, each group in a random order, a permutation drawn from a stream
// of the run seed of its own (so that runs without such ties are unchanged
// by it). Not in id order: the class written first in the file would
// announce first, get the seeds in its tracker replies while the tracker
// knows few peers, and fill the seeds' connection slots.
std::vector<uint32_t> JoinOrder(const Scenario& scenario, const std::vector<PeerPlan>& plans);

}  // namespace swarm::sim

#endif  // SWARM_SIM_WORKLOAD_H_
