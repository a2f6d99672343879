#include "sim/sweep_folder.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

#include "sim/scenario_yaml.h"
#include "sim/sweep.h"

namespace swarm::sim {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> ReadText(const fs::path& path, std::string* text) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return path.string() + ": missing";
  std::stringstream ss;
  ss << in.rdbuf();
  *text = ss.str();
  return std::nullopt;
}

// The number as printed in summary.json, or "" for null.
std::string Number(const YAML::Node& n, const char* field) {
  if (!n || n.IsNull()) return "";
  if (!n.IsScalar()) throw YAML::Exception(YAML::Mark::null_mark(),
                                           std::string("field ") + field + " is not a number");
  return n.Scalar();
}

// The number at `section`.`field` of summary.json, "" when the section is
// null or missing (a summary.json written before it existed).
std::string Inner(const YAML::Node& s, const char* section, const char* field) {
  const YAML::Node n = s[section];
  if (!n || !n.IsMap()) return "";
  const std::string where = std::string(section) + "." + field;
  return Number(n[field], where.c_str());
}

// A JSON boolean as 1 or 0, "" for null or missing.
std::string Flag(const YAML::Node& s, const char* section, const char* field) {
  const YAML::Node n = s[section];
  if (!n || !n.IsMap() || !n[field] || n[field].IsNull()) return "";
  return n[field].as<bool>() ? "1" : "0";
}

// The metric cells of one run, in kSweepMetrics order.
std::vector<std::string> Metrics(const YAML::Node& s) {
  return {Number(s["peers"]["completed"], "peers.completed"),
          Number(s["completion_time_s"]["mean"], "completion_time_s.mean"),
          Number(s["completion_time_s"]["median"], "completion_time_s.median"),
          Number(s["completion_time_s"]["p90"], "completion_time_s.p90"),
          Number(s["makespan_s"], "makespan_s"),
          Number(s["efficiency"], "efficiency"),
          Number(s["bounds"]["kumar_ross_s"], "bounds.kumar_ross_s"),
          Inner(s, "bounds", "piece_granular_s"),
          Flag(s, "bounds", "piece_granular_is_bound"),
          Inner(s, "over_time", "leechers"),
          Inner(s, "over_time", "seeds"),
          Inner(s, "over_time", "seeds_from_leechers"),
          Inner(s, "over_time", "upload_utilization"),
          Inner(s, "over_time", "availability_min"),
          Inner(s, "over_time", "lowest_availability_min"),
          Inner(s, "over_time", "availability_entropy"),
          Inner(s, "fluid_model", "leechers"),
          Inner(s, "fluid_model", "seeds"),
          Inner(s, "fluid_model", "download_time_s")};
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
      cells.emplace_back(SweepClassColumn(c, m),
                         per && per[m] ? Number(per[m], where.c_str()) : "");
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

}  // namespace

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

std::string BuildLabel(const std::string& version, const std::string& build) {
  return version + " build " + build;
}

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

std::variant<Cells, std::string> ReadRun(const fs::path& run_dir, const Manifest& m,
                                         const Manifest::Run& r, std::string* version,
                                         RunEnd* end) {
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

std::optional<std::string> Experiment(const fs::path& run_dir,
                                      const std::vector<std::string>& params,
                                      const std::vector<std::string>& values, std::string* out) {
  std::vector<std::string> overrides;
  for (size_t i = 0; i < params.size(); ++i) overrides.push_back(params[i] + "=" + values[i]);
  overrides.push_back("seed=0");
  std::string text;
  return Reresolve(run_dir, overrides, &text, out);
}

std::string ScenarioFromHere(const Manifest& m) {
  if (fs::path(m.scenario).is_relative() && !m.made_in.empty()) {
    const fs::path there = (fs::path(m.made_in) / m.scenario).lexically_normal();
    std::error_code ec;
    if (fs::exists(there, ec) && !fs::equivalent(m.scenario, there, ec)) return there.string();
  }
  return m.scenario;
}

std::string RunCommandLine(const std::string& program,
                           const std::string& scenario,
                           const std::vector<std::string>& params,
                           const std::vector<std::string>& sets,
                           const std::string& dir, const std::string& name,
                           uint64_t seed,
                           const std::vector<std::string>& values,
                           bool no_memory_check) {
  SweepSpec spec;
  spec.no_memory_check = no_memory_check;
  spec.scenario_file = scenario;
  for (const std::string& key : params) spec.params.push_back({key, {}});
  spec.sets = sets;
  spec.out_dir = dir;
  return ShellCommand(program, RunArguments(spec, SweepRun{name, seed, values}));
}

std::string RedoCommand(const Manifest& m, const std::string& dir, const Manifest::Run& r,
                        const std::string& program) {
  return RunCommandLine(program, ScenarioFromHere(m), m.params, m.sets, dir,
                        r.name, r.seed, r.values, m.no_memory_check);
}

}  // namespace swarm::sim
