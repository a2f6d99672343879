// Reading and writing scenario files (YAML, via yaml-cpp).
//
// LoadScenario parses a file once into a Scenario, applies command-line
// overrides ("protocol.choker=round_robin", "peers.1.count=500"), and runs
// Scenario::Validate(). Any problem -- bad YAML, an unknown field, a quantity
// without its unit, a negative rate -- yields ONE message of the form
//   FILE:LINE: field 'peers.1.upload': missing unit (e.g. 1Mbit/s)
// (or "FILE: --set K=V: field ..." when the value came from an override).
// No exception leaves this module.
//
// EmitScenario writes the resolved scenario (every default filled in) in the
// same format, so it can be loaded again and gives the same run.
#ifndef SWARM_SIM_SCENARIO_YAML_H_
#define SWARM_SIM_SCENARIO_YAML_H_

#include <string>
#include <variant>
#include <vector>

#include "sim/scenario.h"

namespace swarm::sim {

struct ScenarioLoadError {
  std::string message;  // "FILE:LINE: field 'x.y': problem"
};

// `path` is used in messages; `text` is the file's content.
std::variant<Scenario, ScenarioLoadError> ParseScenario(
    const std::string& path, const std::string& text,
    const std::vector<std::string>& overrides = {});
// Reads `path` and parses it.
std::variant<Scenario, ScenarioLoadError> LoadScenario(
    const std::string& path, const std::vector<std::string>& overrides = {});

std::string EmitScenario(const Scenario& s);

// The one name in `known` that `key` is most likely a slip for (a field,
// a class, a flag), or "" when none is clearly nearest.
std::string ClosestName(const std::string& key, const std::vector<std::string>& known);

}  // namespace swarm::sim

#endif  // SWARM_SIM_SCENARIO_YAML_H_
