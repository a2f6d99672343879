#include "sim/sweep_cli.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <set>
#include <thread>

#include "sim/cli_checks.h"
#include "sim/memory_estimate.h"
#include "sim/scenario_yaml.h"
#include "sim/stop_signals.h"
#include "sim/sweep.h"
#include "sim/write_file.h"

namespace swarm::sim {

// What --plot draws.
struct PlotSpec {
  std::string x, metric;
  // Passed on to plot_sweep.py: --paired-to VALUE (when set), --ratio, --logx.
  std::optional<std::string> paired_to;
  bool ratio = false, logx = false;
};

namespace {

namespace fs = std::filesystem;

constexpr int kFailed = 1;
constexpr int kUserError = 2;

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

// "X:METRIC" -> PlotSpec, or a message. METRIC is a column of kSweepMetrics
// or a per-class column. X must be one of `params` (the varied fields) and
// the class of a per-class METRIC one of `classes` (those that download)
// unless `params` is null (merge: plot_sweep.py checks the columns).
std::variant<PlotSpec, std::string> ParsePlot(const std::string& text,
                                              const std::vector<SweepParam>* params,
                                              const std::vector<std::string>& classes = {}) {
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

// `p` with the --plot-* options of `app`.
PlotSpec WithPlotOptions(PlotSpec p, const CLI::App& app, const std::string& paired_to,
                         bool ratio, bool logx) {
  if (app.count("--plot-paired-to") > 0) p.paired_to = paired_to;
  p.ratio = ratio;
  p.logx = logx;
  return p;
}

// The --plot-* options that go with --plot: a message if one is given
// without it, or --plot-ratio without --plot-paired-to.
std::optional<std::string> PlotOptionsProblem(const CLI::App& app, bool has_plot) {
  for (const char* name : {"--plot-paired-to", "--plot-ratio", "--plot-logx"}) {
    if (!has_plot && app.count(name) > 0)
      return std::string(name) + " needs --plot X:METRIC";
  }
  if (app.count("--plot-ratio") > 0 && app.count("--plot-paired-to") == 0)
    return "--plot-ratio needs --plot-paired-to VALUE";
  return std::nullopt;
}

// --jobs 0 means "as many as possible" to xargs -P and ninja -j, "one per
// core" to xz -T and an error to make -j; here it quietly meant the default.
// Refused, so no one gets what another tool would have given them.
CLI::Validator AtLeastOneJob() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        if (s.find_first_not_of('0') != std::string::npos) return "";
        return "'" + s + "': at least 1 run at a time (leave --jobs out for one per core)";
      },
      "");
}

// A stop signal while a script runs stops it and ends sim by the signal.
int Plot(const std::string& csv, const PlotSpec& p) {
  std::string script = std::string(SWARMLAB_SOURCE_DIR) + "/analysis/plot_sweep.py";
  if (!fs::exists(script)) {
    std::cerr << "--plot: " << script << " not found\n";
    return kFailed;
  }
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
    return kFailed;
  }
  std::vector<std::string> args{script, csv, "--x", p.x, "--y", p.metric};
  if (p.paired_to) {
    args.push_back("--paired-to");
    args.push_back(*p.paired_to);
  }
  if (p.ratio) args.push_back("--ratio");
  if (p.logx) args.push_back("--logx");
  std::vector<std::string> argv{"/usr/bin/python3"};
  argv.insert(argv.end(), args.begin(), args.end());
  const ChildOutcome c = RunStoppably(argv);
  if (c.stopped_by) return stopped(c.stopped_by);
  if (!c.ok()) {
    std::cerr << "--plot: " << ShellCommand("/usr/bin/python3", args) << " failed\n";
    return kFailed;
  }
  return 0;
}

// Merges `dirs` into `csv`, reports problems (with commands that start with
// `program`); returns the exit code. With
// `with_manifest`, also writes MergedManifestPath(csv): the table is not a
// sweep folder's own sweep.csv, so no sweep.yaml beside it describes it.
int MergeInto(const std::vector<std::string>& dirs, const std::string& csv,
              bool with_manifest, const std::string& program) {
  MergeResult m = MergeSweeps(dirs, program);
  if (m.fatal) {
    std::cerr << *m.fatal << "\n";
    return kUserError;
  }
  for (const std::string& n : m.notes) std::cerr << "sim merge: note: " << n << "\n";
  for (const std::string& p : m.problems) std::cerr << "sim merge: " << p << "\n";
  std::error_code ec;  // like `sim run --out`, create the folder it goes in
  if (fs::path parent = fs::path(csv).parent_path(); !parent.empty()) {
    fs::create_directories(parent, ec);
  }
  if (auto err = WriteFileWhole(csv, m.csv)) {
    std::cerr << *err << "\n";
    return kFailed;
  }
  if (with_manifest) {
    if (auto err = WriteFileWhole(MergedManifestPath(csv), MergedManifest(m, csv))) {
      std::cerr << *err << "\n";
      return kFailed;
    }
  }
  std::cout << "  sweep table    " << csv << " (" << m.rows << " of " << m.expected
            << " runs)" << std::endl;  // before plot_sweep.py prints
  if (with_manifest) std::cout << "  its manifest   " << MergedManifestPath(csv) << std::endl;
  // On stdout with the table it is about: its means count survivors only.
  if (const std::string cut = CutAtMaxTimeNote(m); !cut.empty())
    std::cout << "  note: " << cut << std::endl;
  return m.problems.empty() && m.rows == m.expected ? 0 : kFailed;
}

// Whether `inner` is `outer` or inside it, both resolved (symlinks, ..).
bool Within(const fs::path& inner, const fs::path& outer) {
  auto resolved = [](const fs::path& p) {
    std::error_code ec;
    fs::path full = fs::absolute(p, ec).lexically_normal();
    fs::path real = fs::weakly_canonical(full, ec);
    return ec || real.empty() ? full : real;
  };
  const fs::path a = resolved(inner), b = resolved(outer);
  auto [end_b, end_a] = std::mismatch(b.begin(), b.end(), a.begin(), a.end());
  return !b.empty() && end_b == b.end();
}

// Why `sim merge` must not write `path` (the table, or with `manifest` the
// table's manifest), or nullopt. It writes only where nothing is, over an
// empty file, or over what it wrote before: a table (IsSweepTable) or a
// table's manifest (IsMergedManifest); never into the files a sweep folder
// being merged keeps (sweep.yaml, jobs.txt, runs/, logs/, and its own
// sweep.csv unless that is the table of that one folder).
std::optional<std::string> OutputProblem(const std::string& path, bool manifest,
                                          const std::vector<std::string>& dirs,
                                          bool own_table) {
  for (const std::string& dir : dirs) {
    const fs::path d(dir);
    for (const char* name : {"sweep.yaml", "jobs.txt"}) {
      if (Within(path, d / name))
        return std::string("is the ") + name + " of sweep folder " + dir;
    }
    for (const char* name : {"runs", "logs"}) {
      if (Within(path, d / name))
        return std::string("is inside ") + name + "/ of sweep folder " + dir;
    }
    if (!own_table && Within(path, d / "sweep.csv"))
      return "is the own table of sweep folder " + dir + " (its sweep.yaml describes it)";
  }
  std::error_code ec;
  const fs::file_status st = fs::symlink_status(path, ec);
  if (fs::is_symlink(st)) return "is a symbolic link; sim merge replaces only files it wrote";
  if (!fs::is_regular_file(st)) return std::nullopt;  // nothing there, or a pipe
  if (fs::file_size(path, ec) == 0 && !ec) return std::nullopt;
  if (manifest ? IsMergedManifest(path) : IsSweepTable(path)) return std::nullopt;
  return manifest ? "exists and is not the manifest of a table sim merge wrote"
                  : "exists and is not a table sim merge or sim sweep wrote (its first line is "
                    "not a sweep.csv header)";
}

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

std::string DisplayProgram(const std::string& argv0) {
  return argv0.find('/') == std::string::npos ? "sim" : argv0;
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

// True, after printing it on stderr, when there is a problem.
bool Reported(const std::optional<std::string>& problem) {
  if (problem) std::cerr << *problem << "\n";
  return problem.has_value();
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

// Why --plot-paired-to cannot pair: its value must be one of X's values,
// or no run is its pair.
std::optional<std::string> PairedToProblem(const SweepSpec& spec, const PlotSpec& plot) {
  if (!plot.paired_to) return std::nullopt;
  for (const SweepParam& q : spec.params) {
    if (q.key == plot.x &&
        std::find(q.values.begin(), q.values.end(), *plot.paired_to) == q.values.end())
      return "--plot-paired-to " + *plot.paired_to + ": not a value of --vary " + q.key;
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

SweepCommands::SweepCommands(CLI::App& app) {
  sweep_ = app.add_subcommand("sweep", "run a scenario over a cross product of values x seeds");
  // Not ->required(): a --vary-together before the file takes it as a field,
  // and VaryParams says so, which is clearer than CLI11's "FILE is required".
  sweep_->add_option("FILE", file_, "scenario YAML")->type_name("");
  sweep_->add_option("--vary", vary_, "values of a field (repeat for a cross product)")
      ->type_name("FIELD=V1,V2,...");
  sweep_->add_option("--vary-together", together_,
                     "two or more fields whose i-th values go into the same runs (lock "
                     "step); the group crosses with the other --vary's")
      ->type_name("FIELD=V1,V2,...")
      ->expected(2, 64);
  sweep_->add_option("--seeds", seeds_, "seeds per combination (1 or more)")
      ->required()
      ->type_name("N")
      ->check(UnsignedWhole(32));
  sweep_->add_option("--seed-base", seed_base_, "first seed (default 1)")
      ->type_name("N")
      ->check(UnsignedWhole());
  sweep_->add_option("--jobs", jobs_, "runs at once, at least 1 (default: number of cores)")
      ->type_name("N")
      ->check(UnsignedWhole(32))
      ->check(AtLeastOneJob());
  sweep_->add_option("--out", out_, "sweep folder (default results/NAME-sweep)")
      ->type_name("DIR");
  sweep_->add_option("--set", sets_, "override a field in every run")->type_name("FIELD=VALUE");
  sweep_->add_flag("--emit-jobs", emit_jobs_, "print one `sim run` per line instead of running");
  sweep_->add_option("--plot", plot_, "plot sweep.csv with analysis/plot_sweep.py")
      ->type_name("X:METRIC");
  AddPlotOptions(sweep_);
  sweep_->add_flag("--resume", resume_,
                   "skip runs whose folder is already complete (with --emit-jobs: print only "
                   "the others)");
  sweep_->add_flag("--quiet", quiet_, "no progress output");
  sweep_->add_flag("--no-memory-check", no_memory_check_,
                   "run even if a run's estimated memory exceeds the machine's (passed on to "
                   "each `sim run`); --jobs is then not lowered to fit either");

  merge_ = app.add_subcommand("merge", "build sweep.csv from sweep folders made anywhere");
  merge_->add_option("DIR", dirs_, "sweep folders (each with sweep.yaml and runs/)")
      ->required()
      ->type_name("");
  merge_->add_option("--out", out_,
                    "table to write (default DIR/sweep.csv for one DIR); any other "
                    "FILE.csv also gets FILE.sweep.yaml, its manifest; replaces only a "
                    "table written before or an empty file")
      ->type_name("FILE.csv");
  merge_->add_option("--plot", plot_, "plot the table with analysis/plot_sweep.py")
      ->type_name("X:METRIC");
  AddPlotOptions(merge_);
}

void SweepCommands::AddPlotOptions(CLI::App* app) {
  app->add_option("--plot-paired-to", plot_paired_to_,
                  "with --plot: plot each X value's difference to the run of X=VALUE with "
                  "the same seed (plot_sweep.py --paired-to)")
      ->type_name("VALUE");
  app->add_flag("--plot-ratio", plot_ratio_,
                "with --plot-paired-to: the ratio to that run instead (plot_sweep.py --ratio)");
  app->add_flag("--plot-logx", plot_logx_,
                "with --plot: a logarithmic x axis (plot_sweep.py --logx)");
}

std::optional<std::string> SweepCommands::VaryParams(std::vector<SweepParam>* params) const {
  // In the order given on the command line, --vary and --vary-together
  // mixed: that order is the order of the columns and of the cross product.
  // parse_order() lists an option once per value it took.
  size_t vary = 0, group = 0, skip = 0;
  for (const CLI::Option* o : sweep_->parse_order()) {
    if (o->get_name() == "--vary") {
      auto p = ParseVary(vary_.at(vary++));
      if (auto* e = std::get_if<std::string>(&p)) return *e;
      params->push_back(std::get<SweepParam>(std::move(p)));
    } else if (o->get_name() == "--vary-together") {
      if (skip > 0) {  // a later field of a group already taken
        --skip;
        continue;
      }
      const std::vector<std::string>& fields = together_.at(group++);
      skip = fields.size() - 1;
      auto p = ParseVaryTogether(fields);
      if (auto* e = std::get_if<std::string>(&p)) return *e;
      for (SweepParam& q : std::get<std::vector<SweepParam>>(p)) params->push_back(std::move(q));
    }
  }
  return std::nullopt;
}

std::optional<int> SweepCommands::RunIfChosen(const std::string& argv0) const {
  if (*sweep_) return Sweep(argv0);
  if (*merge_) return Merge(argv0);
  return std::nullopt;
}

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
    return kFailed;
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
  *plot = WithPlotOptions(std::get<PlotSpec>(p), *sweep_, plot_paired_to_, plot_ratio_,
                          plot_logx_);
  return !Reported(PairedToProblem(spec, **plot));
}

std::optional<std::string> SweepCommands::FinishedRunsProblem(
    const SweepSpec& spec, const std::vector<SweepRun>& runs) const {
  // Runs already made must be runs of this experiment: before anything is
  // run or written (the manifest, the table).
  if (resume_ && !emit_jobs_) return StaleRun(spec, runs);
  // Emitted jobs do not replace the runs already there as a local sweep
  // does: the folder must hold this sweep, or --resume extend it.
  if (emit_jobs_) return EmitJobsProblem(spec, runs, resume_);
  return std::nullopt;
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
    rc = kFailed;
  }
  if (plot && rc == 0) rc = Plot(csv, *plot);
  return rc;
}
int SweepCommands::Merge(const std::string& argv0) const {
  std::optional<PlotSpec> plot;
  if (auto e = PlotOptionsProblem(*merge_, !plot_.empty())) {
    std::cerr << *e << "\n";
    return kUserError;
  }
  if (!plot_.empty()) {
    auto p = ParsePlot(plot_, nullptr);
    if (auto* e = std::get_if<std::string>(&p)) {
      std::cerr << *e << "\n";
      return kUserError;
    }
    plot = WithPlotOptions(std::get<PlotSpec>(p), *merge_, plot_paired_to_, plot_ratio_,
                           plot_logx_);
  }
  std::string csv = out_;
  if (csv.empty()) {
    if (dirs_.size() > 1) {
      std::cerr << "sim merge: several folders: say where the table goes with --out FILE\n";
      return kUserError;
    }
    csv = (fs::path(dirs_[0]) / "sweep.csv").string();
  }
  if (std::error_code ec; fs::is_directory(csv, ec)) {  // an --out given as a folder
    std::cerr << (out_.empty() ? csv : "--out " + csv)
              << ": is a directory; the table is a file (e.g. "
              << (fs::path(csv) / "sweep.csv").string() << ")\n";
    return kUserError;
  }
  if (!out_.empty()) {
    const std::string parent = fs::path(csv).parent_path().string();
    if (auto problem = OutDirProblem(parent.empty() ? "." : parent)) {
      std::cerr << "--out " << csv << ": " << *problem << "\n";
      return kUserError;
    }
  }
  // A single folder's own table has its sweep.yaml beside it already.
  auto same = [](const fs::path& a, const fs::path& b) {
    std::error_code ec;
    return fs::weakly_canonical(fs::absolute(a), ec) == fs::weakly_canonical(fs::absolute(b), ec);
  };
  bool own_table = dirs_.size() == 1 && same(csv, fs::path(dirs_[0]) / "sweep.csv");
  // Never over a file that is not a table (the scenario, a sweep's
  // manifest, a run's results): nothing is written then.
  const std::string label = out_.empty() ? csv : "--out " + csv;
  if (auto problem = OutputProblem(csv, false, dirs_, own_table)) {
    std::cerr << label << ": " << *problem << "; choose another path\n";
    return kUserError;
  }
  if (!own_table) {
    const std::string manifest = MergedManifestPath(csv);
    if (auto problem = OutputProblem(manifest, true, dirs_, own_table)) {
      std::cerr << label << ": its manifest " << manifest << " " << *problem
                << "; choose another path\n";
      return kUserError;
    }
  }
  int rc = MergeInto(dirs_, csv, !own_table, DisplayProgram(argv0));
  if (plot && rc == 0) rc = Plot(csv, *plot);
  return rc;
}

}  // namespace swarm::sim
