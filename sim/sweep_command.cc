// `sim sweep` (SweepCommands::Sweep, sweep_cli.h): checks the sweep as a
// whole, writes its manifest, then prints its jobs (--emit-jobs) or runs
// them here and merges their table.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <set>
#include <thread>

#include "sim/cli_checks.h"
#include "sim/cli_common.h"
#include "sim/memory_estimate.h"
#include "sim/merge_output.h"
#include "sim/scenario_yaml.h"
#include "sim/sweep.h"
#include "sim/sweep_cli.h"
#include "sim/sweep_plot.h"

namespace swarm::sim {
namespace {

namespace fs = std::filesystem;

// A finished run (its summary.json is there) under OUT/runs/ that the plan
// does not list stays on disk but is in no table: a sweep resumed with
// fewer seeds or values would otherwise shrink the table without a word.
void NoteRunsOutsideThePlan(const SweepSpec& spec, const std::vector<SweepRun>& runs) {
  const fs::path dir = fs::path(spec.out_dir) / "runs";
  std::set<std::string> planned;
  for (const SweepRun& r : runs) planned.insert(r.name);
  size_t outside = 0;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code e;
    if (!planned.count(it->path().filename().string()) &&
        fs::exists(it->path() / "summary.json", e))
      ++outside;
  }
  if (outside == 0) return;
  std::cerr << "sim sweep: note: " << outside
            << (outside == 1 ? " finished run in " : " finished runs in ") << dir.string()
            << (outside == 1 ? " is" : " are")
            << " not in this plan (kept on disk, not in the table)\n";
}

// After RunSweep stopped its runs on a signal: says so, then ends the
// process by that same signal (default action), as a shell or `make` expects
// of an interrupted program: exit status 128 + N (130 for SIGINT, 143 for
// SIGTERM, 129 for SIGHUP). Returns only if the signal does not end it.
int EndByStopSignal(const SweepOutcome& outcome) {
  const int sig = outcome.stopped_by;
  const char* name = sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "SIGHUP";
  std::cerr << "sim sweep: stopped by " << name << " (" << outcome.stopped_runs
            << " running run(s) stopped; no table written); the same command with --resume "
               "runs what is missing\n";
  std::signal(sig, SIG_DFL);
  std::raise(sig);
  return 128 + sig;
}

// Why --plot's `metric` cannot be plotted although it is a column name: a
// *_in_window column when no run of the sweep has a measure window.
// Checked before any run: without a window sweep.csv has no such column,
// and plot_sweep.py would fail only after the whole sweep.
std::optional<std::string> WindowPlotProblem(const SweepSpec& spec, const std::string& plot,
                                             const std::string& metric) {
  if (std::find(std::begin(kSweepWindowColumns), std::end(kSweepWindowColumns), metric) ==
          std::end(kSweepWindowColumns) ||
      SweepMeasuresAWindow(spec))
    return std::nullopt;
  return "--plot '" + plot + "': no run of this sweep has a measure window, so " +
         "sweep.csv has no " + metric + " column (set measure: {joins_from, " +
         "joins_until} in the scenario or with --set; docs/scenarios.md)";
}

// Why --plot-paired-to or --plot-diff-to cannot compare: its value must be
// one of X's values, or no run is there to compare with.
std::optional<std::string> ReferenceValueProblem(const SweepSpec& spec, const PlotSpec& plot) {
  const bool paired = plot.paired_to.has_value();
  const std::optional<std::string>& value = paired ? plot.paired_to : plot.diff_to;
  if (!value) return std::nullopt;
  for (const SweepParam& q : spec.params) {
    if (q.key == plot.x && std::find(q.values.begin(), q.values.end(), *value) == q.values.end())
      return std::string(paired ? "--plot-paired-to " : "--plot-diff-to ") + *value +
             ": not a value of --vary " + q.key;
  }
  return std::nullopt;
}

// The sweep's scenario warnings as `sim run` and `sim check` print them, on
// stderr (each run's own copy goes to its log, deleted when it succeeds);
// once per distinct warning, not once per run.
void PrintSweepWarnings(const SweepSpec& spec) {
  for (const SweepWarning& w : SweepWarnings(spec)) {
    std::cerr << "sim sweep: warning: " << spec.scenario_file;
    for (size_t i = 0; i < w.points.size(); ++i)
      std::cerr << (i == 0 ? " with " : ", or with ") << w.points[i];
    std::cerr << ": " << w.text << "\n";
  }
}

// Why the sweep is refused for memory, as `sim run` would refuse each run,
// before anything is written. As there, only the part of the classes that
// stay to the end refuses a run (for the others the estimate is an upper
// bound).
std::optional<std::string> MemoryRefusal(const SweepSpec& spec, const SweepMemory& need,
                                         const MemoryLimit& limit) {
  const double have = limit.bytes;
  if (have <= 0 || need.largest_firm <= have) return std::nullopt;
  return spec.scenario_file + ": its largest run needs about " +
         FormatMemory(need.largest_firm) +
         " of memory (estimated from its peers, pieces and connections, " +
         (need.largest_firm >= need.largest ? "every peer" : "the peers of its classes that stay") +
         " present at once), more than the available " + FormatMemory(have) + " (" +
         limit.source +
         "); sim run would refuse it (--no-memory-check runs it "
         "anyway)";
}

// Warns of runs that may need more memory than the machine has if their
// peers were all present at once, although those that stay fit.
void WarnOfLargeRuns(const SweepMemory& need, const MemoryLimit& limit) {
  const double have = limit.bytes;
  if (have <= 0 || need.largest <= have || need.largest <= need.largest_firm) return;
  std::cerr << "sim sweep: warning: a run may need up to " << FormatMemory(need.largest)
            << " of memory, more than the available " << FormatMemory(have) << " ("
            << limit.source
            << "), if its peers were all present at once; they leave or fail, so it likely "
               "needs less\n";
}

// results/NAME-sweep, NAME the scenario's. REQUIRES: CheckSweepSpec passed.
std::string DefaultSweepDir(const SweepSpec& spec) {
  auto s = LoadScenario(spec.scenario_file, spec.sets);  // loads: checked before
  return "results/" + std::get<Scenario>(s).name + "-sweep";
}

// Why the sweep folder cannot be written (as `sim run --out`), or an
// argument of the runs' commands has a line break; nullopt when neither.
std::optional<std::string> SweepFolderProblem(const SweepSpec& spec) {
  if (auto problem = OutDirProblem(spec.out_dir)) return "--out " + spec.out_dir + ": " + *problem;
  return LineBreakProblem(spec);
}

// The runs of `runs` whose folder is not complete yet (all of them
// without `resume`).
std::vector<SweepRun> RunsToDo(const SweepSpec& spec, const std::vector<SweepRun>& runs,
                               bool resume) {
  std::vector<SweepRun> todo;
  for (const SweepRun& r : runs)
    if (!resume || !RunFolderDone(spec, r)) todo.push_back(r);
  return todo;
}

}  // namespace

int SweepCommands::Sweep(const std::string& argv0) const {
  SweepSpec spec{file_, {}, sets_, seed_base_, seeds_, out_, no_memory_check_};
  if (!SpecFromFlags(&spec)) return kUserError;
  std::optional<PlotSpec> plot;
  if (!SweepPlot(spec, &plot)) return kUserError;
  PrintSweepWarnings(spec);
  // Emitted jobs may run on other machines, which check for themselves.
  const bool check_memory = !emit_jobs_ && !no_memory_check_;
  const SweepMemory need = LargestRunMemory(spec);
  const MemoryLimit limit = AvailableMemory();
  if (check_memory && Reported(MemoryRefusal(spec, need, limit))) return kUserError;
  if (check_memory && !quiet_) WarnOfLargeRuns(need, limit);
  if (spec.out_dir.empty()) spec.out_dir = DefaultSweepDir(spec);
  if (Reported(SweepFolderProblem(spec))) return kUserError;
  const std::vector<SweepRun> runs = PlanSweep(spec);
  if (Reported(FinishedRunsProblem(spec, runs))) return kUserError;
  if (auto e = WriteSweepManifest(spec, runs, DisplayProgram(argv0))) {
    std::cerr << *e << "\n";
    return kCommandFailed;
  }
  NoteRunsOutsideThePlan(spec, runs);
  if (emit_jobs_) return EmitJobs(spec, runs, argv0);
  return RunHere(spec, runs, need, limit, plot, argv0);
}

bool SweepCommands::SpecFromFlags(SweepSpec* spec) const {
  if (Reported(VaryParams(&spec->params))) return false;
  if (file_.empty()) {
    std::cerr << "sim sweep: FILE is required (sim sweep FILE --vary ... --seeds N)\nRun with "
                 "--help for more information.\n";
    return false;
  }
  return !Reported(CheckSweepSpec(*spec));
}

bool SweepCommands::SweepPlot(const SweepSpec& spec, std::optional<PlotSpec>* plot) const {
  if (Reported(PlotOptionsProblem(*sweep_, !plot_.empty()))) return false;
  if (plot_.empty()) return true;
  auto p = ParsePlot(plot_, &spec.params, SweepClasses(spec));
  if (auto* e = std::get_if<std::string>(&p)) return !Reported(*e);
  if (Reported(WindowPlotProblem(spec, plot_, std::get<PlotSpec>(p).metric))) return false;
  *plot = WithPlotOptions(std::get<PlotSpec>(p), *sweep_, plot_paired_to_, plot_diff_to_,
                          plot_ratio_, plot_logx_);
  return !Reported(ReferenceValueProblem(spec, **plot));
}

std::optional<std::string> SweepCommands::FinishedRunsProblem(
    const SweepSpec& spec, const std::vector<SweepRun>& runs) const {
  // Runs already made must be runs of this experiment: before anything is
  // run or written (the manifest, the table).
  if (resume_ && !emit_jobs_) return StaleRun(spec, runs);
  // Emitted jobs do not replace the runs already there as a local sweep
  // does: the folder must hold this sweep, or --resume extend it.
  if (emit_jobs_) return EmitJobsProblem(spec, runs, resume_);
  // A plain sweep makes every run again and writes the table anew: fine
  // for this sweep, but it must not silently replace another one.
  return SweepOverAnotherProblem(spec, runs);
}

int SweepCommands::EmitJobs(const SweepSpec& spec, const std::vector<SweepRun>& runs,
                            const std::string& argv0) const {
  // The lines of jobs.txt (every run, in plan order); with --resume only
  // those of runs not done yet.
  size_t printed = 0;
  for (const SweepRun& r : runs) {
    if (resume_ && RunFolderDone(spec, r)) continue;
    std::cout << ShellCommand(DisplayProgram(argv0), RunArguments(spec, r)) << "\n";
    ++printed;
  }
  std::cout << std::flush;
  std::cerr << "sim sweep: " << printed << (printed == 1 ? " command " : " commands ");
  if (printed < runs.size())
    std::cerr << "(" << runs.size() - printed << " already done; " << spec.out_dir
              << "/jobs.txt has all " << runs.size() << ")";
  else
    std::cerr << "(also in " << spec.out_dir << "/jobs.txt)";
  std::cerr << "; when they are done: "
            << ShellCommand(DisplayProgram(argv0), {"merge", spec.out_dir}) << "\n";
  return 0;
}

SweepRunnerOptions SweepCommands::RunnerOptions(const SweepMemory& need,
                                                const MemoryLimit& limit,
                                                const std::string& argv0) const {
  SweepRunnerOptions o;
  // The runs execute this very binary, wherever the current directory and
  // PATH lead; what is printed for a human to rerun is what they typed,
  // like every other command of the sweep (jobs.txt, sweep.yaml, merge).
  o.sim_binary = fs::read_symlink("/proc/self/exe").string();
  o.redo_program = DisplayProgram(argv0);
  o.jobs = jobs_ ? jobs_ : std::max(1u, std::thread::hardware_concurrency());
  // Runs at once must fit in memory together, or they swap or get killed:
  // counted by the runs whose estimate is firm (every peer stays).
  const unsigned fit =
      no_memory_check_ ? o.jobs : JobsThatFit(o.jobs, need.largest_firm, limit.bytes);
  if (fit < o.jobs) {
    std::cerr << "sim sweep: note: " << fit << " at a time instead of " << o.jobs
              << ": a run needs up to about " << FormatMemory(need.largest_firm)
              << " of the available " << FormatMemory(limit.bytes) << " (" << limit.source
              << ")\n";
    o.jobs = fit;
  }
  o.progress_line = !quiet_ && isatty(STDERR_FILENO);
  o.per_run_lines = !quiet_ && !o.progress_line;
  return o;
}

int SweepCommands::RunHere(const SweepSpec& spec, const std::vector<SweepRun>& runs,
                           const SweepMemory& need, const MemoryLimit& limit,
                           const std::optional<PlotSpec>& plot,
                           const std::string& argv0) const {
  const SweepRunnerOptions o = RunnerOptions(need, limit, argv0);
  const std::vector<SweepRun> todo = RunsToDo(spec, runs, resume_);
  if (!quiet_)
    std::cerr << "sim sweep: " << runs.size() << " runs"
              << (todo.size() < runs.size()
                      ? " (" + std::to_string(runs.size() - todo.size()) + " already done)"
                      : std::string())
              << ", " << o.jobs << " at a time, into " << spec.out_dir << "/runs/\n";
  SweepOutcome outcome = RunSweep(spec, todo, o);
  if (outcome.stopped_by != 0) return EndByStopSignal(outcome);
  const std::string csv = (fs::path(spec.out_dir) / "sweep.csv").string();
  int rc = MergeInto({spec.out_dir}, csv, false, DisplayProgram(argv0));
  if (!outcome.failed.empty()) {
    std::cerr << "sim sweep: " << outcome.failed.size() << " of " << runs.size()
              << " runs failed\n";
    rc = kCommandFailed;
  }
  if (plot && rc == 0) rc = PlotSweepTable(csv, *plot);
  return rc;
}

}  // namespace swarm::sim
