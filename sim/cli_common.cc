#include "sim/cli_common.h"

#include <iostream>
#include <variant>

#include "sim/scenario_yaml.h"

namespace swarm::sim {

std::optional<Scenario> LoadOrReport(const std::string& file,
                                     const std::vector<std::string>& sets) {
  auto r = LoadScenario(file, sets);
  if (auto* e = std::get_if<ScenarioLoadError>(&r)) {
    std::cerr << e->message << "\n";
    return std::nullopt;
  }
  return std::get<Scenario>(std::move(r));
}

bool Reported(const std::optional<std::string>& problem) {
  if (problem) std::cerr << *problem << "\n";
  return problem.has_value();
}

std::string DisplayProgram(const std::string& argv0) {
  return argv0.find('/') == std::string::npos ? "sim" : argv0;
}

}  // namespace swarm::sim
