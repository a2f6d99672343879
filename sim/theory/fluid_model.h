// The Qiu & Srikant fluid model of a BitTorrent swarm in steady state.
//
// D. Qiu and R. Srikant, "Modeling and performance analysis of
// BitTorrent-like peer-to-peer networks", SIGCOMM 2004. With x(t) leechers
// and y(t) seeds:
//   dx/dt = lambda - theta*x - min(c*x, mu*(eta*x + y))
//   dy/dt = min(c*x, mu*(eta*x + y)) - gamma*y
// lambda: leecher arrival rate (1/s); theta: rate at which a leecher aborts
// (1/s); gamma: rate at which a seed leaves (1/s, 1/mean seeding time);
// mu, c: one peer's upload and download capacity in files per second (u/F,
// d/F); eta in (0, 1]: efficiency of leechers' upload (the share of it that
// finds something to send; about 1 for a large swarm with many pieces).
// The service rate min(...) is capped either by the leechers' download
// capacity or by the swarm's upload capacity.
//
// Closed-form steady state (theta, eta as above):
//   1/beta = max(1/c, (1/eta)(1/mu - 1/gamma))
//   xbar = lambda/(beta + theta); ybar = lambda/(gamma(1 + theta/beta));
//   T = 1/(theta + beta)   (mean time a leecher spends in the system)
// The system is download-constrained when 1/c is the larger term and
// upload-constrained otherwise (ties count as download-constrained). T does
// not depend on lambda: the swarm's capacity grows with its population.
//
// Permanent seeds (our extension, not in the paper). A scenario that keeps an
// origin seed forever adds its upload to the service capacity:
//   min(c*x, mu*(eta*x + y) + mu_s),  mu_s = (sum of their uploads)/F,
// where y counts only the seeds that arrived as leechers. With mu_s = 0 the
// closed form is exactly the paper's; with mu_s > 0 we solve the same two
// steady-state equations (FluidSteadyStateOf()); with theta = 0 this
// shortens T by mu_s/(mu*eta*lambda) in the upload-constrained regime (5 s
// for VALIDATION.md V2's one seed at 1 Mb/s and lambda = 0.2/s, under 1%).
// VALIDATION.md's published V2 values (ybar = 60, T = 538.9 s) are the paper's,
// mu_s = 0.
//
// The ODE is integrated with a fixed-step classical Runge-Kutta (RK4) on an
// Eigen 2-vector: deterministic, no adaptive step, same output everywhere.
//
// Pure functions over values: thread-safe.
#ifndef SWARM_SIM_THEORY_FLUID_MODEL_H_
#define SWARM_SIM_THEORY_FLUID_MODEL_H_

#include <Eigen/Core>
#include <vector>

#include "core/types.h"

namespace swarm::sim::theory {

struct FluidParams {
  double arrival_rate = 0;           // lambda, leechers per second. >= 0.
  double upload = 0;                 // mu, files per second per peer. >= 0.
  double download = 0;               // c, files per second per leecher. >= 0.
  double abort_rate = 0;             // theta, per leecher per second. >= 0.
  double seed_departure_rate = 0;    // gamma, per seed per second. > 0; may be
                                     // +infinity (seeds leave at once).
  double efficiency = 1.0;           // eta, in (0, 1].
  double permanent_seed_upload = 0;  // mu_s, files per second in total. >= 0.

  // Builds the parameters from a scenario's units: mu = upload/F,
  // c = download/F, gamma = 1/mean_seeding (+infinity for a zero seeding
  // time), mu_s = (permanent_seed_upload)/F.
  // REQUIRES: file_size > 0, rates >= 0, mean_seeding >= 0.
  static FluidParams FromSwarm(double arrivals_per_second,
                               core::Bytes file_size, core::Rate upload,
                               core::Rate download, core::Duration mean_seeding,
                               double aborts_per_second = 0,
                               double efficiency = 1.0,
                               core::Rate permanent_seed_upload = core::Rate());

  // Aborts if a field is out of its documented range (a caller's bug).
  void CheckValid() const;
};

enum class FluidRegime { kDownloadConstrained, kUploadConstrained };

const char* FluidRegimeName(FluidRegime r);  // "download-constrained", ...

struct FluidSteadyState {
  double leechers = 0;         // xbar; kNever-style +infinity if unbounded.
  double seeds = 0;            // ybar.
  double download_time_s = 0;  // T, seconds; +infinity if nobody finishes.
  double beta = 0;             // 1/beta as in the paper: 1/T - theta.
  FluidRegime regime = FluidRegime::kDownloadConstrained;
};

// The closed-form equilibrium (see the file comment). With
// permanent_seed_upload == 0 these are the paper's formulas verbatim.
// Never NaN: a swarm with no capacity gets T = +infinity, ybar = 0.
// REQUIRES: params.CheckValid() passes.
FluidSteadyState FluidSteadyStateOf(const FluidParams& params);

// The right-hand side (dx/dt, dy/dt) at state (x, y).
// REQUIRES: params valid with finite seed_departure_rate.
Eigen::Vector2d FluidDerivative(const FluidParams& params,
                                const Eigen::Vector2d& state);

struct FluidSample {
  double time_s = 0;
  double leechers = 0;  // x(t)
  double seeds = 0;     // y(t)
};

// Integrates the ODE from `initial` (x, y) at t = 0 up to `horizon_s` with
// RK4 and returns samples at t = 0, interval, 2*interval, ... <= horizon_s.
// Each interval is split into ceil(interval/max_step) equal steps.
// REQUIRES: params valid with finite gamma; horizon_s >= 0;
//           sample_interval_s > 0; max_step_s > 0; initial >= 0.
std::vector<FluidSample> IntegrateFluid(const FluidParams& params,
                                        const Eigen::Vector2d& initial,
                                        double horizon_s,
                                        double sample_interval_s,
                                        double max_step_s = 1.0);

}  // namespace swarm::sim::theory

#endif  // SWARM_SIM_THEORY_FLUID_MODEL_H_
