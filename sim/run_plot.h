// `sim run --plot`: draws a finished result folder with analysis/plot_run.py
// (and, with a --trace, its piece map with plot_pieces.py), each script run
// as a child process under /usr/bin/python3. A stop signal meanwhile stops
// the script and ends sim by that signal (the results stay: they are
// complete). Call from the main thread (it waits for its children).
#ifndef SWARM_SIM_RUN_PLOT_H_
#define SWARM_SIM_RUN_PLOT_H_

#include <cstdint>
#include <string>

namespace swarm::sim {

// Plots `out_dir` (and `trace_file` of a run with `pieces` pieces, unless
// it is empty, into out_dir/pieces.png). Returns false, after saying why on
// stderr, when the plots were not all made.
bool PlotRunFolder(const std::string& out_dir, const std::string& trace_file, uint32_t pieces);

}  // namespace swarm::sim

#endif  // SWARM_SIM_RUN_PLOT_H_
