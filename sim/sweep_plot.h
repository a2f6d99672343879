// --plot of `sim sweep` and `sim merge`: parsing "X:METRIC" and its
// --plot-* options, and drawing the table with analysis/plot_sweep.py, run
// as a child process under /usr/bin/python3. Call from the main thread (it
// waits for its child).
#ifndef SWARM_SIM_SWEEP_PLOT_H_
#define SWARM_SIM_SWEEP_PLOT_H_

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace CLI {
class App;
}

namespace swarm::sim {

struct SweepParam;

// What --plot draws.
struct PlotSpec {
  std::string x, metric;
  // Passed on to plot_sweep.py: --paired-to VALUE or --diff-to VALUE (when
  // set; never both), --ratio, --logx.
  std::optional<std::string> paired_to, diff_to;
  bool ratio = false, logx = false;
};

// "X:METRIC" -> PlotSpec, or a message. METRIC is a column of kSweepMetrics
// or kSweepWindowColumns, or a per-class column. X must be one of `params`
// (the varied fields) and the class of a per-class METRIC one of `classes`
// (those that download) unless `params` is null (merge: plot_sweep.py
// checks the columns).
std::variant<PlotSpec, std::string> ParsePlot(const std::string& text,
                                              const std::vector<SweepParam>* params,
                                              const std::vector<std::string>& classes = {});

// `p` with the --plot-* options of `app`.
PlotSpec WithPlotOptions(PlotSpec p, const CLI::App& app, const std::string& paired_to,
                         const std::string& diff_to, bool ratio, bool logx);

// The --plot-* options that go with --plot: a message if one is given
// without it, --plot-ratio without --plot-paired-to, or --plot-paired-to
// with --plot-diff-to.
std::optional<std::string> PlotOptionsProblem(const CLI::App& app, bool has_plot);

// Plots the table `csv` as `p` says; sim's exit code (1 after saying why
// when the plot was not made). A stop signal while the script runs stops
// it and ends sim by the signal.
int PlotSweepTable(const std::string& csv, const PlotSpec& p);

}  // namespace swarm::sim

#endif  // SWARM_SIM_SWEEP_PLOT_H_
