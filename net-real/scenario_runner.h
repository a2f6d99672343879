// Runs a simulator scenario (sim/scenario.h) on real sockets: the same
// workload plan (who joins when, how long each seeds) becomes a
// LoopbackSwarm, each class's upload/download capacities become token
// buckets and the latency model becomes an added one-way delay per peer;
// the result is converted into the simulator's RunResult so the same result
// folder (peers.csv, timeline.csv, summary.json, scenario.yaml) is written.
//
// What cannot be honoured is refused with a reason (more than 64 peers,
// files over 1 GiB, a run whose Kumar-Ross bound exceeds the wall-clock
// budget) or approximated with a note (silent failures are not injected).
// Latency is reproduced pair by pair, with the simulator's own draws.
#ifndef SWARM_NET_SCENARIO_RUNNER_H_
#define SWARM_NET_SCENARIO_RUNNER_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "sim/results.h"
#include "sim/scenario.h"

namespace swarm::net {

struct RealRunOptions {
  // The wall-clock budget: scenarios whose lower bound on completion
  // exceeds it are refused, and a run still going when it runs out is
  // stopped there (as at stop.max_time, with a note).
  double max_wall_s = 1800;
  // Polled during the run; true stops it (RunScenarioOnLoopback then fails
  // with "interrupted").
  std::function<bool()> interrupted;
};

// Why `s` cannot run on real sockets on this machine, naming the scenario
// field (or the wall-clock budget); nullopt if it can.
std::optional<std::string> RealRunRefusal(const sim::Scenario& s, const RealRunOptions& options);

// Notes about approximations go to *notes; a refusal (RealRunRefusal) or a
// setup failure to *error.
std::optional<sim::RunResult> RunScenarioOnLoopback(const sim::Scenario& s,
                                                    const RealRunOptions& options,
                                                    std::vector<std::string>* notes,
                                                    std::string* error);

}  // namespace swarm::net

#endif  // SWARM_NET_SCENARIO_RUNNER_H_
