#include "sim/sweep_plot.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <iostream>

#include "sim/cli_common.h"
#include "sim/run_plot.h"
#include "sim/stop_signals.h"
#include "sim/sweep.h"

namespace swarm::sim {
namespace {

// Whether `metric` names a per-class column (CLASS_completed, ...); sets
// *klass to its class.
bool ClassMetric(const std::string& metric, std::string* klass) {
  for (const char* m : kSweepClassMetrics) {
    const std::string suffix = std::string("_") + m;
    if (metric.size() > suffix.size() &&
        metric.compare(metric.size() - suffix.size(), suffix.size(), suffix) == 0) {
      *klass = metric.substr(0, metric.size() - suffix.size());
      return true;
    }
  }
  return false;
}

}  // namespace

std::variant<PlotSpec, std::string> ParsePlot(const std::string& text,
                                              const std::vector<SweepParam>* params,
                                              const std::vector<std::string>& classes) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    return "--plot '" + text + "': expected X:METRIC, e.g. protocol.piece_selection:"
           "mean_completion_s";
  PlotSpec p;
  p.x = text.substr(0, colon);
  p.metric = text.substr(colon + 1);
  const auto* end = std::end(kSweepMetrics);
  const auto* window_end = std::end(kSweepWindowColumns);
  std::string klass;
  if (std::find(std::begin(kSweepMetrics), end, p.metric) == end &&
      std::find(std::begin(kSweepWindowColumns), window_end, p.metric) == window_end &&
      !ClassMetric(p.metric, &klass)) {
    std::string list;
    for (const char* m : kSweepMetrics) list += std::string(list.empty() ? "" : ", ") + m;
    for (const char* m : kSweepWindowColumns) list += std::string(", ") + m;
    for (const char* m : kSweepClassMetrics) list += std::string(", CLASS_") + m;
    return "--plot '" + text + "': unknown metric '" + p.metric + "' (one of " + list + ")";
  }
  if (params && !klass.empty() &&
      std::find(classes.begin(), classes.end(), klass) == classes.end()) {
    std::string list;
    for (const std::string& c : classes) list += (list.empty() ? "" : ", ") + c;
    return "--plot '" + text + "': no class '" + klass + "' downloads in this sweep (" +
           (list.empty() ? std::string("none does") : "per-class columns of: " + list) + ")";
  }
  bool varied = params == nullptr;
  for (size_t i = 0; params && i < params->size(); ++i) varied = varied || (*params)[i].key == p.x;
  if (!varied) return "--plot '" + text + "': " + p.x + " is not a --vary field";
  return p;
}

PlotSpec WithPlotOptions(PlotSpec p, const CLI::App& app, const std::string& paired_to,
                         const std::string& diff_to, bool ratio, bool logx) {
  if (app.count("--plot-paired-to") > 0) p.paired_to = paired_to;
  if (app.count("--plot-diff-to") > 0) p.diff_to = diff_to;
  p.ratio = ratio;
  p.logx = logx;
  return p;
}

std::optional<std::string> PlotOptionsProblem(const CLI::App& app, bool has_plot) {
  for (const char* name : {"--plot-paired-to", "--plot-diff-to", "--plot-ratio", "--plot-logx"}) {
    if (!has_plot && app.count(name) > 0)
      return std::string(name) + " needs --plot X:METRIC";
  }
  // As plot_sweep.py says: one pairs runs by seed, the other does not.
  if (app.count("--plot-paired-to") > 0 && app.count("--plot-diff-to") > 0)
    return "--plot-paired-to and --plot-diff-to: give one (--plot-paired-to pairs runs by "
           "seed, --plot-diff-to does not)";
  if (app.count("--plot-ratio") > 0 && app.count("--plot-paired-to") == 0)
    return "--plot-ratio needs --plot-paired-to VALUE";
  return std::nullopt;
}

int PlotSweepTable(const std::string& csv, const PlotSpec& p) {
  const std::optional<std::string> found = PlotScript("plot_sweep.py", "sim sweep");
  if (!found) return kCommandFailed;
  const std::string& script = *found;
  auto stopped = [&](int sig) {
    std::cerr << "sim: --plot stopped by " << StopSignalName(sig) << "; " << csv
              << " is complete, the plot is not\n";
    return EndBySignal(sig);
  };
  const ChildOutcome has_matplotlib =
      RunStoppably({"/usr/bin/python3", "-c", "import matplotlib"}, true);
  if (has_matplotlib.stopped_by) return stopped(has_matplotlib.stopped_by);
  if (!has_matplotlib.ok()) {
    std::cerr << "--plot: matplotlib is missing; install it with "
                 "`sudo apt-get install python3-matplotlib`\n";
    return kCommandFailed;
  }
  std::vector<std::string> args{script, csv, "--x", p.x, "--y", p.metric};
  if (p.paired_to) {
    args.push_back("--paired-to");
    args.push_back(*p.paired_to);
  }
  if (p.diff_to) {
    args.push_back("--diff-to");
    args.push_back(*p.diff_to);
  }
  if (p.ratio) args.push_back("--ratio");
  if (p.logx) args.push_back("--logx");
  std::vector<std::string> argv{"/usr/bin/python3"};
  argv.insert(argv.end(), args.begin(), args.end());
  const ChildOutcome c = RunStoppably(argv);
  if (c.stopped_by) return stopped(c.stopped_by);
  if (!c.ok()) {
    std::cerr << "--plot: " << ShellCommand("/usr/bin/python3", args) << " failed\n";
    return kCommandFailed;
  }
  return 0;
}

}  // namespace swarm::sim
