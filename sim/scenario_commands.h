// `sim check` and `sim bounds`: the subcommands that read a scenario and
// print about it without running it. Each returns sim's exit code: 0, or
// kUserError (cli_common.h) when the scenario does not load.
#ifndef SWARM_SIM_SCENARIO_COMMANDS_H_
#define SWARM_SIM_SCENARIO_COMMANDS_H_

#include <string>
#include <vector>

namespace swarm::sim {

// `sim check FILE [--set K=V]...`: "FILE: ok (...)" on stdout with the
// peers, pieces and estimated memory; on stderr a warning when that memory
// exceeds the machine's, and the scenario's warnings (as `sim run` prints).
int CheckCommand(const std::string& file, const std::vector<std::string>& sets);

// `sim bounds FILE [--set K=V]...`: the scenario's theory numbers on
// stdout: the simple bounds, Kumar-Ross, the piece-granular bound where it
// applies, and the Qiu-Srikant steady state per class where it applies.
int BoundsCommand(const std::string& file, const std::vector<std::string>& sets);

}  // namespace swarm::sim

#endif  // SWARM_SIM_SCENARIO_COMMANDS_H_
