// Units shared by the theory module.
//
// Every result of swarm::sim::theory is a time in seconds held in a `double`.
// We do not return core::Duration because several bounds are legitimately
// infinite (a swarm with no upload capacity never finishes) and the fluid
// model works in continuous time; IEEE +infinity (`kNever`) says "never" and
// survives max/min and comparisons, whereas Duration::Infinite() is a large
// integer that arithmetic would silently overflow. Callers that need a
// Duration convert with ToDuration(), which makes the infinite case explicit.
//
// Inputs use the core unit types: core::Bytes for sizes and core::Rate
// (bytes per second) for capacities, so bits versus bytes is settled at the
// edge: Rate::MegabitsPerSecond(1) is 10^6 bit/s = 125,000 B/s, and
// 100 * core::kMiB is 104,857,600 B (VALIDATION.md).
//
// Rates of the fluid model (arrivals, aborts, departures) are per second, and
// capacities there are in files per second (FilesPerSecond()).
//
// Pure functions over values: thread-safe.
#ifndef SWARM_SIM_THEORY_UNITS_H_
#define SWARM_SIM_THEORY_UNITS_H_

#include <limits>
#include <optional>

#include "core/types.h"

namespace swarm::sim::theory {

// "Never": the value of a bound that cannot be met in finite time.
inline constexpr double kNever = std::numeric_limits<double>::infinity();

// Seconds to move `amount` bytes at `rate`. Moving nothing takes 0 s at any
// rate (even zero); moving something at rate 0 takes kNever. An infinite rate
// (an unlimited link) takes 0 s.
// REQUIRES: amount >= 0, rate >= 0 and not NaN.
double TransferSeconds(core::Bytes amount, core::Rate rate);

// A capacity expressed in whole files per second: rate / file_size. This is
// the unit of Qiu & Srikant's mu and c.
// REQUIRES: file_size > 0, rate >= 0 and not NaN.
double FilesPerSecond(core::Rate rate, core::Bytes file_size);

// `seconds` as a Duration rounded to the microsecond; nullopt when it is
// infinite (or too large for a Duration). REQUIRES: seconds >= 0, not NaN.
std::optional<core::Duration> ToDuration(double seconds);

}  // namespace swarm::sim::theory

#endif  // SWARM_SIM_THEORY_UNITS_H_
