// The checks that finished runs already in a sweep folder belong to this
// sweep (sweep.h): StaleRun for --resume, EmitJobsProblem for --emit-jobs,
// and RunFolderDone, which lets an interrupted sweep resume.
#include <filesystem>
#include <map>
#include <set>
#include <variant>

#include "sim/build_info.h"
#include "sim/scenario_diff.h"
#include "sim/scenario_yaml.h"
#include "sim/sweep.h"
#include "sim/sweep_folder.h"

namespace swarm::sim {
namespace {

namespace fs = std::filesystem;

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

}  // namespace

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

namespace {

// How the sweep in manifest `m` differs from the one `spec` and `runs`
// plan ("" when it is the same sweep): the same scenario file (by where it
// is, from the folder each command runs in), varied fields, fixed values
// and runs. The program, --no-memory-check and where the paths start may
// differ: they do not change a result.
std::string SweepDifference(const SweepSpec& spec, const std::vector<SweepRun>& runs,
                            const Manifest& m) {
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
  return difference;
}

// Why the folder's sweep.yaml names another sweep than this one, or
// nullopt (also when there is none). `where` starts the message, `fate`
// says what would become of that sweep.
std::optional<std::string> AnotherSweepThere(const SweepSpec& spec,
                                             const std::vector<SweepRun>& runs,
                                             const std::string& where, const std::string& fate) {
  std::error_code ec;
  if (!fs::exists(fs::path(spec.out_dir) / "sweep.yaml", ec)) return std::nullopt;
  auto read = ReadManifest(spec.out_dir);
  if (auto* e = std::get_if<std::string>(&read))
    return where + ": holds a sweep.yaml that cannot be read (" + *e +
           "); give this sweep a new --out, or remove " + spec.out_dir + " first";
  const std::string difference = SweepDifference(spec, runs, std::get<Manifest>(read));
  if (difference.empty()) return std::nullopt;
  return where + ": holds another sweep (" + difference + "); " + fate +
         ". Give this sweep a new --out, remove " + spec.out_dir +
         " first, or add --resume to extend that sweep (its finished runs must be runs of "
         "this command)";
}

}  // namespace

std::optional<std::string> EmitJobsProblem(const SweepSpec& spec,
                                           const std::vector<SweepRun>& runs, bool resume) {
  std::error_code ec;
  const std::string where = "--emit-jobs --out " + spec.out_dir;
  // Without a manifest the folder names no sweep, but finished runs under
  // runs/ may still be there: they must be runs of this command, as for
  // a local --resume.
  if (!resume) {
    if (auto problem =
            AnotherSweepThere(spec, runs, where, "its runs would stay beside this one's jobs"))
      return problem;
  } else if (fs::exists(fs::path(spec.out_dir) / "sweep.yaml", ec)) {
    auto read = ReadManifest(spec.out_dir);
    if (auto* e = std::get_if<std::string>(&read))
      return where + ": holds a sweep.yaml that cannot be read (" + *e +
             "); give this sweep a new --out, or remove " + spec.out_dir + " first";
  }
  return StaleRun(spec, runs, where);
}

std::optional<std::string> SweepOverAnotherProblem(const SweepSpec& spec,
                                                   const std::vector<SweepRun>& runs) {
  return AnotherSweepThere(spec, runs, "--out " + spec.out_dir,
                           "this sweep would replace its table and leave its runs beside "
                           "this one's");
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
