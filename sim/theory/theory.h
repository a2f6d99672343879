// swarm::sim::theory: what published theory says a swarm can achieve, so a
// simulated (or real) run can be checked against it. See docs/theory.md.
//
// * distribution_bounds.h: Kumar-Ross minimum distribution time and its
//   per-rank form; the piece-granular bound.
// * fluid_model.h: the Qiu-Srikant fluid model (ODE and steady state).
// * flash_crowd.h: Yang-de Veciana's doubling of service capacity.
// * units.h: seconds as double, kNever, Bytes/Rate conversions.
//
// This header adds what the simulator reports per run: SwarmBounds, the lower
// bounds that apply to a static distribution problem, as written to
// summary.json ("bounds": {"kumar_ross_s", "piece_granular_s"}).
//
// Pure functions over values: thread-safe.
#ifndef SWARM_SIM_THEORY_THEORY_H_
#define SWARM_SIM_THEORY_THEORY_H_

#include <optional>
#include <vector>

#include "sim/theory/distribution_bounds.h"
#include "sim/theory/flash_crowd.h"
#include "sim/theory/fluid_model.h"
#include "sim/theory/units.h"

namespace swarm::sim::theory {

struct SwarmBounds {
  double kumar_ross_s = 0;                 // KumarRossMinTime().
  std::optional<double> piece_granular_s;  // When its assumptions hold.
  std::vector<double> rank_bounds_s;       // KumarRossRankBounds().
  // The tightest lower bound on the makespan: the larger of the two. (The
  // efficiency in summary.json is defined on kumar_ross_s: VALIDATION.md.)
  double makespan_bound_s = 0;
};

// Every bound that applies to `problem`.
SwarmBounds ComputeSwarmBounds(const DistributionProblem& problem);

}  // namespace swarm::sim::theory

#endif  // SWARM_SIM_THEORY_THEORY_H_
