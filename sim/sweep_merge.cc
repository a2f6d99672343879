// MergeSweeps (sweep.h): sweep folders -> one sweep.csv, and the note on
// runs cut at stop.max_time. Reading the folders is sweep_folder.h's.
#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <variant>

#include "sim/scenario_diff.h"
#include "sim/sweep.h"
#include "sim/sweep_folder.h"

namespace swarm::sim {
namespace {

namespace fs = std::filesystem;

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
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
    out_.cut_at_max_time.push_back(
        {name, used.end.completed, used.end.leechers, used.end.stopped == "pieces_lost"});
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
  const bool lost = std::any_of(cut.begin(), cut.end(), [](const auto& c) { return c.pieces_lost; });
  const bool timed_out =
      std::any_of(cut.begin(), cut.end(), [](const auto& c) { return !c.pieces_lost; });
  const std::string how = !lost      ? "at stop.max_time"
                          : timed_out ? "at stop.max_time or with pieces_lost (no leecher could "
                                        "complete any more)"
                                      : "with pieces_lost (no leecher could complete any more)";
  return std::to_string(cut.size()) + " of " + std::to_string(merged.rows) + " runs stopped " +
         how + " before every leecher finished (" + list +
         " completed): their download times count only the leechers that finished, and "
         "they have no makespan";
}

}  // namespace swarm::sim
