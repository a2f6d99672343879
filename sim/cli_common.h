// What the `sim` subcommands share: their exit codes, loading the
// scenario a subcommand works on, reporting a problem, and the program
// name that starts the commands they print. For the CLI only (it prints).
#ifndef SWARM_SIM_CLI_COMMON_H_
#define SWARM_SIM_CLI_COMMON_H_

#include <optional>
#include <string>
#include <vector>

#include "sim/scenario.h"

namespace swarm::sim {

// A run that went wrong after its input was accepted (a write failed, a
// run of a sweep failed or is missing).
constexpr int kCommandFailed = 1;
// Bad input (a scenario problem, a bad flag): nothing run, nothing written.
constexpr int kUserError = 2;

// The scenario in `file` with the `sets` overrides applied ("K=V" each), or
// nullopt after printing its one "FILE:LINE: field 'x': problem" line on
// stderr.
std::optional<Scenario> LoadOrReport(const std::string& file,
                                     const std::vector<std::string>& sets);

// True, after printing it on stderr, when there is a problem.
bool Reported(const std::optional<std::string>& problem);

// What starts the commands sim prints (jobs.txt, --emit-jobs, `redo:`):
// `sim` when sim was found on PATH (argv0 has no '/'), else argv0 as typed.
std::string DisplayProgram(const std::string& argv0);

}  // namespace swarm::sim

#endif  // SWARM_SIM_CLI_COMMON_H_
