// `sim run --plot`: draws a finished result folder with analysis/plot_run.py
// (and, with a --trace, its piece map with plot_pieces.py), each script run
// as a child process under /usr/bin/python3. A stop signal meanwhile stops
// the script and ends sim by that signal (the results stay: they are
// complete). Call from the main thread (it waits for its children).
#ifndef SWARM_SIM_RUN_PLOT_H_
#define SWARM_SIM_RUN_PLOT_H_

#include <cstdint>
#include <optional>
#include <string>

namespace swarm::sim {

// The path of analysis/NAME in the source tree sim was built from (the
// scripts that match its result files), or nullopt after saying on stderr
// that it is missing and why. `who` starts the messages ("sim run"). When
// the working folder holds an analysis/NAME of its own (another checkout),
// says on stderr which of the two --plot runs.
std::optional<std::string> PlotScript(const std::string& name, const std::string& who);

// Plots `out_dir` (and `trace_file` of a run with `pieces` pieces, unless
// it is empty, into out_dir/pieces.png). Returns false, after saying why on
// stderr, when the plots were not all made.
bool PlotRunFolder(const std::string& out_dir, const std::string& trace_file, uint32_t pieces);

}  // namespace swarm::sim

#endif  // SWARM_SIM_RUN_PLOT_H_
