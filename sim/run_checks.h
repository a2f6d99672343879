// The checks `sim run` makes before it creates or runs anything: whether
// the run fits in memory, and whether --trace may go where it points. Each
// says what is wrong; the caller prints it and exits with code 2.
#ifndef SWARM_SIM_RUN_CHECKS_H_
#define SWARM_SIM_RUN_CHECKS_H_

#include <optional>
#include <string>

#include "sim/scenario.h"

namespace swarm::sim {

// Refuses (false, after saying why) a run whose estimated memory exceeds
// the machine's: it would swap or be killed, after hours. The estimate
// assumes every peer present at once, so only the part of the classes that
// stay to the end (FirmRunMemory) refuses a run; beyond that, a run whose
// peers leave or fail is only warned about, and runs. Notes a large one
// (not --quiet).
bool MemoryFits(const Scenario& s, const std::string& file, bool no_memory_check, bool quiet);

// Why --trace must not go where it points, or nullopt: the scenario being
// run, the --out folder, or a file the run (or --plot) writes there would
// be overwritten by the trace or overwrite it.
std::optional<std::string> TraceClash(const std::string& trace_file, const std::string& file,
                                      const std::string& out_dir);

// Why the --trace file could not be written, or nullopt (also for no
// --trace): it must not be a folder, and its folder must be creatable.
std::optional<std::string> TraceFileProblem(const std::string& trace_file);

}  // namespace swarm::sim

#endif  // SWARM_SIM_RUN_CHECKS_H_
