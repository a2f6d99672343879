#include "sim/sweep.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>
#include <sstream>

#include "sim/memory_estimate.h"
#include "sim/scenario_warnings.h"
#include "sim/scenario_yaml.h"
#include "sim/write_file.h"

namespace swarm::sim {

const char* const kSweepMetrics[kSweepMetricsCount] = {
    "completed", "mean_completion_s", "median_completion_s", "p90_completion_s",
    "makespan_s", "efficiency", "kumar_ross_s", "piece_granular_s",
    "piece_granular_is_bound",
    "leechers_time_avg", "seeds_time_avg", "seeds_from_leechers_time_avg",
    "upload_utilization_time_avg", "availability_min_time_avg", "availability_min_lowest",
    "availability_entropy_time_avg",
    "fluid_x", "fluid_y", "fluid_download_time_s"};

const char* const kSweepWindowColumns[5] = {
    "leechers_in_window", "completed_in_window", "mean_completion_s_in_window",
    "median_completion_s_in_window", "p90_completion_s_in_window"};
const char* const kSweepClassMetrics[kSweepClassMetricsCount] = {
    "completed",      "leechers",         "mean_completion_s", "median_completion_s",
    "bytes_uploaded", "bytes_downloaded", "share_ratio"};

std::string SweepClassColumn(const std::string& klass, const std::string& metric) {
  return klass + "_" + metric;
}

namespace {

constexpr size_t kMaxNameLength = 200;  // NAME_MAX is 255 on Linux

const char* kVaryExample = "(e.g. --vary protocol.piece_selection=rarest_first,random)";

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos - start));
    if (pos == std::string::npos) return out;
    start = pos + 1;
  }
}

bool SafeNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '.' || c == '_' || c == '-';
}

// Percent-encodes every byte that is not safe in a file name, so distinct
// values give distinct names ("1Mbit/s" -> "1Mbit%2Fs").
std::string EscapeName(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (SafeNameChar(c)) {
      out += c;
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(c));
      out += buf;
    }
  }
  return out;
}

std::string RunName(const SweepSpec& spec, const std::vector<std::string>& values,
                    uint64_t seed) {
  std::vector<std::string> keys;
  for (const SweepParam& p : spec.params) keys.push_back(p.key);
  return SweepRunName(keys, values, seed);
}

std::string Assignment(const std::string& key, const std::string& value) {
  return key + "=" + value;
}

// Overrides of one run: fixed --set values first, then the varied ones.
std::vector<std::string> Overrides(const SweepSpec& spec,
                                   const std::vector<std::string>& values) {
  std::vector<std::string> out = spec.sets;
  for (size_t i = 0; i < spec.params.size(); ++i)
    out.push_back(Assignment(spec.params[i].key, values[i]));
  return out;
}

// Every combination of parameter values, first parameter slowest. The
// fields of a group varied together (a parameter and those after it that
// are `with_previous`) take their i-th values in the same combination.
// REQUIRES: the fields of a group have as many values each.
std::vector<std::vector<std::string>> Combinations(const SweepSpec& spec) {
  std::vector<std::vector<std::string>> out = {{}};
  const std::vector<SweepParam>& params = spec.params;
  for (size_t first = 0; first < params.size();) {
    size_t end = first + 1;
    while (end < params.size() && params[end].with_previous) ++end;
    std::vector<std::vector<std::string>> next;
    for (const auto& prefix : out) {
      for (size_t i = 0; i < params[first].values.size(); ++i) {
        next.push_back(prefix);
        for (size_t k = first; k < end; ++k) next.back().push_back(params[k].values[i]);
      }
    }
    out = std::move(next);
    first = end;
  }
  return out;
}

// The fields of the group varied together that holds spec.params[k], as
// "A=... B=..." for messages, or "" when it is a --vary of its own.
std::string GroupText(const SweepSpec& spec, size_t k) {
  size_t first = k, end = k + 1;
  while (first > 0 && spec.params[first].with_previous) --first;
  while (end < spec.params.size() && spec.params[end].with_previous) ++end;
  if (end - first < 2) return "";
  std::string text;
  for (size_t i = first; i < end; ++i) text += (i > first ? " " : "") + spec.params[i].key;
  return text;
}

std::string KeyOf(const std::string& assignment) {
  return assignment.substr(0, assignment.find('='));
}

// The loader names overrides "--set K=V"; say --vary for the varied ones.
std::string BlameVary(std::string message, const SweepSpec& spec,
                      const std::vector<std::string>& values) {
  for (size_t i = 0; i < spec.params.size(); ++i) {
    std::string as_set = "--set " + Assignment(spec.params[i].key, values[i]);
    size_t pos = message.find(as_set);
    const char* flag = GroupText(spec, i).empty() ? "--vary " : "--vary-together ";
    if (pos != std::string::npos)
      message.replace(pos, as_set.size(), flag + Assignment(spec.params[i].key, values[i]));
  }
  return message;
}

// Calls fn(scenario, values) for every grid point whose scenario loads
// (CheckSweepSpec reports the ones that do not).
template <typename Fn>
void ForEachPointScenario(const SweepSpec& spec, Fn fn) {
  for (const auto& values : Combinations(spec)) {
    auto r = LoadScenario(spec.scenario_file, Overrides(spec, values));
    if (const Scenario* s = std::get_if<Scenario>(&r)) fn(*s, values);
  }
}

}  // namespace

std::string SweepRunName(const std::vector<std::string>& keys,
                         const std::vector<std::string>& values, uint64_t seed) {
  std::string name;
  for (size_t i = 0; i < keys.size(); ++i)
    name += EscapeName(keys[i]) + "=" + EscapeName(values[i]) + "__";
  return name + "seed=" + std::to_string(seed);
}

std::variant<SweepParam, std::string> ParseVary(const std::string& text) {
  std::string where = "--vary '" + text + "': ";
  size_t eq = text.find('=');
  if (eq == std::string::npos)
    return where + "expected KEY=V1,V2,... " + kVaryExample;
  SweepParam p;
  p.key = text.substr(0, eq);
  if (p.key.empty()) return where + "no field path before '=' " + kVaryExample;
  if (p.key.find('[') != std::string::npos) {
    std::string dotted;
    for (char c : p.key) {
      if (c == '[') dotted += '.';
      else if (c != ']') dotted += c;
    }
    return where + "list elements take a dot, not brackets: write " + dotted;
  }
  for (char c : p.key) {
    if (!SafeNameChar(c))
      return where + "field path '" + p.key + "' may only contain letters, digits, '.', "
                                              "'_' and '-' " + kVaryExample;
  }
  std::string list = text.substr(eq + 1);
  if (list.empty()) return where + "no values after '=' " + kVaryExample;
  // Brackets that do not close over the whole list were cut before they
  // reached us: the shell splits an unquoted --vary 'k={at: 3s}' at its
  // space.
  int list_open = 0;
  for (char c : list) list_open += (c == '{' || c == '[') - (c == '}' || c == ']');
  if (list_open < 0) return where + "a '}' or ']' closes nothing";
  if (list_open > 0)
    return where + "a '{' or '[' is not closed: a value with { } or [ ] must be one shell "
                   "word; quote the whole --vary argument (e.g. --vary "
                   "'peers.0.leave={at: 30s},{at: 60s}')";
  std::set<std::string> seen;
  std::vector<std::string> values = Split(list, ',');
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i].empty())
      return where + "value " + std::to_string(i + 1) + " is empty (stray comma?)";
    // {uniform: [1ms, 9ms]} was cut at its comma and then refused by the
    // YAML parser with a message about a sequence flow.
    int open = 0;
    for (char c : values[i]) open += (c == '{' || c == '[') - (c == '}' || c == ']');
    if (open != 0)
      return where + "value '" + values[i] +
             "' is cut at a comma inside brackets: values are split at every comma; "
             "vary a field inside instead (e.g. network.latency.uniform.1=40ms,60ms)";
    if (!seen.insert(values[i]).second)
      return where + "value '" + values[i] + "' is given twice";
  }
  p.values = std::move(values);
  return p;
}

std::variant<std::vector<SweepParam>, std::string> ParseVaryTogether(
    const std::vector<std::string>& fields) {
  std::string all;
  for (const std::string& f : fields) all += (all.empty() ? "" : " ") + f;
  const std::string where = "--vary-together " + all + ": ";
  if (fields.size() < 2)
    return where + "needs two or more fields that move together (e.g. --vary-together "
                   "peers.1.upload=1Mbit/s,2Mbit/s peers.1.download=8Mbit/s,16Mbit/s); "
                   "vary one field with --vary";
  std::vector<SweepParam> out;
  for (const std::string& f : fields) {
    auto p = ParseVary(f);
    if (auto* e = std::get_if<std::string>(&p)) {
      std::string message = *e;
      if (f.find('=') == std::string::npos)
        message += "; a --vary-together takes every field up to the next option, so give the "
                   "scenario file before it";
      return message.replace(0, 6, "--vary-together");  // "--vary '...': ..."
    }
    out.push_back(std::get<SweepParam>(std::move(p)));
    out.back().with_previous = out.size() > 1;
  }
  for (const SweepParam& p : out) {
    if (p.values.size() != out[0].values.size())
      return where + "its fields move in lock step, so each needs as many values: " +
             std::to_string(out[0].values.size()) + " for " + out[0].key + ", " +
             std::to_string(p.values.size()) + " for " + p.key;
  }
  return out;
}

std::optional<std::string> CheckSweepSpec(const SweepSpec& spec) {
  if (spec.seeds == 0) return "--seeds must be at least 1";
  if (spec.seed_base > UINT64_MAX - (spec.seeds - 1))
    return "--seed-base + --seeds runs past the largest seed (2^64 - 1)";
  std::set<std::string> keys;
  for (const std::string& s : spec.sets) {
    if (KeyOf(s) == "seed") return "--set seed=...: give seeds with --seeds/--seed-base";
    keys.insert(KeyOf(s));
  }
  std::set<std::string> varied;
  for (const SweepParam& p : spec.params) {
    if (p.key == "seed") return "--vary seed=...: give seeds with --seeds/--seed-base";
    if (!varied.insert(p.key).second) return "--vary " + p.key + " is given twice";
    if (keys.count(p.key)) return p.key + " is given both with --set and with --vary";
  }
  for (size_t k = 1; k < spec.params.size(); ++k) {
    const SweepParam& p = spec.params[k];
    size_t first = k;
    while (first > 0 && spec.params[first].with_previous) --first;
    if (p.with_previous && p.values.size() != spec.params[first].values.size())
      return "--vary-together " + GroupText(spec, k) +
             ": its fields move in lock step, so each needs as many values: " +
             std::to_string(spec.params[first].values.size()) + " for " +
             spec.params[first].key + ", " + std::to_string(p.values.size()) + " for " + p.key;
  }
  for (const auto& values : Combinations(spec)) {
    auto r = LoadScenario(spec.scenario_file, Overrides(spec, values));
    if (auto* e = std::get_if<ScenarioLoadError>(&r)) return BlameVary(e->message, spec, values);
    std::string name = RunName(spec, values, spec.seed_base + spec.seeds - 1);
    if (name.size() > kMaxNameLength)
      return "run folder name too long (" + std::to_string(name.size()) + " > " +
             std::to_string(kMaxNameLength) + " characters): " + name +
             "; vary fewer fields or shorter values";
  }
  return std::nullopt;
}

bool SweepMeasuresAWindow(const SweepSpec& spec) {
  bool any = false;
  ForEachPointScenario(spec, [&](const Scenario& s, const auto&) { any = any || s.measure.has_value(); });
  return any;
}

std::vector<std::string> SweepClasses(const SweepSpec& spec) {
  std::vector<std::string> out;
  ForEachPointScenario(spec, [&](const Scenario& s, const auto&) {
    for (const PeerClassSpec& k : s.peers) {
      if (!k.start_complete && std::find(out.begin(), out.end(), k.name) == out.end())
        out.push_back(k.name);
    }
  });
  return out;
}

std::optional<std::string> LineBreakProblem(const SweepSpec& spec) {
  auto broken = [](const std::string& s) { return s.find('\n') != std::string::npos; };
  std::string what;
  if (broken(spec.scenario_file)) what = "the scenario file's name";
  for (const std::string& s : spec.sets)
    if (what.empty() && broken(s)) what = "--set " + KeyOf(s);
  for (const SweepParam& p : spec.params) {
    for (const std::string& v : p.values)
      if (what.empty() && broken(v)) what = "a value of --vary " + p.key;
  }
  if (what.empty() && broken(spec.out_dir)) what = "the sweep folder's name (--out)";
  if (what.empty()) return std::nullopt;
  return what + " has a line break; jobs.txt and --emit-jobs give each run's command on "
         "one line, which it would split: rename it or choose another value";
}

std::vector<SweepRun> PlanSweep(const SweepSpec& spec) {
  std::vector<SweepRun> runs;
  for (const auto& values : Combinations(spec)) {
    for (uint64_t seed = spec.seed_base; seed < spec.seed_base + spec.seeds; ++seed)
      runs.push_back(SweepRun{RunName(spec, values, seed), seed, values});
  }
  return runs;
}

SweepMemory LargestRunMemory(const SweepSpec& spec) {
  SweepMemory m;
  ForEachPointScenario(spec, [&](const Scenario& s, const auto&) {
    m.largest = std::max(m.largest, EstimateRunMemory(s));
    m.largest_firm = std::max(m.largest_firm, FirmRunMemory(s));
  });
  return m;
}

std::vector<SweepWarning> SweepWarnings(const SweepSpec& spec) {
  std::vector<std::string> base;  // empty when the base alone does not load
  const auto loaded = LoadScenario(spec.scenario_file, spec.sets);
  if (const Scenario* s = std::get_if<Scenario>(&loaded)) base = ScenarioWarnings(*s);
  std::vector<bool> base_used(base.size(), false);
  std::vector<SweepWarning> extra;
  ForEachPointScenario(spec, [&](const Scenario& s, const std::vector<std::string>& values) {
    std::string point;
    for (size_t i = 0; i < spec.params.size(); ++i)
      point += (i ? " " : "") + Assignment(spec.params[i].key, values[i]);
    for (std::string& w : ScenarioWarnings(s)) {
      auto in_base = std::find(base.begin(), base.end(), w);
      if (in_base != base.end()) {
        base_used[in_base - base.begin()] = true;
        continue;
      }
      auto same = std::find_if(extra.begin(), extra.end(),
                               [&](const SweepWarning& e) { return e.text == w; });
      if (same == extra.end()) {
        extra.push_back(SweepWarning{std::move(w), {point}});
      } else if (same->points.back() != point) {  // the same text twice in one run
        same->points.push_back(point);
      }
    }
  });
  std::vector<SweepWarning> out;
  for (size_t i = 0; i < base.size(); ++i) {
    if (base_used[i] && std::find_if(out.begin(), out.end(), [&](const SweepWarning& e) {
                          return e.text == base[i];
                        }) == out.end())
      out.push_back(SweepWarning{base[i], {}});
  }
  for (SweepWarning& w : extra) out.push_back(std::move(w));
  return out;
}

unsigned JobsThatFit(unsigned jobs, double per_run, double have) {
  if (per_run <= 0 || have <= 0) return jobs;
  const double fit = std::floor(have / per_run);
  return fit < 1 ? 1 : fit < jobs ? static_cast<unsigned>(fit) : jobs;
}

std::vector<std::string> RunArguments(const SweepSpec& spec, const SweepRun& run) {
  std::vector<std::string> args = {"run", spec.scenario_file, "--seed",
                                   std::to_string(run.seed)};
  for (const std::string& o : Overrides(spec, run.values)) {
    args.push_back("--set");
    args.push_back(o);
  }
  args.push_back("--out");
  args.push_back((std::filesystem::path(spec.out_dir) / "runs" / run.name).string());
  args.push_back("--quiet");
  if (spec.no_memory_check) args.push_back("--no-memory-check");
  return args;
}

std::string ShellCommand(const std::string& program, const std::vector<std::string>& args) {
  auto quote = [](const std::string& a) {
    bool plain = !a.empty();
    for (char c : a) plain = plain && (SafeNameChar(c) || std::string("/=:,%+@").find(c) !=
                                                                std::string::npos);
    if (plain) return a;
    std::string q = "'";
    for (char c : a) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
  };
  std::string cmd = quote(program);
  for (const std::string& a : args) cmd.append(" ").append(quote(a));
  return cmd;
}

std::optional<std::string> WriteSweepManifest(const SweepSpec& spec,
                                              const std::vector<SweepRun>& runs,
                                              const std::string& program) {
  std::error_code ec;
  std::filesystem::create_directories(spec.out_dir, ec);
  if (ec) return spec.out_dir + ": cannot create directory: " + ec.message();
  YAML::Emitter y;
  y << YAML::BeginMap << YAML::Key << "scenario" << YAML::Value << spec.scenario_file;
  // The folder the sweep ran in: the relative paths above and in the
  // commands below are relative to it. `sim merge` run from elsewhere
  // uses it to find the scenario for its redo commands.
  const std::filesystem::path made_in = std::filesystem::current_path(ec);
  if (!ec) y << YAML::Key << "made_in" << YAML::Value << made_in.string();
  y << YAML::Key << "params" << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const SweepParam& p : spec.params) y << p.key;
  y << YAML::EndSeq << YAML::Key << "sets" << YAML::Value << YAML::Flow << spec.sets;
  if (spec.no_memory_check) y << YAML::Key << "no_memory_check" << YAML::Value << true;
  y << YAML::Key << "runs" << YAML::Value << YAML::BeginSeq;
  std::string jobs;
  for (const SweepRun& r : runs) {
    std::string cmd = ShellCommand(program, RunArguments(spec, r));
    jobs += cmd + "\n";
    y << YAML::BeginMap << YAML::Key << "run" << YAML::Value << r.name;
    y << YAML::Key << "seed" << YAML::Value << r.seed;
    y << YAML::Key << "values" << YAML::Value << YAML::Flow << r.values;
    y << YAML::Key << "command" << YAML::Value << cmd << YAML::EndMap;
  }
  y << YAML::EndSeq << YAML::EndMap;
  const std::pair<const char*, std::string> files[] = {
      {"sweep.yaml", std::string(y.c_str()) + "\n"}, {"jobs.txt", jobs}};
  for (const auto& [name, text] : files) {
    if (auto err = WriteFileWhole(std::filesystem::path(spec.out_dir) / name, text)) return err;
  }
  return std::nullopt;
}

}  // namespace swarm::sim
