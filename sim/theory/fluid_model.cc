#include "sim/theory/fluid_model.h"

#include <algorithm>
#include <cmath>

#include "core/check.h"
#include "sim/theory/units.h"

namespace swarm::sim::theory {
namespace {

// 1/r with 1/0 = +infinity and 1/infinity = 0.
double Inverse(double r) { return r == 0 ? kNever : 1.0 / r; }

// Qiu & Srikant's closed form, for a swarm without permanent seeds.
FluidSteadyState PaperSteadyState(const FluidParams& p) {
  const double inv_c = Inverse(p.download);
  // (1/eta)(1/mu - 1/gamma); gamma > 0, so 1/gamma is finite.
  const double inv_upload =
      p.upload == 0
          ? kNever
          : (1.0 / p.upload - Inverse(p.seed_departure_rate)) / p.efficiency;
  FluidSteadyState s;
  s.regime = inv_upload > inv_c ? FluidRegime::kUploadConstrained
                                : FluidRegime::kDownloadConstrained;
  s.beta = Inverse(std::max(inv_c, inv_upload));
  const double out_rate = p.abort_rate + s.beta;  // theta + beta
  if (out_rate == 0) {  // Nobody finishes and nobody aborts.
    s.leechers = p.arrival_rate > 0 ? kNever : 0.0;
    s.download_time_s = kNever;
  } else {
    s.leechers = p.arrival_rate / out_rate;
    s.download_time_s = 1.0 / out_rate;
  }
  // ybar = lambda / (gamma (1 + theta/beta)); no completions when beta = 0.
  s.seeds = s.beta == 0 ? 0.0
                        : p.arrival_rate / (p.seed_departure_rate *
                                            (1.0 + p.abort_rate / s.beta));
  return s;
}

// Steady state with permanent seeds (mu_s > 0). At equilibrium the service
// rate phi equals both lambda - theta*x (leechers) and gamma*y (seeds), so
// y = (lambda - theta*x)/gamma and x solves
//   lambda - theta*x = min(c*x, mu*eta*x + mu*(lambda - theta*x)/gamma + mu_s).
// Try the download branch first; if upload binds there, the upload branch's
// root lies to its right and is the equilibrium.
FluidSteadyState SeededSteadyState(const FluidParams& p) {
  const double lambda = p.arrival_rate, theta = p.abort_rate;
  const double c = p.download, mu = p.upload, eta = p.efficiency;
  const double inv_gamma = Inverse(p.seed_departure_rate);
  FluidSteadyState s;
  if (c == 0) {  // Nobody can download: leechers only leave by aborting.
    s.regime = FluidRegime::kDownloadConstrained;
    s.leechers = theta > 0 ? lambda / theta : (lambda > 0 ? kNever : 0.0);
    s.download_time_s = Inverse(theta);
    return s;  // seeds = 0, beta = 0.
  }
  auto served = [&](double x) { return lambda - theta * x; };  // phi
  auto upload_capacity = [&](double x) {
    return mu * eta * x + mu * served(x) * inv_gamma + p.permanent_seed_upload;
  };
  const double x_down = lambda / (theta + c);  // 0 when c is unlimited.
  if (served(x_down) <= upload_capacity(x_down)) {
    s.regime = FluidRegime::kDownloadConstrained;
    s.leechers = x_down;
    s.seeds = served(x_down) * inv_gamma;
    s.download_time_s = Inverse(theta + c);
    s.beta = c;
    return s;
  }
  s.regime = FluidRegime::kUploadConstrained;
  // Upload binds, which implies mu < gamma; then the slope below is > 0
  // unless mu = theta = 0 (only the permanent seeds serve; x grows forever).
  const double slope = mu * eta + theta * (1.0 - mu * inv_gamma);
  if (slope == 0) {
    s.leechers = kNever;
    s.seeds = p.permanent_seed_upload * inv_gamma;
    s.download_time_s = kNever;
    return s;  // beta = 0.
  }
  s.leechers =
      (lambda * (1.0 - mu * inv_gamma) - p.permanent_seed_upload) / slope;
  s.seeds = served(s.leechers) * inv_gamma;
  s.download_time_s = s.leechers / lambda;  // Little's law; lambda > 0 here.
  s.beta = 1.0 / s.download_time_s - theta;
  return s;
}

}  // namespace

FluidParams FluidParams::FromSwarm(double arrivals_per_second,
                                   core::Bytes file_size, core::Rate upload,
                                   core::Rate download,
                                   core::Duration mean_seeding,
                                   double aborts_per_second, double efficiency,
                                   core::Rate permanent_seed_upload) {
  SWARM_CHECK(mean_seeding >= core::Duration::Zero());
  FluidParams p;
  p.arrival_rate = arrivals_per_second;
  p.upload = FilesPerSecond(upload, file_size);
  p.download = FilesPerSecond(download, file_size);
  p.abort_rate = aborts_per_second;
  p.seed_departure_rate = Inverse(mean_seeding.seconds());
  p.efficiency = efficiency;
  p.permanent_seed_upload = FilesPerSecond(permanent_seed_upload, file_size);
  p.CheckValid();
  return p;
}

void FluidParams::CheckValid() const {
  // Written so that NaN fails every check.
  SWARM_CHECK(arrival_rate >= 0 && std::isfinite(arrival_rate));
  SWARM_CHECK(upload >= 0 && std::isfinite(upload));
  SWARM_CHECK(download >= 0);  // +infinity: unlimited download.
  SWARM_CHECK(abort_rate >= 0 && std::isfinite(abort_rate));
  SWARM_CHECK(seed_departure_rate > 0);  // +infinity: seeds leave at once.
  SWARM_CHECK(efficiency > 0 && efficiency <= 1);
  SWARM_CHECK(permanent_seed_upload >= 0 &&
              std::isfinite(permanent_seed_upload));
}

const char* FluidRegimeName(FluidRegime r) {
  switch (r) {
    case FluidRegime::kDownloadConstrained:
      return "download-constrained";
    case FluidRegime::kUploadConstrained:
      return "upload-constrained";
  }
  return "?";
}

FluidSteadyState FluidSteadyStateOf(const FluidParams& params) {
  params.CheckValid();
  return params.permanent_seed_upload == 0 ? PaperSteadyState(params)
                                           : SeededSteadyState(params);
}

Eigen::Vector2d FluidDerivative(const FluidParams& p,
                                const Eigen::Vector2d& state) {
  const double x = state(0), y = state(1);
  const double served =
      std::min(p.download * x,
               p.upload * (p.efficiency * x + y) + p.permanent_seed_upload);
  return Eigen::Vector2d(p.arrival_rate - p.abort_rate * x - served,
                         served - p.seed_departure_rate * y);
}

std::vector<FluidSample> IntegrateFluid(const FluidParams& params,
                                        const Eigen::Vector2d& initial,
                                        double horizon_s,
                                        double sample_interval_s,
                                        double max_step_s) {
  params.CheckValid();
  SWARM_CHECK(std::isfinite(params.download));
  SWARM_CHECK(std::isfinite(params.seed_departure_rate));
  SWARM_CHECK(horizon_s >= 0 && std::isfinite(horizon_s));
  SWARM_CHECK(sample_interval_s > 0 && std::isfinite(sample_interval_s));
  SWARM_CHECK(max_step_s > 0);
  SWARM_CHECK(initial(0) >= 0 && initial(1) >= 0);

  // Tolerances absorb floating-point noise, e.g. 0.3/0.1 = 2.9999999999999996.
  const auto samples =
      static_cast<int64_t>(std::floor(horizon_s / sample_interval_s + 1e-9));
  const auto steps = static_cast<int64_t>(
      std::max(1.0, std::ceil(sample_interval_s / max_step_s - 1e-9)));
  const double h = sample_interval_s / static_cast<double>(steps);

  std::vector<FluidSample> out;
  out.reserve(static_cast<size_t>(samples) + 1);
  Eigen::Vector2d s = initial;
  out.push_back({0.0, s(0), s(1)});
  for (int64_t k = 1; k <= samples; ++k) {
    for (int64_t i = 0; i < steps; ++i) {
      const Eigen::Vector2d k1 = FluidDerivative(params, s);
      const Eigen::Vector2d k2 = FluidDerivative(params, s + 0.5 * h * k1);
      const Eigen::Vector2d k3 = FluidDerivative(params, s + 0.5 * h * k2);
      const Eigen::Vector2d k4 = FluidDerivative(params, s + h * k3);
      s += (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
    }
    out.push_back({static_cast<double>(k) * sample_interval_s, s(0), s(1)});
  }
  return out;
}

}  // namespace swarm::sim::theory
