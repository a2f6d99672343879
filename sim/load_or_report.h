// The scenario a `sim` subcommand works on, and the exit codes `sim run`,
// `sim check` and `sim bounds` share. For the CLI only (it prints).
#ifndef SWARM_SIM_LOAD_OR_REPORT_H_
#define SWARM_SIM_LOAD_OR_REPORT_H_

#include <optional>
#include <string>
#include <vector>

#include "sim/scenario.h"

namespace swarm::sim {

// A run that went wrong after its input was accepted (a write failed).
constexpr int kCommandFailed = 1;
// Bad input (a scenario problem, a bad flag): nothing run, nothing written.
constexpr int kUserError = 2;

// The scenario in `file` with the `sets` overrides applied ("K=V" each), or
// nullopt after printing its one "FILE:LINE: field 'x': problem" line on
// stderr.
std::optional<Scenario> LoadOrReport(const std::string& file,
                                     const std::vector<std::string>& sets);

}  // namespace swarm::sim

#endif  // SWARM_SIM_LOAD_OR_REPORT_H_
