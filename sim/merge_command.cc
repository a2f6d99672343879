// `sim merge` (SweepCommands::Merge, sweep_cli.h): checks where the table
// goes, then merges the sweep folders into it and plots it.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>

#include "sim/cli_checks.h"
#include "sim/cli_common.h"
#include "sim/merge_output.h"
#include "sim/sweep.h"
#include "sim/sweep_cli.h"
#include "sim/sweep_plot.h"

namespace swarm::sim {
namespace {

namespace fs = std::filesystem;

// Why the table cannot go to `csv` (`given` with --out): it is a folder, or
// the folder an --out goes in cannot be made or written.
std::optional<std::string> TablePlaceProblem(const std::string& csv, bool given) {
  if (std::error_code ec; fs::is_directory(csv, ec)) {  // an --out given as a folder
    return (given ? "--out " + csv : csv) + ": is a directory; the table is a file (e.g. " +
           (fs::path(csv) / "sweep.csv").string() + ")";
  }
  if (!given) return std::nullopt;
  const std::string parent = fs::path(csv).parent_path().string();
  if (auto problem = OutDirProblem(parent.empty() ? "." : parent))
    return "--out " + csv + ": " + *problem;
  return std::nullopt;
}

// Whether `csv` is the own table of the only folder merged: a single
// folder's own table has its sweep.yaml beside it already.
bool OwnTable(const std::string& csv, const std::vector<std::string>& dirs) {
  auto same = [](const fs::path& a, const fs::path& b) {
    std::error_code ec;
    return fs::weakly_canonical(fs::absolute(a), ec) == fs::weakly_canonical(fs::absolute(b), ec);
  };
  return dirs.size() == 1 && same(csv, fs::path(dirs[0]) / "sweep.csv");
}

// Why the table `csv` (named `label` in messages) or, unless it is a
// folder's `own_table`, its manifest must not be written where they would
// go: never over a file that is not a table (the scenario, a sweep's
// manifest, a run's results). Nothing is written then.
std::optional<std::string> TableOutputProblem(const std::string& csv, const std::string& label,
                                              const std::vector<std::string>& dirs,
                                              bool own_table) {
  if (auto problem = MergeOutputProblem(csv, false, dirs, own_table))
    return label + ": " + *problem + "; choose another path";
  if (own_table) return std::nullopt;
  const std::string manifest = MergedManifestPath(csv);
  if (auto problem = MergeOutputProblem(manifest, true, dirs, own_table))
    return label + ": its manifest " + manifest + " " + *problem + "; choose another path";
  return std::nullopt;
}

}  // namespace

int SweepCommands::Merge(const std::string& argv0) const {
  std::optional<PlotSpec> plot;
  if (!MergePlot(&plot)) return kUserError;
  if (out_.empty() && dirs_.size() > 1) {
    std::cerr << "sim merge: several folders: say where the table goes with --out FILE\n";
    return kUserError;
  }
  const std::string csv = out_.empty() ? (fs::path(dirs_[0]) / "sweep.csv").string() : out_;
  if (Reported(TablePlaceProblem(csv, !out_.empty()))) return kUserError;
  const bool own_table = OwnTable(csv, dirs_);
  const std::string label = out_.empty() ? csv : "--out " + csv;
  if (Reported(TableOutputProblem(csv, label, dirs_, own_table))) return kUserError;
  int rc = MergeInto(dirs_, csv, !own_table, DisplayProgram(argv0));
  if (plot && rc == 0) rc = PlotSweepTable(csv, *plot);
  return rc;
}

bool SweepCommands::MergePlot(std::optional<PlotSpec>* plot) const {
  if (Reported(PlotOptionsProblem(*merge_, !plot_.empty()))) return false;
  if (plot_.empty()) return true;
  auto p = ParsePlot(plot_, nullptr);
  if (auto* e = std::get_if<std::string>(&p)) return !Reported(*e);
  *plot = WithPlotOptions(std::get<PlotSpec>(p), *merge_, plot_paired_to_, plot_diff_to_,
                          plot_ratio_, plot_logx_);
  return true;
}

}  // namespace swarm::sim
