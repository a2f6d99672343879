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

// One warning per pair of classes (the uploading class, then the
// downloading one) whose connections the request pipeline holds below the
// rate one connection may get, min(uploader's upload / unchoke_slots,
// downloader's download). A downloader keeps request_pipeline requests of
// one block in flight per connection, and a request waits a round trip
// plus the block's own time on the wire before it is answered, so a
// connection carries at most
//   request_pipeline x block_size / (round trip + block_size / rate),
// under that rate exactly when
//   request_pipeline x block_size < rate x round trip + block_size.
// The round trip is twice the largest one-way delay between the two
// classes (network.latency). With request_queue_time on, request_pipeline
// there is what the adaptive depth reaches at that rate (within
// [request_pipeline, max_queued_requests]). Names the rate, the cap, and
// the smallest request_pipeline that lifts it. Two classes that both refuse connections
// never meet and are skipped. Empty when there is none.
// REQUIRES: scenario.Validate() passed.
std::vector<std::string> PipelineWarnings(const Scenario& scenario);

// Choosing a new piece (PiecePicker::ChooseNewPiece) scans every piece of
// the file, so a leecher's picking costs CPU time that grows with the
// square of the piece count, while the rest of its work grows with the
// blocks. Past this many pieces per block of a piece, picking took a
// quarter of a run's CPU or more (docs/performance.md, "Many pieces": 42 %
// at 10,000 pieces of one block, 73 % at 40,000; 27 % at 40,000 pieces of
// 4 blocks; 15 % at 40,000 pieces of 16 blocks, where the bound is
// 160,000).
inline constexpr uint64_t kPiecesPerBlockWherePickingDominates = 10'000;

// A warning when the file has more than
// kPiecesPerBlockWherePickingDominates x (blocks per piece) pieces and some
// leecher class picks with rarest_first or random (sequential stops at the
// first piece it may take). nullopt otherwise.
// REQUIRES: scenario.Validate() passed.
std::optional<std::string> SlowPiecePicking(const Scenario& scenario);

// Every warning above, and StopsBeforeBound's, in that order.
// REQUIRES: scenario.Validate() passed.
std::vector<std::string> ScenarioWarnings(const Scenario& scenario);

}  // namespace swarm::sim

#endif  // SWARM_SIM_SCENARIO_WARNINGS_H_
