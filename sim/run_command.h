// `sim run`: runs one scenario and writes its result folder (results.h),
// optionally with a trace of every protocol event and plots. Bad input is
// refused before anything is created; an interrupted run removes what it
// made (run_cleanup.h). Call from the main thread: it owns the stop signals
// while it runs.
#ifndef SWARM_SIM_RUN_COMMAND_H_
#define SWARM_SIM_RUN_COMMAND_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace swarm::sim {

// The flags of `sim run FILE`.
struct RunFlags {
  std::string file;               // the scenario
  std::vector<std::string> sets;  // --set K=V overrides, in order
  std::optional<uint64_t> seed;   // --seed: replaces the scenario's
  std::string out_dir;            // --out; empty: results/NAME-seedN
  bool quiet = false;             // --quiet: no progress line, no memory note
  bool plot = false;              // --plot: analysis/plot_run.py on the folder
  std::string trace_file;         // --trace; empty: none
  bool no_memory_check = false;   // --no-memory-check
};

// Returns sim's exit code: 0, kCommandFailed when a write or a plot failed
// (the results are written unless the write failed), kUserError for bad
// input (nothing run, nothing written). A stop signal meanwhile ends sim by
// that signal.
int RunCommand(const RunFlags& flags);

}  // namespace swarm::sim

#endif  // SWARM_SIM_RUN_COMMAND_H_
