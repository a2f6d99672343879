// `swarm run-scenario` in a build without the simulator (sim/ absent).
#include <iostream>

#include "net-real/cli/commands.h"

namespace swarm::net::cli {

int RunScenario(const std::string& file, const std::vector<std::string>&,
                std::optional<uint64_t>, std::string, const std::string&) {
  std::cerr << "swarm: run-scenario " << file
            << ": this build has no simulator (sim/); rebuild with it\n";
  return 2;
}

}  // namespace swarm::net::cli
