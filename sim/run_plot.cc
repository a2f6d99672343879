#include "sim/run_plot.h"

#include <filesystem>
#include <iostream>
#include <vector>

#include "sim/stop_signals.h"
#include "sim/sweep.h"

namespace swarm::sim {
namespace {

// After a stop signal stopped a --plot script: says so and ends sim by it.
void EndPlotBySignal(int sig, const std::string& out_dir) {
  std::cerr << "sim run: --plot stopped by " << StopSignalName(sig)
            << "; the results in " << out_dir << " are complete, the plots are not\n";
  EndBySignal(sig);
}

// Runs one plotting command; false (after saying why) when it failed. A
// stop signal meanwhile stops the script and ends sim by that signal.
bool RunPlotCommand(const std::vector<std::string>& argv, const std::string& out_dir) {
  const ChildOutcome c = RunStoppably(argv);
  if (c.stopped_by) EndPlotBySignal(c.stopped_by, out_dir);
  if (c.ok()) return true;
  std::cerr << "--plot: " << ShellCommand(argv[0], {argv.begin() + 1, argv.end()})
            << " failed\n";
  return false;
}

}  // namespace

std::optional<std::string> PlotScript(const std::string& name, const std::string& who) {
  namespace fs = std::filesystem;
  const std::string source = SWARMLAB_SOURCE_DIR;
  const std::string script = source + "/analysis/" + name;
  std::error_code ec;
  if (!fs::exists(script, ec)) {
    std::cerr << who << ": --plot: " << script << " not found: sim runs the plot scripts of "
              << "the source tree it was built from (" << source << "), which has moved or "
              << "lost analysis/; run analysis/" << name << " from a checkout instead\n";
    return std::nullopt;
  }
  const fs::path here = fs::path("analysis") / name;
  if (fs::exists(here, ec) && !fs::equivalent(here, script, ec)) {
    std::cerr << who << ": --plot runs " << script << " (of the tree sim was built from), not "
              << here.string() << " in this folder\n";
  }
  return script;
}

bool PlotRunFolder(const std::string& out_dir, const std::string& trace_file, uint32_t pieces) {
  const std::optional<std::string> script = PlotScript("plot_run.py", "sim run");
  if (!script) return false;
  const std::string analysis = std::string(SWARMLAB_SOURCE_DIR) + "/analysis/";
  const ChildOutcome has_matplotlib =
      RunStoppably({"/usr/bin/python3", "-c", "import matplotlib"}, true);
  if (has_matplotlib.stopped_by) EndPlotBySignal(has_matplotlib.stopped_by, out_dir);
  if (!has_matplotlib.ok()) {
    std::cerr << "--plot: matplotlib is missing; install it with "
                 "`sudo apt-get install python3-matplotlib`\n";
    return false;
  }
  // Run directly (no shell): any folder name reaches the script as it is.
  if (!RunPlotCommand({"/usr/bin/python3", *script, out_dir}, out_dir)) return false;
  if (trace_file.empty()) return true;
  return RunPlotCommand({"/usr/bin/python3", analysis + "plot_pieces.py", trace_file, "--pieces",
                         std::to_string(pieces), "--out", out_dir + "/pieces.png"},
                        out_dir);
}

}  // namespace swarm::sim
