// MergeSweeps (sweep.h): sweep folders -> one sweep.csv.
//
// summary.json is read with yaml-cpp (JSON is YAML); numbers are copied as
// the simulator printed them, so merging never changes a digit.
#include <yaml-cpp/yaml.h>

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

// The metric cells of one run, in kSweepMetrics order.
std::vector<std::string> Metrics(const YAML::Node& s) {
  return {Number(s["peers"]["completed"], "peers.completed"),
          Number(s["completion_time_s"]["mean"], "completion_time_s.mean"),
          Number(s["completion_time_s"]["median"], "completion_time_s.median"),
          Number(s["completion_time_s"]["p90"], "completion_time_s.p90"),
          Number(s["makespan_s"], "makespan_s"),
          Number(s["efficiency"], "efficiency"),
          Number(s["bounds"]["kumar_ross_s"], "bounds.kumar_ross_s")};
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

// Reads one run folder into a CSV row (without the leading run,seed,values).
std::variant<std::vector<std::string>, std::string> ReadRun(
    const fs::path& run_dir, const Manifest& m, const Manifest::Run& r, std::string* version) {
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
    return Metrics(s);
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

// The `sim run` that makes run `r` in DIR/runs/NAME of the folder `dir`
// being merged, starting with `program`. Not the command in sweep.yaml:
// that one writes where the sweep was made, and a sweep folder may have
// been copied or moved since (docs/sweeps.md suggests copying run folders
// between machines); redone there, a run would land in the old folder.
std::string RedoCommand(const Manifest& m, const std::string& dir, const Manifest::Run& r,
                        const std::string& program) {
  SweepSpec spec;
  spec.scenario_file = m.scenario;
  // A relative scenario path is relative to where the sweep ran; merged
  // from another folder, the command names the file that sweep used.
  if (fs::path(m.scenario).is_relative() && !m.made_in.empty()) {
    const fs::path there = (fs::path(m.made_in) / m.scenario).lexically_normal();
    std::error_code ec;
    if (fs::exists(there, ec) && !fs::equivalent(m.scenario, there, ec)) {
      spec.scenario_file = there.string();
    }
  }
  for (const std::string& key : m.params) spec.params.push_back({key, {}});
  spec.sets = m.sets;
  spec.out_dir = dir;
  return ShellCommand(program, RunArguments(spec, SweepRun{r.name, r.seed, r.values}));
}

std::string Header(const std::vector<std::string>& params) {
  std::string h = "run,seed";
  for (const std::string& p : params) h.append(",").append(CsvField(p));
  for (const char* metric : kSweepMetrics) h.append(",").append(metric);
  return h + "\n";
}

}  // namespace

MergeResult MergeSweeps(const std::vector<std::string>& dirs, const std::string& program) {
  MergeResult out;
  std::optional<std::vector<std::string>> params;
  std::map<std::string, std::string> seen;  // run name -> sweep folder
  std::set<std::string> versions;
  std::optional<std::string> reference;  // Experiment() of the first good run
  std::vector<std::string> reference_values;
  std::string reference_dir;
  for (const std::string& dir : dirs) {
    auto read = ReadManifest(dir);
    if (auto* e = std::get_if<std::string>(&read)) {
      out.fatal = *e;
      return out;
    }
    const Manifest& m = std::get<Manifest>(read);
    out.dirs.push_back(dir);
    if (!params) {
      params = m.params;
      out.csv = Header(m.params);
      out.scenario = m.scenario;
      out.params = m.params;
      out.sets = m.sets;
    } else if (*params != m.params) {
      out.fatal = dir + ": varies different fields than " + dirs[0] + "; cannot merge them";
      return out;
    }
    auto other_experiment = [&](const Manifest::Run& r) {
      return dir + ": run " + r.name + " is a different experiment from those in " +
             reference_dir +
             " (its scenario differs in more than the varied fields and the seed: "
             "another scenario file or other --set values); cannot merge them";
    };
    for (const Manifest::Run& r : m.runs) {
      ++out.expected;
      if (auto [it, fresh] = seen.emplace(r.name, dir); !fresh) {
        // A run of the same name from another experiment is not a copy:
        // like any other run of it, it stops the merge.
        std::string experiment;
        if (reference && !Experiment(fs::path(dir) / "runs" / r.name, *params,
                                     reference_values, &experiment) &&
            experiment != *reference) {
          out.fatal = other_experiment(r);
          return out;
        }
        out.problems.push_back(r.name + ": in both " + it->second + " and " + dir +
                               "; kept the first");
        continue;
      }
      const std::string command = RedoCommand(m, dir, r, program);
      std::string version;
      auto row = ReadRun(fs::path(dir) / "runs" / r.name, m, r, &version);
      if (auto* e = std::get_if<std::string>(&row)) {
        out.problems.push_back(*e + "\n    redo: " + command);
        continue;
      }
      // Sweeps of other scenarios or other --set values vary the same
      // fields too; their runs must not land in one table.
      const fs::path run_dir = fs::path(dir) / "runs" / r.name;
      if (!reference) reference_values = r.values;
      std::string experiment;
      if (auto e = Experiment(run_dir, *params, reference_values, &experiment)) {
        out.problems.push_back(*e + "\n    redo: " + command);
        continue;
      }
      if (!reference) {
        reference = experiment;
        reference_dir = dir;
      } else if (*reference != experiment) {
        out.fatal = other_experiment(r);
        return out;
      }
      versions.insert(version);
      std::string line = CsvField(r.name) + "," + std::to_string(r.seed);
      for (const std::string& v : r.values) line.append(",").append(CsvField(v));
      for (const std::string& cell : std::get<std::vector<std::string>>(row)) line.append(",").append(cell);
      out.csv += line + "\n";
      ++out.rows;
      out.runs.push_back({r.name, run_dir.string(), r.seed, r.values, command});
    }
  }
  if (versions.size() > 1) {
    std::string list;
    for (const std::string& v : versions) list += (list.empty() ? "" : ", ") + v;
    out.problems.push_back("runs come from different builds (" + list +
                           "); rerun them with one build");
  }
  return out;
}

std::string MergedManifestPath(const std::string& csv_path) {
  fs::path p(csv_path);
  return (p.parent_path() / (p.stem().string() + ".sweep.yaml")).string();
}

std::string MergedManifest(const MergeResult& merged, const std::string& csv_path) {
  std::error_code ec;
  const fs::path base = fs::absolute(fs::path(csv_path), ec).parent_path();
  auto from_table = [&](const std::string& path) {
    std::error_code e;
    fs::path rel = fs::relative(fs::absolute(path, e), base, e);
    if (e || rel.empty()) return fs::absolute(path, e).lexically_normal().string();
    return rel.string();
  };
  YAML::Emitter y;
  y << YAML::BeginMap << YAML::Key << "scenario" << YAML::Value << merged.scenario;
  y << YAML::Key << "params" << YAML::Value << YAML::Flow << merged.params;
  y << YAML::Key << "sets" << YAML::Value << YAML::Flow << merged.sets;
  y << YAML::Key << "merged" << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const std::string& d : merged.dirs) y << from_table(d);
  y << YAML::EndSeq << YAML::Key << "runs" << YAML::Value << YAML::BeginSeq;
  for (const MergedRun& r : merged.runs) {
    y << YAML::BeginMap << YAML::Key << "run" << YAML::Value << r.name;
    y << YAML::Key << "folder" << YAML::Value << from_table(r.folder);
    y << YAML::Key << "seed" << YAML::Value << r.seed;
    y << YAML::Key << "values" << YAML::Value << YAML::Flow << r.values;
    y << YAML::Key << "command" << YAML::Value << r.command << YAML::EndMap;
  }
  y << YAML::EndSeq << YAML::EndMap;
  return std::string(y.c_str()) + "\n";
}

bool RunFolderDone(const SweepSpec& spec, const SweepRun& run) {
  Manifest m;
  for (const SweepParam& p : spec.params) m.params.push_back(p.key);
  m.sets = spec.sets;
  Manifest::Run r{run.name, run.seed, run.values};
  std::string version;
  auto row = ReadRun(fs::path(spec.out_dir) / "runs" / run.name, m, r, &version);
  return std::holds_alternative<std::vector<std::string>>(row) &&
         version == BuildLabel(Version(), BuildId());
}

}  // namespace swarm::sim
