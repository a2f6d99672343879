#include "sim/theory/theory.h"

#include <algorithm>

namespace swarm::sim::theory {

SwarmBounds ComputeSwarmBounds(const DistributionProblem& problem) {
  SwarmBounds b;
  b.kumar_ross_s = KumarRossMinTime(problem);
  b.piece_granular_s = PieceGranularBoundIfApplies(problem);
  b.rank_bounds_s = KumarRossRankBounds(problem);
  // Both are lower bounds on the same makespan, so their maximum is one too.
  b.makespan_bound_s =
      std::max(b.kumar_ross_s, b.piece_granular_s.value_or(0.0));
  return b;
}

}  // namespace swarm::sim::theory
