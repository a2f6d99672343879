// Where two resolved scenarios (EmitScenario's YAML) first differ, for
// messages: the one comparison behind --resume's check that finished runs
// are of this experiment (StaleRun) and merge's one-experiment check.
#ifndef SWARM_SIM_SCENARIO_DIFF_H_
#define SWARM_SIM_SCENARIO_DIFF_H_

#include <string>

namespace swarm::sim {

// The first field in which the resolved scenarios `a` and `b` differ, as
// "FIELD: VALUE_A LABEL_A, VALUE_B LABEL_B" (scalars in double quotes,
// with backslash, quote and control bytes escaped; lists and maps as flow
// YAML), or "" when none is found (or a text is not YAML).
std::string ScenarioDifference(const std::string& a, const std::string& b,
                               const std::string& label_a, const std::string& label_b);

}  // namespace swarm::sim

#endif  // SWARM_SIM_SCENARIO_DIFF_H_
