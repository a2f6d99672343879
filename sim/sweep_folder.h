// What a sweep folder holds, read back (internal to the sweep files): its
// manifest (sweep.yaml, written by WriteSweepManifest), each run folder's
// cells for sweep.csv, checked to be a whole run of that manifest, and the
// `sim run` commands that make a run again. Used by MergeSweeps
// (sweep_merge.cc), the merged table's manifest (merge_files.cc) and the
// checks of --resume and --emit-jobs (sweep_resume.cc). Plain functions;
// they read files and write none.
#ifndef SWARM_SIM_SWEEP_FOLDER_H_
#define SWARM_SIM_SWEEP_FOLDER_H_

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace swarm::sim {

// A sweep folder's sweep.yaml.
struct Manifest {
  std::string scenario;
  std::string made_in;  // where the sweep ran; empty in older manifests
  std::vector<std::string> params;
  std::vector<std::string> sets;
  bool no_memory_check = false;  // the sweep ran with --no-memory-check
  struct Run {
    std::string name;
    uint64_t seed = 0;
    std::vector<std::string> values;
  };
  std::vector<Run> runs;
};

// Reads DIR/sweep.yaml, or says why it cannot.
std::variant<Manifest, std::string> ReadManifest(const std::string& dir);

// What tells two builds apart in a run's summary.json: the project version
// (the same at every commit) and the commit it was built from.
std::string BuildLabel(const std::string& version, const std::string& build);

// A run's cells in sweep.csv after its values: (column, cell), the
// kSweepMetrics in that order, then the per-class columns of its classes
// that download, in scenario order.
using Cells = std::vector<std::pair<std::string, std::string>>;

// How a run ended, from its summary.json: "stopped" ("" in folders written
// before it was recorded) and peers.completed / peers.leechers as printed.
struct RunEnd {
  std::string stopped, completed, leechers;
  // Stopped before every leecher finished: at stop.max_time, or with
  // pieces_lost (no leecher could complete any more).
  bool CutAtMaxTime() const {
    return (stopped == "max_time" || stopped == "pieces_lost") && !completed.empty() &&
           completed != leechers;
  }
};

// Reads one run folder into its cells (those after run, seed and values);
// sets *end when given.
std::variant<Cells, std::string> ReadRun(const std::filesystem::path& run_dir,
                                         const Manifest& m,
                                         const Manifest::Run& r,
                                         std::string* version,
                                         RunEnd* end = nullptr);

// Reads the run's scenario.yaml into *text and resolves it again with
// `overrides` applied on top; *resolved is the result as it would be
// written. Returns an error, or nullopt.
std::optional<std::string> Reresolve(const std::filesystem::path& run_dir,
                                     const std::vector<std::string>& overrides,
                                     std::string* text, std::string* resolved);

// The run's resolved scenario with the varied fields set to `values` and
// the seed to 0: the same text for every run of one experiment, whatever
// its values and seed. Returns an error, or nothing and sets `*out`.
std::optional<std::string> Experiment(const std::filesystem::path& run_dir,
                                      const std::vector<std::string>& params,
                                      const std::vector<std::string>& values, std::string* out);

// The scenario file of a manifest, as a path usable from the current
// folder. A relative path is relative to where the sweep ran; merged from
// another folder, it names the file that sweep used (made_in joined to the
// path) when that file is still there.
std::string ScenarioFromHere(const Manifest& m);

// The `sim run` that makes run `name` in DIR/runs/NAME of the folder `dir`,
// starting with `program`, with the scenario file `scenario`.
std::string RunCommandLine(const std::string& program,
                           const std::string& scenario,
                           const std::vector<std::string>& params,
                           const std::vector<std::string>& sets,
                           const std::string& dir, const std::string& name,
                           uint64_t seed,
                           const std::vector<std::string>& values,
                           bool no_memory_check);

// The `sim run` that makes run `r` in DIR/runs/NAME of the folder `dir`
// being merged, starting with `program`. Not the command in sweep.yaml:
// that one writes where the sweep was made, and a sweep folder may have
// been copied or moved since (docs/sweeps.md suggests copying run folders
// between machines); redone there, a run would land in the old folder.
std::string RedoCommand(const Manifest& m, const std::string& dir, const Manifest::Run& r,
                        const std::string& program);

}  // namespace swarm::sim

#endif  // SWARM_SIM_SWEEP_FOLDER_H_
