// `swarm run-scenario FILE`: a simulator scenario on real sockets. Writes
// the same result folder as `sim run`, with "mode": "real".
#include <cmath>
#include <cstdlib>
#include <iostream>

#include "core/units.h"
#include "net-real/cli/commands.h"
#include "net-real/cli/console.h"
#include "net-real/scenario_runner.h"
#include "sim/cli_checks.h"
#include "sim/results.h"
#include "sim/scenario_warnings.h"
#include "sim/scenario_yaml.h"

namespace swarm::net::cli {
namespace {

// --max-wall: bare seconds (any size: 1e300 means "no limit") or a
// duration with its unit, as everywhere else.
std::optional<double> WallBudgetSeconds(const std::string& text) {
  char* end = nullptr;
  const double plain = std::strtod(text.c_str(), &end);
  if (!text.empty() && end == text.c_str() + text.size()) {
    if (std::isfinite(plain) && plain > 0) return plain;
    return std::nullopt;
  }
  const std::optional<core::Duration> d = core::ParseDuration(text);
  if (!d || *d <= core::Duration::Zero()) return std::nullopt;
  return d->seconds();
}

}  // namespace

int RunScenario(const std::string& file, const std::vector<std::string>& sets,
                std::optional<uint64_t> seed, std::string out_dir,
                const std::string& max_wall) {
  const std::optional<double> max_wall_s = WallBudgetSeconds(max_wall);
  if (!max_wall_s) {
    std::cerr << "swarm: error: --max-wall: expected a positive number of seconds or a duration "
                 "(e.g. 90, 90s, 30min), got '"
              << max_wall << "'\n";
    return 2;
  }
  if (auto problem = sim::SeedSetProblem(sets)) {  // as sim run refuses it
    std::cerr << *problem << "\n";
    return 2;
  }
  auto loaded = sim::LoadScenario(file, sets);
  if (auto* e = std::get_if<sim::ScenarioLoadError>(&loaded)) {
    std::cerr << e->message << "\n";
    return 2;
  }
  sim::Scenario s = std::get<sim::Scenario>(std::move(loaded));
  if (seed) s.seed = *seed;
  // The simulator's warnings (nobody can complete, a block too short for
  // the µs clock, a max_time below the bound), as `sim run` prints them.
  for (const std::string& warning : sim::ScenarioWarnings(s)) {
    std::cerr << "swarm: warning: " << file << ": " << warning << "\n";
  }
  if (out_dir.empty()) out_dir = "results/" + s.name + "-real-seed" + std::to_string(s.seed);
  // Checked now: a run takes up to --max-wall, and its results must land.
  if (auto problem = sim::OutDirProblem(out_dir)) {
    std::cerr << "swarm: error: --out " << out_dir << ": " << *problem << "\n";
    return 2;
  }
  RealRunOptions options;
  options.max_wall_s = *max_wall_s;
  // Ctrl-C (its signal blocked since main) stops the run with the usual
  // teardown, so the peers' temporary folder (up to 64 copies of the file)
  // is removed.
  bool interrupted = false;
  options.interrupted = [&interrupted] {
    interrupted = interrupted || WaitForSignal(std::chrono::milliseconds(0));
    return interrupted;
  };
  std::vector<std::string> notes;
  if (auto refusal = RealRunRefusal(s, options)) {
    std::cerr << "swarm: error: " << file << ": " << *refusal << "\n";
    return 2;
  }
  std::string error;
  std::cerr << "swarm: running " << s.name << " (" << s.TotalPeers()
            << " peers) on 127.0.0.1 in wall-clock time\n";
  auto r = RunScenarioOnLoopback(s, options, &notes, &error);
  for (const auto& n : notes) std::cerr << "swarm: note: " << n << "\n";
  if (!r && interrupted) {
    std::cerr << "swarm: interrupted; nothing written\n";
    return 130;
  }
  if (!r) {
    std::cerr << "swarm: error: " << file << ": " << error << "\n";
    return 1;
  }
  if (auto err = sim::WriteResultFolder(out_dir, s, *r)) {  // "mode": "real"
    std::cerr << "swarm: error: " << *err << "\n";
    return 1;
  }
  std::cout << sim::HumanSummary(s, *r, sim::Summarize(s, *r));
  std::cout << "  results        " << out_dir << "\n";
  return 0;
}

}  // namespace swarm::net::cli
