#include "sim/load_or_report.h"

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

}  // namespace swarm::sim
