// Units for scenario files: the one quantity grammar of core/units.h
// ("25ms", "100MiB", "10Mbit/s", "0.2/s"; a bare number is rejected),
// re-exported into swarm::sim where the scenario parser uses it.
#ifndef SWARM_SIM_UNITS_H_
#define SWARM_SIM_UNITS_H_

#include "core/units.h"

namespace swarm::sim {

using core::FormatBytes;
using core::FormatDuration;
using core::FormatFrequency;
using core::FormatRate;
using core::ParseBytes;
using core::ParseDuration;
using core::ParseFrequency;
using core::ParseRate;

}  // namespace swarm::sim

#endif  // SWARM_SIM_UNITS_H_
