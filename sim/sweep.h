// Sweeps: one scenario run many times over the cross product of some
// parameter values and a range of seeds, and the table that merges them.
//
// A sweep is a list of independent, deterministic `sim run` commands. Each
// run writes an ordinary result folder OUT/runs/NAME, where NAME is built
// from the run's parameter values and seed (filesystem-safe, unique within
// the sweep). The sweep folder also holds a manifest, OUT/sweep.yaml (the
// scenario, the varied keys, the fixed overrides and every run with its
// values, seed and command), and OUT/jobs.txt (one command per line, the
// same commands a local sweep executes). Merging reads the manifest and the
// run folders' summary.json into OUT/sweep.csv, whether the runs were made
// here in parallel or copied back from other machines.
//
// Everything here is a plain function over plain data except RunSweep,
// which starts child processes and handles SIGINT, SIGTERM and SIGHUP
// while it runs. Not thread-safe (RunSweep waits for its own children and
// owns those signals); call from one thread.
#ifndef SWARM_SIM_SWEEP_H_
#define SWARM_SIM_SWEEP_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace swarm::sim {

// One `--vary KEY=V1,V2,...`: a dotted scenario path and its values in the
// order given. The fields of one `--vary-together K1=... K2=...` are
// consecutive parameters, all but the first `with_previous`: they take
// their i-th values in the same runs (lock step) instead of crossing.
struct SweepParam {
  std::string key;
  std::vector<std::string> values;
  bool with_previous = false;  // moves in lock step with the parameter before it
};

struct SweepSpec {
  std::string scenario_file;
  std::vector<SweepParam> params;
  std::vector<std::string> sets;  // fixed "K=V" overrides for every run
  uint64_t seed_base = 1;         // seeds seed_base .. seed_base+seeds-1
  uint32_t seeds = 1;
  std::string out_dir;
  bool no_memory_check = false;  // passed on to every run (`sim run --no-memory-check`)
};

// One run of the sweep.
struct SweepRun {
  std::string name;                 // folder name under OUT/runs/
  uint64_t seed = 1;
  std::vector<std::string> values;  // one per SweepSpec::params
};

// The metric columns of sweep.csv, after run, seed and the parameters.
// piece_granular_s is empty when that value does not apply (summary.json's
// null); it came after the first seven, after tables had been written
// without it. The rest came later still (2026-11-27), copied from
// summary.json: piece_granular_is_bound (1 or 0, empty without a
// piece_granular_s); over_time's averages as leechers_time_avg,
// seeds_time_avg, seeds_from_leechers_time_avg, upload_utilization_time_avg,
// availability_min_time_avg, availability_min_lowest and
// availability_entropy_time_avg; and fluid_model's leechers, seeds and
// download_time_s as fluid_x, fluid_y (the model's names) and
// fluid_download_time_s, empty when the model does not describe the swarm.
// None ends in a per-class column's suffix (kSweepClassMetrics).
inline constexpr size_t kSweepMetricsCount = 19;
extern const char* const kSweepMetrics[kSweepMetricsCount];
// How many of them every table has (the first seven): a table written
// before the later columns existed is still a table (IsSweepTable).
inline constexpr size_t kSweepMetricsAlways = 7;

// After them, for every class whose peers download (do not start
// complete), classes in scenario order: CLASS_completed, CLASS_leechers,
// CLASS_mean_completion_s, CLASS_median_completion_s, and since 2026-11-27
// CLASS_bytes_uploaded, CLASS_bytes_downloaded, CLASS_share_ratio
// (SweepClassColumn), copied from summary.json's per_class. The first four
// names are those of compare.py's per-class table (compare_classes.csv).
inline constexpr size_t kSweepClassMetricsCount = 7;
extern const char* const kSweepClassMetrics[kSweepClassMetricsCount];

// Last, only for runs whose scenario has a `measure` window (summary.json's
// "measured"): the leechers that joined in it, those of them that finished
// and their download times. No class column can take these names (a class
// column ends in one of kSweepClassMetrics), and a table of runs without a
// window has none of them.
extern const char* const kSweepWindowColumns[5];
std::string SweepClassColumn(const std::string& klass, const std::string& metric);

// Parses "KEY=V1,V2,...". Returns the parameter or a message saying what
// is wrong with `text` (the caller exits with code 2).
std::variant<SweepParam, std::string> ParseVary(const std::string& text);

// Parses the fields of one `--vary-together`, each "KEY=V1,V2,...", into
// consecutive parameters that move in lock step (all but the first
// `with_previous`). Needs at least two fields, each with as many values.
// Returns the parameters or a message saying what is wrong.
std::variant<std::vector<SweepParam>, std::string> ParseVaryTogether(
    const std::vector<std::string>& fields);

// Checks the spec as a whole: distinct keys, no key both varied and set, no
// varied seed, at least one seed, equal numbers of values in each group of
// fields varied together, and that the scenario loads with every
// combination of values. Returns the first problem, or nullopt.
std::optional<std::string> CheckSweepSpec(const SweepSpec& spec);

// The classes whose peers download, over every combination of values, in
// scenario order: those that have per-class columns in sweep.csv. The spec
// must have passed CheckSweepSpec.
std::vector<std::string> SweepClasses(const SweepSpec& spec);

// Whether any run of the sweep has a `measure:` window, so that sweep.csv
// has the *_in_window columns (kSweepWindowColumns).
bool SweepMeasuresAWindow(const SweepSpec& spec);

// Which argument of the runs' commands holds a line break (the scenario
// file, a --set or --vary value, the sweep folder), or nullopt. jobs.txt and
// --emit-jobs give one command per line, which such an argument would
// split, so the sweep is refused (the caller exits with code 2).
std::optional<std::string> LineBreakProblem(const SweepSpec& spec);

// The cross product in a fixed order: the first parameter varies slowest,
// the seed fastest; a group of parameters varied together counts as one,
// taking its fields' i-th values at once. Names look like
//   protocol.piece_selection=random__seed=3
// with every byte outside [A-Za-z0-9._-] written as %XX.
std::vector<SweepRun> PlanSweep(const SweepSpec& spec);

// The name PlanSweep gives the run with `values` (one per key of `keys`, in
// that order) and `seed`. The keys' order is part of the name.
std::string SweepRunName(const std::vector<std::string>& keys,
                         const std::vector<std::string>& values, uint64_t seed);

// The estimated memory (EstimateRunMemory) of the sweep's most demanding
// runs, over every combination of values (the seed does not change it):
// in all, and of the classes that stay to the end only (FirmRunMemory),
// which is firm enough to refuse a run or limit how many run at once. The
// spec must have passed CheckSweepSpec.
struct SweepMemory {
  double largest = 0;       // any run, every peer present at once
  double largest_firm = 0;  // any run, its classes that stay only
};
SweepMemory LargestRunMemory(const SweepSpec& spec);

// A scenario warning (ScenarioWarnings, as `sim run` prints) that runs of
// the sweep get. `points` is empty for a warning of the base scenario (the
// file with the fixed --set values); otherwise it lists the combinations
// of --vary values that give this warning although the base does not, each
// as "K1=V1 K2=V2" in the order of the --vary fields.
struct SweepWarning {
  std::string text;
  std::vector<std::string> points;
};

// The sweep's scenario warnings, each distinct text once: first those of
// the base scenario that at least one combination also gets (a warning
// that every --vary value overrides away concerns no run), then, in plan
// order, every further warning with the combinations that give it. The
// seed changes none of them. The spec must have passed CheckSweepSpec.
std::vector<SweepWarning> SweepWarnings(const SweepSpec& spec);

// How many of `jobs` runs, each needing up to `per_run` bytes, can run at
// once within `have` bytes: at least 1, at most `jobs`; `jobs` when either
// amount is unknown (0).
unsigned JobsThatFit(unsigned jobs, double per_run, double have);

// "run FILE --seed S --set K=V ... --out OUT/runs/NAME --quiet": the
// arguments of the `sim run` that makes `run` (without the program name).
std::vector<std::string> RunArguments(const SweepSpec& spec, const SweepRun& run);
// `program` and `args` as one POSIX shell command line (quoted as needed).
std::string ShellCommand(const std::string& program, const std::vector<std::string>& args);

// Writes OUT/sweep.yaml and OUT/jobs.txt (commands start with `program`).
// Returns an error message or nullopt.
std::optional<std::string> WriteSweepManifest(const SweepSpec& spec,
                                              const std::vector<SweepRun>& runs,
                                              const std::string& program);

struct SweepRunnerOptions {
  std::string sim_binary;  // executed for every run
  // Starts the `redo:` command printed for a failed run: `sim` as the user
  // typed it, as in jobs.txt, so that command is the run's line there.
  std::string redo_program;
  unsigned jobs = 1;       // runs at once; >= 1
  bool progress_line = false;  // "\r"-updated line on stderr (a TTY)
  bool per_run_lines = false;  // one stderr line per finished run (logs)
};

struct SweepOutcome {
  // The runs that failed; each was reported on stderr with its log and the
  // command that redoes it.
  std::vector<std::string> failed;
  // The stop signal (SIGINT, SIGTERM or SIGHUP) that ended the sweep before
  // every run was done, or 0; and how many running runs it stopped then.
  int stopped_by = 0;
  size_t stopped_runs = 0;
};

// Runs every run of the plan, up to `jobs` at once, each as a child process
// `sim_binary run ...` with its output in OUT/logs/NAME.log (deleted when
// the run succeeds). A stop signal (SIGINT, SIGTERM, SIGHUP) received
// meanwhile starts no further run: it is passed on to the running ones, and
// RunSweep returns once they have all ended (a second stop signal kills them
// with SIGKILL); their logs are deleted. Signals ignored on entry stay
// ignored. The previous signal handlers are back when it returns.
SweepOutcome RunSweep(const SweepSpec& spec, const std::vector<SweepRun>& runs,
                      const SweepRunnerOptions& options);

// One run that made it into a merged table.
struct MergedRun {
  std::string name;                 // its name in the table (the table's order of fields)
  std::string dir;                  // the sweep folder DIR it was read from, as given
  std::string folder;               // DIR/runs/FOLDER_NAME
  std::string scenario;             // its scenario file, usable from here
  uint64_t seed = 0;
  std::vector<std::string> values;  // one per MergeResult::params
  std::string command;              // the `sim run` that makes it in `folder`
  std::vector<std::string> sets;    // the fixed --set values of its folder's sweep
  bool no_memory_check = false;     // as the sweep.yaml of its folder
  // The run as its folder's sweep.yaml lists it: that sweep's --vary
  // fields (MergeResult::params, perhaps in another order), the values in
  // their order, and its folder's name under DIR/runs/ (`name` when the
  // orders agree). `command` sets them in this order.
  std::vector<std::string> folder_params;
  std::vector<std::string> folder_values;
  std::string folder_name;
};

struct MergeResult {
  std::string csv;                    // sweep.csv content (complete runs only)
  uint32_t rows = 0;
  uint32_t expected = 0;              // distinct runs listed by the manifests
  std::vector<std::string> problems;  // missing / bad runs, with redo commands
  // What needs saying but leaves the table complete: a folder given twice,
  // a damaged copy of a run that has a good one elsewhere, runs found in
  // several folders.
  std::vector<std::string> notes;
  std::optional<std::string> fatal;   // unreadable manifest, mismatched sweeps
  // What the table's rows share, from the first folder's manifest (merged
  // folders are one experiment, so it describes them all: the scenario
  // file and --set values of another folder may differ, but give the same
  // resolved scenario), and its rows.
  std::string scenario;               // usable from here (see MergedRun)
  std::vector<std::string> params;
  std::vector<std::string> sets;
  // Whether any run of the table was made by a sweep with
  // --no-memory-check (each run's command keeps its own folder's flag).
  bool no_memory_check = false;
  std::vector<std::string> dirs;      // the sweep folders, as given, each once
  std::vector<MergedRun> runs;        // in table order
  std::string program;                // starts every command
  // Runs of the table that stopped at stop.max_time or with pieces_lost
  // (summary.json's "stopped") before every leecher finished: their
  // download times count only the leechers that did, so they read shorter
  // than the swarm's. In table order, with summary.json's peers.completed
  // and peers.leechers.
  struct CutRun {
    std::string name;
    std::string completed, leechers;
    bool pieces_lost = false;  // stopped with pieces_lost, not at max_time
  };
  std::vector<CutRun> cut_at_max_time;
};

// The note `sim sweep` and `sim merge` print under the table when some of
// its runs stopped at stop.max_time (or with pieces_lost) before every
// leecher finished, or "" when none did.
std::string CutAtMaxTimeNote(const MergeResult& merged);

// True when OUT/runs/NAME already holds a complete result of `run` made by
// this version: the check MergeSweeps applies (values, seed) plus the
// version. Lets an interrupted sweep resume.
bool RunFolderDone(const SweepSpec& spec, const SweepRun& run);

// With --resume: the first run of `runs` that has finished in
// OUT/runs/NAME (its summary.json is there) but whose resolved scenario is
// not the one `spec` gives it now, because the scenario file or the --set
// values changed since. Returns a message naming that run and the first
// field that differs, or nullopt when every finished run still matches.
// Folders this binary cannot read are left out: --resume makes them again.
// `flag` starts the message ("--resume").
std::optional<std::string> StaleRun(const SweepSpec& spec, const std::vector<SweepRun>& runs,
                                    const std::string& flag = "--resume");

// With --emit-jobs into a folder that already holds a sweep (its
// sweep.yaml): why the manifest must not be replaced, or nullopt. Without
// `resume` the folder must hold this very sweep (scenario file, varied
// fields and values, fixed --set values, seeds); with it the plan may
// differ, as for a resumed run. Either way every finished run there must
// still be what this command gives it (StaleRun), also in a folder
// without sweep.yaml (nobody's sweep, but it may hold runs).
std::optional<std::string> EmitJobsProblem(const SweepSpec& spec,
                                           const std::vector<SweepRun>& runs, bool resume);

// A plain sweep (neither --resume nor --emit-jobs) into a folder whose
// sweep.yaml names another sweep (another plan: the differences
// EmitJobsProblem refuses without --resume) or cannot be read: why it must
// not replace that sweep's table, or nullopt. The same sweep again is
// fine: its runs are made again.
std::optional<std::string> SweepOverAnotherProblem(const SweepSpec& spec,
                                                   const std::vector<SweepRun>& runs);

// Merges the sweep folders `dirs` (each with sweep.yaml and runs/) into one
// table, rows in manifest order, folders in the order given. The folders
// must vary the same fields, in any order; the table's columns and its
// runs' names follow the first folder's order. Every run's
// scenario.yaml must already have its parameter values, fixed overrides
// and seed (a folder from another sweep is rejected). A run listed in
// several folders is one row, from the first folder (in the order given)
// whose copy is complete; copies that give other results are problems,
// damaged copies beside a good one are notes. The commands that
// redo a run (in `problems`, and MergedRun::command) start with `program`
// and write to DIR/runs/NAME of the folder as given, wherever the sweep
// was first made: a sweep folder may have been copied or moved since.
MergeResult MergeSweeps(const std::vector<std::string>& dirs, const std::string& program);

// A table merged to a file of its own (`sim merge DIR... --out FILE.csv`)
// has no sweep.yaml beside it; it gets FILE.sweep.yaml instead (the path
// without its last extension, plus ".sweep.yaml"), which plot_sweep.py
// reads to name the scenario and fixed --set values in the figure.
std::string MergedManifestPath(const std::string& csv_path);

// The text of that manifest: scenario, params, sets, the sweep folders
// merged and every run of the table with its folder, seed, values and
// command. Every relative path in it, those inside the commands included,
// is relative to the manifest's own folder (the table's), as its first
// line says: the commands run from there, and the table and its sweep
// folders can move together. Folders are always written that way (absolute
// only if there is no relative path); the scenario file and the program
// are absolute when they were given so.
std::string MergedManifest(const MergeResult& merged, const std::string& csv_path);

// Whether `path` holds a table `sim sweep` or `sim merge` wrote: a file
// whose first line is a sweep.csv header ("run,seed,", the varied fields,
// then the metric columns of kSweepMetrics; the first kSweepMetricsAlways
// of them suffice, as in tables written before piece_granular_s).
bool IsSweepTable(const std::string& path);
// Whether `path` holds a manifest MergedManifest wrote: its first line is
// the comment MergedManifest starts with (`scenario:` in older ones), and
// it is a YAML map with `merged` and `runs`. Both read at most the first
// 64 KiB of a file that is neither.
bool IsMergedManifest(const std::string& path);

}  // namespace swarm::sim

#endif  // SWARM_SIM_SWEEP_H_
