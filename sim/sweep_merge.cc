// MergeSweeps (sweep.h): sweep folders -> one sweep.csv.
//
// summary.json is read with yaml-cpp (JSON is YAML); numbers are copied as
// the simulator printed them, so merging never changes a digit.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <variant>

#include "sim/build_info.h"
#include "sim/scenario_yaml.h"
#include "sim/sweep.h"

namespace swarm::sim {
namespace {

namespace fs = std::filesystem;

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

std::optional<std::string> ReadText(const fs::path& path, std::string* text) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return path.string() + ": missing";
  std::stringstream ss;
  ss << in.rdbuf();
  *text = ss.str();
  return std::nullopt;
}

std::variant<Manifest, std::string> ReadManifest(const std::string& dir) {
  std::string path = (fs::path(dir) / "sweep.yaml").string();
  try {
    YAML::Node y = YAML::LoadFile(path);
    Manifest m;
    m.scenario = y["scenario"].as<std::string>();
    if (y["made_in"]) m.made_in = y["made_in"].as<std::string>();
    m.params = y["params"].as<std::vector<std::string>>();
    m.sets = y["sets"].as<std::vector<std::string>>();
    m.no_memory_check = y["no_memory_check"] && y["no_memory_check"].as<bool>();
    for (const YAML::Node& r : y["runs"]) {
      m.runs.push_back({r["run"].as<std::string>(), r["seed"].as<uint64_t>(),
                        r["values"].as<std::vector<std::string>>()});
      if (m.runs.back().values.size() != m.params.size())
        return path + ": run " + m.runs.back().name + " has the wrong number of values";
    }
    return m;
  } catch (const YAML::BadFile&) {
    return path + ": cannot read (not a sweep folder? it needs sweep.yaml from `sim sweep`)";
  } catch (const YAML::Exception& e) {
    return path + ": not a sweep manifest: " + e.what();
  }
}

// What tells two builds apart in a run's summary.json: the project version
// (the same at every commit) and the commit it was built from.
std::string BuildLabel(const std::string& version, const std::string& build) {
  return version + " build " + build;
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

// The number as printed in summary.json, or "" for null.
std::string Number(const YAML::Node& n, const char* field) {
  if (!n || n.IsNull()) return "";
  if (!n.IsScalar()) throw YAML::Exception(YAML::Mark::null_mark(),
                                           std::string("field ") + field + " is not a number");
  return n.Scalar();
}

// A run's cells in sweep.csv after its values: (column, cell), the
// kSweepMetrics in that order, then the per-class columns of its classes
// that download, in scenario order.
using Cells = std::vector<std::pair<std::string, std::string>>;

// The metric cells of one run, in kSweepMetrics order.
std::vector<std::string> Metrics(const YAML::Node& s) {
  return {Number(s["peers"]["completed"], "peers.completed"),
          Number(s["completion_time_s"]["mean"], "completion_time_s.mean"),
          Number(s["completion_time_s"]["median"], "completion_time_s.median"),
          Number(s["completion_time_s"]["p90"], "completion_time_s.p90"),
          Number(s["makespan_s"], "makespan_s"),
          Number(s["efficiency"], "efficiency"),
          Number(s["bounds"]["kumar_ross_s"], "bounds.kumar_ross_s"),
          Number(s["bounds"]["piece_granular_s"], "bounds.piece_granular_s")};
}

// The classes of the run's resolved scenario whose peers download (do not
// start complete), in scenario order.
std::vector<std::string> DownloadingClasses(const fs::path& run_dir) {
  std::vector<std::string> out;
  const YAML::Node y = YAML::LoadFile((run_dir / "scenario.yaml").string());
  for (const YAML::Node& c : y["peers"]) {
    if (!c["start"] || c["start"].as<std::string>() != "complete")
      out.push_back(c["class"].as<std::string>());
  }
  return out;
}

// Every cell of one run: the metrics, then for each class of `classes`
// its columns (SweepClassColumn), copied from summary.json's per_class
// (empty where a summary.json written before a field existed lacks it).
Cells RunCells(const YAML::Node& s, const std::vector<std::string>& classes) {
  Cells cells;
  const std::vector<std::string> metrics = Metrics(s);
  for (size_t k = 0; k < metrics.size(); ++k) cells.emplace_back(kSweepMetrics[k], metrics[k]);
  for (const std::string& c : classes) {
    const YAML::Node per = s["per_class"][c];
    for (const char* m : kSweepClassMetrics) {
      const std::string where = "per_class." + c + "." + m;
      cells.emplace_back(SweepClassColumn(c, m), per ? Number(per[m], where.c_str()) : "");
    }
  }
  if (const YAML::Node w = s["measured"]) {
    const YAML::Node t = w["completion_time_s"];
    const std::string cell[5] = {
        Number(w["leechers"], "measured.leechers"), Number(w["completed"], "measured.completed"),
        Number(t["mean"], "measured.completion_time_s.mean"),
        Number(t["median"], "measured.completion_time_s.median"),
        Number(t["p90"], "measured.completion_time_s.p90")};
    for (size_t k = 0; k < 5; ++k) cells.emplace_back(kSweepWindowColumns[k], cell[k]);
  }
  return cells;
}

// Reads the run's scenario.yaml into *text and resolves it again with
// `overrides` applied on top; *resolved is the result as it would be written.
std::optional<std::string> Reresolve(const fs::path& run_dir,
                                     const std::vector<std::string>& overrides,
                                     std::string* text, std::string* resolved) {
  fs::path path = run_dir / "scenario.yaml";
  if (auto e = ReadText(path, text)) return e;
  auto parsed = ParseScenario(path.string(), *text, overrides);
  if (auto* e = std::get_if<ScenarioLoadError>(&parsed)) return e->message;
  *resolved = EmitScenario(std::get<Scenario>(parsed));
  return std::nullopt;
}

// Does the run's resolved scenario already have the values and seed it
// should? Applying them again must change nothing.
std::optional<std::string> CheckScenario(const fs::path& run_dir, const Manifest& m,
                                         const Manifest::Run& r) {
  std::vector<std::string> overrides = m.sets;
  for (size_t i = 0; i < m.params.size(); ++i) overrides.push_back(m.params[i] + "=" + r.values[i]);
  overrides.push_back("seed=" + std::to_string(r.seed));
  std::string text, resolved;
  if (auto e = Reresolve(run_dir, overrides, &text, &resolved)) return e;
  if (resolved == text) return std::nullopt;
  // Say which: a folder this binary would have written differently even
  // without the run's values came from another version of sim (a new field,
  // another number format), whose results may differ too.
  std::string rewritten;
  if (!Reresolve(run_dir, {}, &text, &rewritten) && rewritten != text)
    return (run_dir / "scenario.yaml").string() +
           ": written by another version of sim (this one writes it differently); run it again";
  return (run_dir / "scenario.yaml").string() +
         ": was not made with this run's parameters and seed (a folder from another sweep?)";
}

// Are the run's CSV files as long as its summary.json says they were
// written? A truncated or half-copied peers.csv would otherwise pass for a
// finished run. Folders written before the sizes were recorded have no
// `csv_bytes` and are not checked.
std::optional<std::string> CheckCsvBytes(const fs::path& run_dir, const YAML::Node& summary) {
  const YAML::Node sizes = summary["csv_bytes"];
  if (!sizes) return std::nullopt;
  for (const char* name : {"peers.csv", "timeline.csv"}) {
    const uint64_t written = sizes[name].as<uint64_t>();  // throws if missing
    std::error_code ec;
    const uint64_t now = fs::file_size(run_dir / name, ec);
    if (ec) return (run_dir / name).string() + ": cannot read: " + ec.message();
    if (now != written)
      return (run_dir / name).string() + ": " + std::to_string(now) + " bytes, but " +
             std::to_string(written) +
             " were written (summary.json's csv_bytes): cut short or changed since";
  }
  return std::nullopt;
}

// How a run ended, from its summary.json: "stopped" ("" in folders written
// before it was recorded) and peers.completed / peers.leechers as printed.
struct RunEnd {
  std::string stopped, completed, leechers;
  bool CutAtMaxTime() const {
    return stopped == "max_time" && !completed.empty() && completed != leechers;
  }
};

// Reads one run folder into its cells (those after run, seed and values);
// sets *end when given.
std::variant<Cells, std::string> ReadRun(const fs::path& run_dir, const Manifest& m,
                                         const Manifest::Run& r, std::string* version,
                                         RunEnd* end = nullptr) {
  fs::path summary = run_dir / "summary.json";
  if (!fs::exists(summary)) return summary.string() + ": missing (run not done?)";
  // summary.json is written after these: without one, the folder was
  // damaged or copied back in part, and plot_run.py could not read it.
  for (const char* name : {"peers.csv", "timeline.csv"}) {
    if (!fs::exists(run_dir / name)) return (run_dir / name).string() + ": missing";
  }
  if (auto e = CheckScenario(run_dir, m, r)) return *e;
  try {
    YAML::Node s = YAML::LoadFile(summary.string());
    if (s["seed"].as<uint64_t>() != r.seed) return summary.string() + ": wrong seed";
    if (auto e = CheckCsvBytes(run_dir, s)) return *e;
    // `build` is missing in folders written before it was recorded.
    *version = BuildLabel(s["version"].as<std::string>(),
                          s["build"] ? s["build"].as<std::string>() : "unknown");
    if (end) {
      end->stopped = s["stopped"] ? s["stopped"].as<std::string>() : "";
      end->completed = Number(s["peers"]["completed"], "peers.completed");
      end->leechers = Number(s["peers"]["leechers"], "peers.leechers");
    }
    return RunCells(s, DownloadingClasses(run_dir));
  } catch (const YAML::Exception& e) {
    return summary.string() + ": cannot read: " + e.what();
  }
}

// The run's resolved scenario with the varied fields set to `values` and
// the seed to 0: the same text for every run of one experiment, whatever
// its values and seed. Returns an error, or nothing and sets `*out`.
std::optional<std::string> Experiment(const fs::path& run_dir,
                                      const std::vector<std::string>& params,
                                      const std::vector<std::string>& values, std::string* out) {
  std::vector<std::string> overrides;
  for (size_t i = 0; i < params.size(); ++i) overrides.push_back(params[i] + "=" + values[i]);
  overrides.push_back("seed=0");
  std::string text;
  return Reresolve(run_dir, overrides, &text, out);
}

// The scenario file of a manifest, as a path usable from the current
// folder. A relative path is relative to where the sweep ran; merged from
// another folder, it names the file that sweep used (made_in joined to the
// path) when that file is still there.
std::string ScenarioFromHere(const Manifest& m) {
  if (fs::path(m.scenario).is_relative() && !m.made_in.empty()) {
    const fs::path there = (fs::path(m.made_in) / m.scenario).lexically_normal();
    std::error_code ec;
    if (fs::exists(there, ec) && !fs::equivalent(m.scenario, there, ec)) return there.string();
  }
  return m.scenario;
}

// The `sim run` that makes run `name` in DIR/runs/NAME of the folder `dir`,
// starting with `program`, with the scenario file `scenario`.
std::string RunCommand(const std::string& program, const std::string& scenario,
                       const std::vector<std::string>& params,
                       const std::vector<std::string>& sets, const std::string& dir,
                       const std::string& name, uint64_t seed,
                       const std::vector<std::string>& values, bool no_memory_check) {
  SweepSpec spec;
  spec.no_memory_check = no_memory_check;
  spec.scenario_file = scenario;
  for (const std::string& key : params) spec.params.push_back({key, {}});
  spec.sets = sets;
  spec.out_dir = dir;
  return ShellCommand(program, RunArguments(spec, SweepRun{name, seed, values}));
}

// The `sim run` that makes run `r` in DIR/runs/NAME of the folder `dir`
// being merged, starting with `program`. Not the command in sweep.yaml:
// that one writes where the sweep was made, and a sweep folder may have
// been copied or moved since (docs/sweeps.md suggests copying run folders
// between machines); redone there, a run would land in the old folder.
std::string RedoCommand(const Manifest& m, const std::string& dir, const Manifest::Run& r,
                        const std::string& program) {
  return RunCommand(program, ScenarioFromHere(m), m.params, m.sets, dir, r.name, r.seed,
                    r.values, m.no_memory_check);
}

// The first place where two YAML trees differ, as a dotted path ("" for the
// root) and the value at that place in each ("(none)" where there is none).
bool FirstDifference(const YAML::Node& a, const YAML::Node& b, const std::string& path,
                     std::string* where, std::string* in_a, std::string* in_b) {
  // A scalar in double quotes (backslash, quote and control bytes escaped), so a
  // value with spaces, commas or colons cannot run into the text around it;
  // a list or map as flow YAML, which its brackets delimit.
  auto show = [](const YAML::Node& n) -> std::string {
    if (!n.IsDefined() || n.IsNull()) return "(none)";
    if (n.IsScalar()) {
      std::string q = "\"";
      for (unsigned char c : n.Scalar()) {
        if (c == '"' || c == '\\') {
          q += '\\';
          q += static_cast<char>(c);
        } else if (c == '\n') {
          q += "\\n";
        } else if (c < 0x20 || c == 0x7f) {
          static const char* const kHex = "0123456789abcdef";
          q += "\\x";
          q += kHex[c >> 4];
          q += kHex[c & 15];
        } else {
          q += static_cast<char>(c);
        }
      }
      return q + "\"";
    }
    YAML::Emitter e;
    e << YAML::Flow << n;
    return e.c_str();
  };
  auto child = [&](const std::string& key) { return path.empty() ? key : path + "." + key; };
  if (a.IsDefined() && b.IsDefined() && a.Type() == b.Type()) {
    if (a.IsMap()) {
      for (const auto& kv : a) {
        const std::string key = kv.first.Scalar();
        if (FirstDifference(kv.second, b[key], child(key), where, in_a, in_b)) return true;
      }
      for (const auto& kv : b) {
        const std::string key = kv.first.Scalar();
        if (!a[key] && FirstDifference(a[key], kv.second, child(key), where, in_a, in_b))
          return true;
      }
      return false;
    }
    if (a.IsSequence()) {
      for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
        if (FirstDifference(a[i], b[i], child(std::to_string(i)), where, in_a, in_b))
          return true;
      }
      return false;
    }
    if (!a.IsScalar() || a.Scalar() == b.Scalar()) return false;
  } else if (!a.IsDefined() && !b.IsDefined()) {
    return false;
  }
  *where = path;
  *in_a = show(a);
  *in_b = show(b);
  return true;
}

// The first field in which two resolved scenarios differ, as
// "FIELD: VALUE_A LABEL_A, VALUE_B LABEL_B" (values as FirstDifference
// shows them: scalars quoted), or "" when none is found (or
// a text is not YAML). The one comparison behind both --resume (StaleRun)
// and merge's one-experiment check.
std::string ScenarioDifference(const std::string& a, const std::string& b,
                               const std::string& label_a, const std::string& label_b) {
  std::string where, in_a, in_b;
  try {
    if (FirstDifference(YAML::Load(a), YAML::Load(b), "", &where, &in_a, &in_b))
      return where + ": " + in_a + " " + label_a + ", " + in_b + " " + label_b;
  } catch (const YAML::Exception&) {
  }
  return "";
}

// Whether the fixed overrides `sets` give every run of `runs` the scenario
// that spec.sets gives it, with the scenario file as it is now: the same
// --set values in another order are the same sweep (the loader refuses the
// orders that would matter: a field set twice, a section after a field in
// it), as are spellings of one field (peers.01.count, peers.1.count). Either
// list failing to load is a difference.
bool SameSetsEffect(const SweepSpec& spec, const std::vector<SweepRun>& runs,
                    const std::vector<std::string>& sets) {
  std::set<std::vector<std::string>> seen;
  for (const SweepRun& run : runs) {
    if (!seen.insert(run.values).second) continue;
    std::string resolved[2];
    for (int i = 0; i < 2; ++i) {
      std::vector<std::string> overrides = i == 0 ? spec.sets : sets;
      for (size_t k = 0; k < spec.params.size(); ++k)
        overrides.push_back(spec.params[k].key + "=" + run.values[k]);
      auto loaded = LoadScenario(spec.scenario_file, overrides);
      const Scenario* s = std::get_if<Scenario>(&loaded);
      if (s == nullptr) return false;
      resolved[i] = EmitScenario(*s);
    }
    if (resolved[0] != resolved[1]) return false;
  }
  return true;
}

// Why the sweep folder `dir`, which varies `params`, cannot join a table
// of `first`, which varies `first_params`: what each varies, the first
// field only one of them varies, and what to do.
std::string DifferentFields(const std::string& dir, const std::vector<std::string>& params,
                            const std::string& first,
                            const std::vector<std::string>& first_params) {
  auto list = [](const std::vector<std::string>& keys) {
    std::string text;
    for (const std::string& k : keys) text += (text.empty() ? "" : ", ") + k;
    return text.empty() ? std::string("none") : text;
  };
  auto has = [](const std::vector<std::string>& keys, const std::string& key) {
    return std::find(keys.begin(), keys.end(), key) != keys.end();
  };
  std::string example;  // a field varied by one of them only
  for (const std::string& k : first_params)
    if (example.empty() && !has(params, k)) example = k;
  for (const std::string& k : params)
    if (example.empty() && !has(first_params, k)) example = k;
  return dir + ": varies different fields than " + first + " (" + list(params) + " there, " +
         list(first_params) + " in " + first +
         "); cannot merge them. The folders of one table must vary the same fields, in any "
         "order: rerun one of the sweeps with the other's --vary fields" +
         (example.empty() ? std::string()
                          : " (a field it keeps fixed takes one value: --vary " + example +
                                "=VALUE, without a --set of it)");
}

// The table's header: run, seed, `params`, then `metrics` (kSweepMetrics
// and the per-class columns).
std::string Header(const std::vector<std::string>& params,
                   const std::vector<std::string>& metrics) {
  std::string h = "run,seed";
  for (const std::string& p : params) h.append(",").append(CsvField(p));
  for (const std::string& metric : metrics) h.append(",").append(CsvField(metric));
  return h + "\n";
}

// What tells two good copies of one run apart: the cells that differ and
// the builds that made them, as "COLUMN A vs B, made by X vs Y", or "".
// Copies of one run have the same scenario, so the same columns.
template <typename Good>
std::string Differences(const Good& a, const Good& b) {
  std::string differences;
  for (size_t k = 0; k < std::min(a.cells.size(), b.cells.size()); ++k) {
    if (a.cells[k] != b.cells[k])
      differences += std::string(differences.empty() ? "" : ", ") + a.cells[k].first + " " +
                     a.cells[k].second + " vs " + b.cells[k].second;
  }
  if (a.version != b.version)
    differences += std::string(differences.empty() ? "" : ", ") + "made by " + a.version +
                   " vs " + b.version;
  return differences;
}

// For a folder that varies `fields`, where the table's columns are among
// them: column k of the table (`table_fields`[k]) holds the values of its
// field number [k].
std::vector<size_t> FieldColumns(const std::vector<std::string>& table_fields,
                                 const std::vector<std::string>& fields) {
  std::vector<size_t> where;
  for (const std::string& key : table_fields)
    where.push_back(
        static_cast<size_t>(std::find(fields.begin(), fields.end(), key) - fields.begin()));
  return where;
}

// One merge (MergeSweeps), step by step: every folder's manifest first, so
// that the runs of one name are compared across all the folders that list
// it; then each run, in table order, from the copies the folders hold of
// it; then the table. A step that finds the folders cannot be merged sets
// the result's `fatal` and returns false; the result is then as far as it
// got.
class Merger {
 public:
  explicit Merger(const std::string& program) { out_.program = program; }

  // Reads the manifests of `dirs`, each folder once.
  bool ReadManifests(const std::vector<std::string>& dirs);
  // Lists each run once, where it first appears, with every folder that
  // lists it.
  void ListCopies();
  // Puts each run into the table, from its first good copy.
  bool MergeRuns();
  // The table's text, and what needs saying about all of its runs.
  void WriteTable();

  MergeResult Take() { return std::move(out_); }

 private:
  // A folder's copy of a run. A run is known by its name in the table's
  // order of fields: in a folder that varies them in another order, its
  // folder has another name.
  struct Copy {
    size_t folder;  // index into manifests_ / out_.dirs
    const Manifest::Run* run;
    std::vector<std::string> values;  // run->values in the table's order
  };
  // A copy that reads as a whole run of the table's experiment.
  struct Good {
    const Copy* copy;
    Cells cells;
    std::string version;
    RunEnd end;
  };
  using Bad = std::pair<const Copy*, std::string>;  // the copy, why it is not good

  bool AddManifest(const std::string& dir);
  bool MergeRun(const std::string& name);
  // Reads every copy of the run `name` into `good` and `bad`.
  bool ReadCopies(const std::string& name, std::vector<Good>* good, std::vector<Bad>* bad);
  // Why the copy `c`, in `run_dir`, cannot be compared with the table's
  // experiment, or nullopt; sets out_.fatal when it is of another one.
  std::optional<std::string> CheckExperiment(const Copy& c, const fs::path& run_dir);
  // No good copy of the run `name`: every copy's reason, then one command.
  void ReportNoGoodCopy(const std::string& name, const std::vector<Bad>& bad);
  void NoteDamagedCopies(const Good& used, const std::vector<Bad>& bad);
  // Whether the good copies agree with the first; reports those that do not.
  bool CopiesAlike(const std::string& name, const std::vector<Good>& good);
  void AddRow(const std::string& name, const Good& used);

  MergeResult out_;
  std::vector<Manifest> manifests_;
  // For each folder, where the table's columns are among its own --vary
  // fields (FieldColumns).
  std::vector<std::vector<size_t>> columns_;
  std::vector<std::string> canonical_;  // each folder's canonical path
  std::vector<std::string> order_;      // the runs' names, in table order
  std::map<std::string, std::vector<Copy>> copies_;
  std::set<std::string> versions_;
  std::optional<std::string> reference_;  // Experiment() of the first good run
  std::vector<std::string> reference_values_;
  std::string reference_dir_, reference_name_;
  size_t shared_ = 0;  // runs with more than one good copy, all alike
  // The table's rows (run, seed and values as CSV; the cells) and, in order
  // of first appearance, the columns after the values: kSweepMetrics, then
  // the per-class columns, classes in scenario order.
  std::vector<std::pair<std::string, Cells>> rows_;
  std::vector<std::string> columns_after_{std::begin(kSweepMetrics), std::end(kSweepMetrics)};
};

bool Merger::ReadManifests(const std::vector<std::string>& dirs) {
  for (const std::string& dir : dirs) {
    if (!AddManifest(dir)) return false;
  }
  return true;
}

bool Merger::AddManifest(const std::string& dir) {
  std::error_code ec;
  std::string id = fs::weakly_canonical(fs::absolute(dir, ec), ec).string();
  if (std::find(canonical_.begin(), canonical_.end(), id) != canonical_.end()) {
    out_.notes.push_back(dir + ": given twice; read once");
    return true;
  }
  auto read = ReadManifest(dir);
  if (auto* e = std::get_if<std::string>(&read)) {
    out_.fatal = *e;
    return false;
  }
  Manifest& m = std::get<Manifest>(read);
  if (manifests_.empty()) {
    out_.scenario = ScenarioFromHere(m);
    out_.params = m.params;
    out_.sets = m.sets;
  }
  // The same fields in another order are the same grid (--vary a --vary b
  // or --vary b --vary a): the table keeps the first folder's order.
  std::vector<std::string> mine = m.params, theirs = out_.params;
  std::sort(mine.begin(), mine.end());
  std::sort(theirs.begin(), theirs.end());
  if (mine != theirs) {
    out_.fatal = DifferentFields(dir, m.params, out_.dirs[0], out_.params);
    return false;
  }
  columns_.push_back(FieldColumns(out_.params, m.params));
  canonical_.push_back(id);
  out_.dirs.push_back(dir);
  manifests_.push_back(std::move(m));
  return true;
}

void Merger::ListCopies() {
  for (size_t i = 0; i < manifests_.size(); ++i) {
    const bool reordered = manifests_[i].params != out_.params;
    for (const Manifest::Run& r : manifests_[i].runs) {
      std::vector<std::string> values;
      for (size_t k : columns_[i]) values.push_back(r.values[k]);
      const std::string name = reordered ? SweepRunName(out_.params, values, r.seed) : r.name;
      auto [it, fresh] = copies_.try_emplace(name);
      if (fresh) order_.push_back(name);
      it->second.push_back({i, &r, std::move(values)});
    }
  }
  out_.expected = static_cast<uint32_t>(order_.size());
}

bool Merger::MergeRuns() {
  for (const std::string& name : order_) {
    if (!MergeRun(name)) return false;
  }
  return true;
}

bool Merger::MergeRun(const std::string& name) {
  std::vector<Good> good;
  std::vector<Bad> bad;
  if (!ReadCopies(name, &good, &bad)) return false;
  if (good.empty()) {
    ReportNoGoodCopy(name, bad);
    return true;
  }
  NoteDamagedCopies(good.front(), bad);
  if (CopiesAlike(name, good) && good.size() > 1) ++shared_;
  AddRow(name, good.front());
  return true;
}

bool Merger::ReadCopies(const std::string& name, std::vector<Good>* good,
                        std::vector<Bad>* bad) {
  for (const Copy& c : copies_[name]) {
    const fs::path run_dir = fs::path(out_.dirs[c.folder]) / "runs" / c.run->name;
    std::string version;
    RunEnd end;
    auto row = ReadRun(run_dir, manifests_[c.folder], *c.run, &version, &end);
    if (auto* e = std::get_if<std::string>(&row)) {
      bad->emplace_back(&c, *e);
      continue;
    }
    if (auto e = CheckExperiment(c, run_dir)) {
      bad->emplace_back(&c, *e);
      continue;
    }
    if (out_.fatal) return false;
    good->push_back({&c, std::get<Cells>(std::move(row)), version, end});
  }
  return true;
}

std::optional<std::string> Merger::CheckExperiment(const Copy& c, const fs::path& run_dir) {
  // Sweeps of other scenarios or other --set values vary the same
  // fields too; their runs must not land in one table, not even as
  // copies of a run of the same name.
  const std::string& dir = out_.dirs[c.folder];
  if (!reference_) reference_values_ = c.values;
  std::string experiment;
  if (auto e = Experiment(run_dir, out_.params, reference_values_, &experiment)) return e;
  if (!reference_) {
    reference_ = experiment;
    reference_dir_ = dir;
    reference_name_ = c.run->name;
  } else if (*reference_ != experiment) {
    // Both texts have the varied fields at the first run's values and
    // seed 0, so the field named is one the sweeps did not vary.
    std::string field = ScenarioDifference(experiment, *reference_, "in this run",
                                           "in " + reference_dir_ + "/runs/" + reference_name_);
    out_.fatal = dir + ": run " + c.run->name + " is a different experiment from those in " +
                 reference_dir_ + " (" + (field.empty() ? "" : field + "; ") +
                 "apart from the varied fields and the seed, the runs of one table must "
                 "have the same scenario: was the scenario file edited, or another file or "
                 "other --set values given, between the sweeps?); cannot merge them";
  }
  return std::nullopt;
}

void Merger::ReportNoGoodCopy(const std::string& name, const std::vector<Bad>& bad) {
  // The command redoes the run where it was first listed.
  const Copy& first = copies_[name].front();
  std::string text;
  for (const auto& [copy, why] : bad) text += (text.empty() ? "" : "\n    ") + why;
  out_.problems.push_back(text + "\n    redo: " +
                          RedoCommand(manifests_[first.folder], out_.dirs[first.folder],
                                      *first.run, out_.program));
}

void Merger::NoteDamagedCopies(const Good& used, const std::vector<Bad>& bad) {
  const std::string& used_dir = out_.dirs[used.copy->folder];
  for (const auto& [copy, why] : bad) {
    // A folder without this run at all is the usual case of copies that
    // split the runs between them; one that has it damaged is worth a note.
    std::error_code ec;
    if (fs::exists(fs::path(out_.dirs[copy->folder]) / "runs" / copy->run->name, ec))
      out_.notes.push_back(why + "\n    used the copy in " + used_dir + " instead");
  }
}

bool Merger::CopiesAlike(const std::string& name, const std::vector<Good>& good) {
  const std::string& used_dir = out_.dirs[good.front().copy->folder];
  bool alike = true;
  for (size_t g = 1; g < good.size(); ++g) {
    const std::string differences = Differences(good.front(), good[g]);
    if (differences.empty()) continue;
    alike = false;
    out_.problems.push_back(name + ": the copies in " + used_dir + " and " +
                            out_.dirs[good[g].copy->folder] + " disagree (" + differences +
                            "); the table has the one in " + used_dir +
                            ". Runs are deterministic, so one of them was changed or made "
                            "by another build: remove or redo it");
  }
  return alike;
}

void Merger::AddRow(const std::string& name, const Good& used) {
  const std::string& used_dir = out_.dirs[used.copy->folder];
  const Manifest::Run* used_run = used.copy->run;
  versions_.insert(used.version);
  std::string line = CsvField(name) + "," + std::to_string(used_run->seed);
  for (const std::string& v : used.copy->values) line.append(",").append(CsvField(v));
  rows_.push_back({std::move(line), used.cells});
  for (const auto& [column, cell] : used.cells) {
    if (std::find(columns_after_.begin(), columns_after_.end(), column) == columns_after_.end())
      columns_after_.push_back(column);
  }
  ++out_.rows;
  if (used.end.CutAtMaxTime())
    out_.cut_at_max_time.push_back({name, used.end.completed, used.end.leechers});
  const Manifest& m = manifests_[used.copy->folder];
  out_.runs.push_back({name, used_dir, (fs::path(used_dir) / "runs" / used_run->name).string(),
                       ScenarioFromHere(m), used_run->seed, used.copy->values,
                       RedoCommand(m, used_dir, *used_run, out_.program), m.sets,
                       m.no_memory_check, m.params, used_run->values, used_run->name});
  out_.no_memory_check = out_.no_memory_check || m.no_memory_check;
}

void Merger::WriteTable() {
  // The columns of every row: a class that downloads in some runs only
  // (its `start` varied) has empty cells in the others.
  out_.csv = Header(out_.params, columns_after_);
  for (const auto& [line, cells] : rows_) {
    std::map<std::string, std::string> by_column(cells.begin(), cells.end());
    out_.csv += line;
    for (const std::string& column : columns_after_) out_.csv += "," + by_column[column];
    out_.csv += "\n";
  }
  if (shared_ > 0) {
    out_.notes.push_back(std::to_string(shared_) + (shared_ == 1 ? " run is" : " runs are") +
                         " in more than one folder, alike in each: counted once");
  }
  if (versions_.size() > 1) {
    std::string list;
    for (const std::string& v : versions_) list += (list.empty() ? "" : ", ") + v;
    out_.problems.push_back("runs come from different builds (" + list +
                            "); rerun them with one build");
  }
}

}  // namespace

MergeResult MergeSweeps(const std::vector<std::string>& dirs, const std::string& program) {
  Merger merger(program);
  if (merger.ReadManifests(dirs)) {
    merger.ListCopies();
    if (merger.MergeRuns()) merger.WriteTable();
  }
  return merger.Take();
}

std::string CutAtMaxTimeNote(const MergeResult& merged) {
  const auto& cut = merged.cut_at_max_time;
  if (cut.empty()) return "";
  const size_t shown = std::min<size_t>(cut.size(), 3);
  std::string list;
  for (size_t i = 0; i < shown; ++i) {
    list += (i ? ", " : "") + cut[i].name + ": " + cut[i].completed + " of " + cut[i].leechers;
  }
  if (cut.size() > shown) list += ", and " + std::to_string(cut.size() - shown) + " more";
  return std::to_string(cut.size()) + " of " + std::to_string(merged.rows) +
         " runs stopped at stop.max_time before every leecher finished (" + list +
         " completed): their download times count only the leechers that finished, and "
         "they have no makespan";
}

std::string MergedManifestPath(const std::string& csv_path) {
  fs::path p(csv_path);
  return (p.parent_path() / (p.stem().string() + ".sweep.yaml")).string();
}

std::string MergedManifest(const MergeResult& merged, const std::string& csv_path) {
  std::error_code ec;
  const fs::path base =
      fs::weakly_canonical(fs::absolute(fs::path(csv_path), ec).parent_path(), ec);
  // `path` (relative to the current folder, or absolute) from the table's
  // folder; absolute if there is no relative path. The folders above it
  // are resolved (a `..` must lead where it says), not the last part: a
  // program reached through a link stays that link.
  auto from_table = [&](const std::string& path) {
    std::error_code e;
    const fs::path full = fs::absolute(path, e).lexically_normal();
    fs::path last = full.filename();
    fs::path parent = full.parent_path();
    if (last.empty()) {  // "dir/"
      last = parent.filename();
      parent = parent.parent_path();
    }
    const fs::path resolved = fs::weakly_canonical(parent, e) / last;
    fs::path rel = resolved.lexically_relative(base);
    if (e || rel.empty()) return full.string();
    return rel.string();
  };
  // The same, but an absolute path stays as it was given.
  auto rebased = [&](const std::string& path) {
    return fs::path(path).is_absolute() ? path : from_table(path);
  };
  // A program found on PATH (no '/') stays a bare name; a relative one
  // keeps a '/' so that the shell does not look it up on PATH instead.
  std::string program = merged.program;
  if (program.find('/') != std::string::npos && fs::path(program).is_relative()) {
    program = from_table(program);
    if (program.find('/') == std::string::npos) program = "./" + program;
  }
  YAML::Emitter y;
  y << YAML::Comment(
      "Written by `sim merge` for the table beside it. Every relative path here, those in "
      "the commands too, is relative to the folder this file is in: run the commands from "
      "there.");
  y << YAML::BeginMap << YAML::Key << "scenario" << YAML::Value << rebased(merged.scenario);
  y << YAML::Key << "params" << YAML::Value << YAML::Flow << merged.params;
  y << YAML::Key << "sets" << YAML::Value << YAML::Flow << merged.sets;
  if (merged.no_memory_check) y << YAML::Key << "no_memory_check" << YAML::Value << true;
  y << YAML::Key << "merged" << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const std::string& d : merged.dirs) y << from_table(d);
  y << YAML::EndSeq << YAML::Key << "runs" << YAML::Value << YAML::BeginSeq;
  for (const MergedRun& r : merged.runs) {
    y << YAML::BeginMap << YAML::Key << "run" << YAML::Value << r.name;
    y << YAML::Key << "folder" << YAML::Value << from_table(r.folder);
    y << YAML::Key << "seed" << YAML::Value << r.seed;
    y << YAML::Key << "values" << YAML::Value << YAML::Flow << r.values;
    y << YAML::Key << "command" << YAML::Value
      << RunCommand(program, rebased(r.scenario), r.folder_params, r.sets, from_table(r.dir),
                    r.folder_name, r.seed, r.folder_values, r.no_memory_check)
      << YAML::EndMap;
  }
  y << YAML::EndSeq << YAML::EndMap;
  return std::string(y.c_str()) + "\n";
}

// The first line of the file at `path`, read no further than 64 KiB (the
// file may be anything, a disk image say); "" if it cannot be read.
std::string FirstLine(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string head(64 * 1024, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  return head.substr(0, head.find('\n'));
}

bool IsSweepTable(const std::string& path) {
  const std::string header = FirstLine(path);
  if (header.rfind("run,seed,", 0) != 0) return false;
  std::set<std::string> columns;
  std::stringstream ss(header);
  for (std::string column; std::getline(ss, column, ',');) columns.insert(column);
  for (size_t i = 0; i < kSweepMetricsAlways; ++i)
    if (!columns.count(kSweepMetrics[i])) return false;
  return true;
}

bool IsMergedManifest(const std::string& path) {
  // What MergedManifest writes first (before it said where paths start
  // from, the scenario): anything else is not parsed at all.
  const std::string first = FirstLine(path);
  if (first.rfind("# Written by `sim merge`", 0) != 0 && first.rfind("scenario:", 0) != 0)
    return false;
  try {
    YAML::Node y = YAML::LoadFile(path);
    return y.IsMap() && y["merged"] && y["runs"];
  } catch (const YAML::Exception&) {
    return false;
  }
}

std::optional<std::string> StaleRun(const SweepSpec& spec, const std::vector<SweepRun>& runs,
                                    const std::string& flag) {
  std::map<std::vector<std::string>, std::optional<Scenario>> now;  // by values
  for (const SweepRun& run : runs) {
    const fs::path run_dir = fs::path(spec.out_dir) / "runs" / run.name;
    std::error_code ec;
    if (!fs::exists(run_dir / "summary.json", ec)) continue;  // not finished: made again
    // The run's own values and seed applied again: a folder of another run
    // of this sweep (copied to the wrong name) is not a changed scenario;
    // it fails RunFolderDone and is made again.
    std::vector<std::string> own;
    for (size_t i = 0; i < spec.params.size(); ++i)
      own.push_back(spec.params[i].key + "=" + run.values[i]);
    own.push_back("seed=" + std::to_string(run.seed));
    std::string text, there;
    if (Reresolve(run_dir, own, &text, &there)) continue;  // unreadable here: made again
    auto [it, fresh] = now.try_emplace(run.values);
    if (fresh) {
      std::vector<std::string> overrides = spec.sets;
      for (size_t i = 0; i < spec.params.size(); ++i)
        overrides.push_back(spec.params[i].key + "=" + run.values[i]);
      auto loaded = LoadScenario(spec.scenario_file, overrides);  // loads: CheckSweepSpec
      if (auto* s = std::get_if<Scenario>(&loaded)) it->second = std::move(*s);
    }
    if (!it->second) continue;
    Scenario s = *it->second;
    s.seed = run.seed;  // as `sim run --seed` sets it
    const std::string here = EmitScenario(s);
    if (here == there) continue;
    std::string detail = ScenarioDifference(there, here, "in that run", "now");
    if (!detail.empty()) detail += "; ";
    return flag + ": " + run_dir.string() +
           ": made from another scenario than this command gives it (" + detail +
           spec.scenario_file + " or the --set values changed since). Its runs and this "
           "command's would mix two experiments in one table: give this sweep a new --out, "
           "or remove " + spec.out_dir + " first";
  }
  return std::nullopt;
}

std::optional<std::string> EmitJobsProblem(const SweepSpec& spec,
                                           const std::vector<SweepRun>& runs, bool resume) {
  std::error_code ec;
  const std::string where = "--emit-jobs --out " + spec.out_dir;
  // Without a manifest the folder names no sweep, but finished runs under
  // runs/ may still be there: they must be runs of this command, as for
  // a local --resume.
  if (!fs::exists(fs::path(spec.out_dir) / "sweep.yaml", ec)) return StaleRun(spec, runs, where);
  auto read = ReadManifest(spec.out_dir);
  if (auto* e = std::get_if<std::string>(&read))
    return where + ": holds a sweep.yaml that cannot be read (" + *e +
           "); give this sweep a new --out, or remove " + spec.out_dir + " first";
  const Manifest& m = std::get<Manifest>(read);
  if (!resume) {
    // The same sweep: the same scenario file (by where it is, from the
    // folder each command runs in), varied fields, fixed values and runs.
    // The program, --no-memory-check and where the paths start may differ:
    // they do not change a result.
    auto file = [](const std::string& made_in, const std::string& path) {
      fs::path p(path);
      if (p.is_relative() && !made_in.empty()) p = fs::path(made_in) / p;
      std::error_code e;
      fs::path full = fs::weakly_canonical(fs::absolute(p, e), e);
      return e ? p.lexically_normal() : full;
    };
    std::error_code e;
    std::string difference;
    std::vector<std::string> keys;
    for (const SweepParam& p : spec.params) keys.push_back(p.key);
    if (file(m.made_in, m.scenario) != file(fs::current_path(e).string(), spec.scenario_file))
      difference = "scenario " + m.scenario + " there, " + spec.scenario_file + " now";
    else if (m.params != keys)
      difference = "other --vary fields";
    else if (m.sets != spec.sets && !SameSetsEffect(spec, runs, m.sets))
      difference = "other --set values";
    else if (m.runs.size() != runs.size())
      difference = std::to_string(m.runs.size()) + " runs there, " +
                   std::to_string(runs.size()) + " now";
    for (size_t i = 0; difference.empty() && i < runs.size(); ++i) {
      if (m.runs[i].name != runs[i].name || m.runs[i].seed != runs[i].seed ||
          m.runs[i].values != runs[i].values)
        difference = "run " + m.runs[i].name + " there, " + runs[i].name + " now";
    }
    if (!difference.empty())
      return where + ": holds another sweep (" + difference +
             "); its runs would stay beside this one's jobs. Give this sweep a new --out, "
             "remove " + spec.out_dir + " first, or add --resume to extend that sweep "
             "(its finished runs must be runs of this command)";
  }
  return StaleRun(spec, runs, where);
}

bool RunFolderDone(const SweepSpec& spec, const SweepRun& run) {
  Manifest m;
  for (const SweepParam& p : spec.params) m.params.push_back(p.key);
  m.sets = spec.sets;
  Manifest::Run r{run.name, run.seed, run.values};
  std::string version;
  auto row = ReadRun(fs::path(spec.out_dir) / "runs" / run.name, m, r, &version);
  return std::holds_alternative<Cells>(row) &&
         version == BuildLabel(Version(), BuildId());
}

}  // namespace swarm::sim
