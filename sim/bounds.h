// Bounds: the simple closed-form lower bounds on distribution time that every
// run is compared with (docs/theory.md, docs/validation.md).
//
// Kumar & Ross (2006): with seed upload u_s, N leechers with uploads u_i and
// downloads d_i, no leecher set can finish before
//   T_min = max(F/u_s, F/d_min, N*F/(u_s + sum u_i)).
// Piece-granular bound (Mundinger, Weber & Weiss 2008; Bar-Noy & Kipnis): with
// all upload capacities equal to u, the last finish is >= (F/u)(1 +
// floor(log2 N)/M) for M pieces; only reported when the uploads are equal.
//
// The numbers come from the theory module (sim/theory/, docs/theory.md); this
// file only maps a Scenario onto its DistributionProblem (free-riders offer
// zero upload) and keeps the capacity sums `sim bounds` prints. The
// piece-granular bound applies with exactly one seed and equal uploads.
//
// Qiu & Srikant's fluid steady state (sim/theory/fluid_model.h) is computed
// per class that arrives as a Poisson process and leaves after seeding, with
// the upload of the permanent seeds (start complete, never leave) added as
// the model's mu_s. It describes the whole swarm's population only when that
// class is the only one besides permanent seeds: see SwarmFluidSteadyState().
#ifndef SWARM_SIM_BOUNDS_H_
#define SWARM_SIM_BOUNDS_H_

#include <optional>
#include <string>
#include <vector>

#include "sim/scenario.h"
#include "sim/theory/distribution_bounds.h"
#include "sim/theory/fluid_model.h"

namespace swarm::sim {

struct SimpleBounds {
  uint32_t leechers = 0;       // N: peers that start empty
  double file_bits = 0;        // F
  double seed_upload_bps = 0;  // u_s: sum over seeds
  double leecher_upload_bps = 0;  // sum of u_i (free-riders count 0)
  double min_download_bps = 0;    // d_min over leechers
  double max_download_bps = 0;    // d_max over leechers
  double kumar_ross_s = 0;
  std::optional<double> piece_granular_s;
  // Whether piece_granular_s is a lower bound on the makespan: only when no
  // leecher downloads faster than the (equal) upload. A faster downloader
  // can gather one piece from several senders at once and beat it; it is
  // then a reference (docs/theory.md, section 2). False without a
  // piece_granular_s.
  bool piece_granular_is_bound = false;
};

// REQUIRES: scenario.Validate() passed.
SimpleBounds ComputeSimpleBounds(const Scenario& scenario);

// A warning for a scenario that asks for every leecher to complete
// (stop.all_complete) but stops (stop.max_time) before any run could: no
// run of it can get there, which a user should hear before waiting for
// one. The bound is the larger of Kumar-Ross and the piece-granular bound
// (where it applies), counted from the earliest the leechers can arrive;
// and for each later-arriving group of leecher classes, its arrival plus
// the Kumar-Ross bound of the swarm in which every earlier peer is a seed.
// nullopt otherwise, and when a class may fail (the bound then counts
// leechers that need not finish).
// REQUIRES: scenario.Validate() passed.
std::optional<std::string> StopsBeforeBound(const Scenario& scenario);

// The Qiu-Srikant steady state of one class of leechers that arrives as a
// Poisson process and leaves after seeding (the fluid model's assumptions), with
// the scenario's permanent seeds (never leaving, never failing) helping.
// Free-riders and polluters upload 0, as in the Kumar-Ross bound. The
// model has no crashes: a class whose peers may fail gets `skipped`.
struct ClassFluid {
  uint32_t class_index = 0;
  std::string skipped;  // why no steady state was computed, or empty
  theory::FluidSteadyState state;
  uint32_t permanent_seeds = 0;  // peers that start complete, never leave or fail
};
// One entry per such class, in file order (what `sim bounds` prints).
// REQUIRES: scenario.Validate() passed.
std::vector<ClassFluid> ComputeFluid(const Scenario& scenario);

// The steady state of the whole swarm, when the model's assumptions hold for
// every peer: exactly one Poisson/after-complete class of leechers, every
// other class a permanent seed, nobody free-riding, polluting or failing.
// Then the timeline's leechers should settle near `state.leechers` and its
// seeds near `state.seeds + permanent_seeds`. nullopt otherwise.
// REQUIRES: scenario.Validate() passed.
std::optional<ClassFluid> SwarmFluidSteadyState(const Scenario& scenario);

theory::DistributionProblem ToDistributionProblem(const Scenario& scenario);

}  // namespace swarm::sim

#endif  // SWARM_SIM_BOUNDS_H_
