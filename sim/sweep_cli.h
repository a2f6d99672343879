// `sim sweep` and `sim merge`: the command-line side of sweep.h. Their
// flags are declared in sweep_cli.cc, the commands are in sweep_command.cc
// and merge_command.cc, --plot in sweep_plot.h, the table's writing in
// merge_output.h.
//
//   sim sweep FILE --vary K=V1,V2,... [--vary ...]
//             [--vary-together K1=V1,V2,... K2=W1,W2,... ...]... --seeds N [--seed-base B]
//             [--jobs J] [--out DIR] [--set K=V]... [--emit-jobs]
//             [--plot X:METRIC [--plot-paired-to VALUE [--plot-ratio]] [--plot-logx]]
//             [--resume] [--quiet] [--no-memory-check]
//   sim merge DIR... [--out CSV] [--plot X:METRIC [--plot-... as for sweep]]
//
// Exit codes: 0 every run present and merged; 1 a run failed or is missing
// (reported with its log and the command that redoes it); 2 bad input
// (a --vary, --plot or scenario problem, a merge --out that is not a table
// it may replace, a --resume or --emit-jobs over runs of another scenario,
// an --emit-jobs into another sweep's folder, a merge of different
// experiments), before anything runs or is written. A sweep
// stopped by SIGINT, SIGTERM or SIGHUP stops its runs, then ends by that
// signal (a shell's 130, 143, 129).
#ifndef SWARM_SIM_SWEEP_CLI_H_
#define SWARM_SIM_SWEEP_CLI_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace swarm::sim {

struct MemoryLimit;
struct PlotSpec;
struct SweepMemory;
struct SweepParam;
struct SweepRun;
struct SweepRunnerOptions;
struct SweepSpec;

class SweepCommands {
 public:
  // Adds the `sweep` and `merge` subcommands to `app`.
  explicit SweepCommands(CLI::App& app);

  // After app.parse(): the exit code when `sweep` or `merge` was chosen,
  // nullopt otherwise. `argv0` starts the commands of --emit-jobs and
  // those that redo a run.
  std::optional<int> RunIfChosen(const std::string& argv0) const;

 private:
  int Sweep(const std::string& argv0) const;
  int Merge(const std::string& argv0) const;

  // The steps of Sweep. Those that return bool return false after saying
  // why on stderr (the caller exits with code 2).
  // The --vary fields into `spec`, checked (CheckSweepSpec).
  bool SpecFromFlags(SweepSpec* spec) const;
  // --plot and its options into *plot (left empty without --plot), checked
  // against the sweep's fields, classes, values and measure windows.
  bool SweepPlot(const SweepSpec& spec, std::optional<PlotSpec>* plot) const;
  // Why the finished runs already in the sweep folder must not stay
  // beside this sweep's (--resume, --emit-jobs), or nullopt.
  std::optional<std::string> FinishedRunsProblem(const SweepSpec& spec,
                                                 const std::vector<SweepRun>& runs) const;
  // --emit-jobs: prints the runs' commands (those not done with --resume).
  int EmitJobs(const SweepSpec& spec, const std::vector<SweepRun>& runs,
               const std::string& argv0) const;
  // How RunSweep runs them: --jobs, lowered (with a note) to what fits in
  // memory, and the progress output.
  SweepRunnerOptions RunnerOptions(const SweepMemory& need, const MemoryLimit& limit,
                                   const std::string& argv0) const;
  // Runs the plan here, merges sweep.csv and plots it; the exit code.
  int RunHere(const SweepSpec& spec, const std::vector<SweepRun>& runs, const SweepMemory& need,
              const MemoryLimit& limit, const std::optional<PlotSpec>& plot,
              const std::string& argv0) const;
  // Merge's --plot and its options into *plot (left empty without --plot);
  // false after saying why on stderr.
  bool MergePlot(std::optional<PlotSpec>* plot) const;
  // The --vary and --vary-together parameters in command-line order, or a
  // message saying what is wrong with one of them.
  std::optional<std::string> VaryParams(std::vector<SweepParam>* params) const;
  // --plot-paired-to, --plot-diff-to, --plot-ratio, --plot-logx: passed on
  // to plot_sweep.py.
  void AddPlotOptions(CLI::App* app);

  CLI::App* sweep_ = nullptr;
  CLI::App* merge_ = nullptr;
  std::string file_, out_, plot_, plot_paired_to_, plot_diff_to_;
  std::vector<std::string> vary_, sets_, dirs_;
  std::vector<std::vector<std::string>> together_;  // each --vary-together's fields
  uint32_t seeds_ = 0;
  uint64_t seed_base_ = 1;
  unsigned jobs_ = 0;
  bool emit_jobs_ = false, quiet_ = false, resume_ = false, no_memory_check_ = false;
  bool plot_ratio_ = false, plot_logx_ = false;
};

}  // namespace swarm::sim

#endif  // SWARM_SIM_SWEEP_CLI_H_
