// Warnings about a valid scenario that will not measure what its author
// likely means: `sim check` and `sim run` print them on stderr, and the run
// still goes ahead.
#ifndef SWARM_SIM_SCENARIO_WARNINGS_H_
#define SWARM_SIM_SCENARIO_WARNINGS_H_

#include <optional>
#include <string>
#include <vector>

#include "sim/scenario.h"

namespace swarm::sim {

// Blocks shorter than this (at a class's upload or download rate) are
// warned about. The flow model carries a block's microsecond rounding over
// to the next block on the same connection (FlowNetwork::Restart), but a
// block with no successor waiting still ends on the next whole microsecond,
// which costs up to 1 us, 0.5 % of a 200 us block.
inline constexpr double kShortestQuietBlockUs = 200;

// A warning when no class with peers that starts complete can upload good
// data (every seed class is a free rider or a polluter), or when all such
// seed classes surely leave or fail (leave.at, a fixed after_complete, a
// failure of probability 1 after a fixed delay) before they could upload,
// between them and at their upload rates, one copy of the file; the
// warning names those fields. Either way no leecher can ever complete, and
// the run stops with pieces_lost (stop.all_complete) or lasts
// stop.max_time. In the first case the Kumar-Ross bound is infinite, so
// StopsBeforeBound says nothing. nullopt otherwise.
// REQUIRES: scenario.Validate() passed.
std::optional<std::string> NobodyCanComplete(const Scenario& scenario);

// One warning per class rate (upload of a class that uploads, download of
// a leecher class) at which a block lasts under kShortestQuietBlockUs,
// naming the class, the rate, the block size and how much longer the
// transfers may take than the rate says. Empty when there is none.
// REQUIRES: scenario.Validate() passed.
std::vector<std::string> CoarseClockWarnings(const Scenario& scenario);

// Every warning above, and StopsBeforeBound's, in that order.
// REQUIRES: scenario.Validate() passed.
std::vector<std::string> ScenarioWarnings(const Scenario& scenario);

}  // namespace swarm::sim

#endif  // SWARM_SIM_SCENARIO_WARNINGS_H_
