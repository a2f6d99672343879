#include "sim/theory/distribution_bounds.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "core/check.h"
#include "sim/theory/units.h"

namespace swarm::sim::theory {
namespace {

// Seconds to move `bytes` bytes (a double, as k*F may be large) at
// `bps` bytes/s, with the conventions of TransferSeconds().
double Seconds(double bytes, double bps) {
  if (bytes == 0) return 0.0;
  if (bps == 0) return kNever;
  return bytes / bps;
}

double CheckedRate(core::Rate r) {
  SWARM_CHECK(r.bytes_per_second() >= 0);  // Also rejects NaN.
  return r.bytes_per_second();
}

double SeedUploadSum(const DistributionProblem& p) {
  double sum = 0;
  for (core::Rate r : p.seed_uploads) sum += CheckedRate(r);
  return sum;
}

double TotalUploadSum(const DistributionProblem& p) {
  double sum = SeedUploadSum(p);
  for (const LeecherCapacity& l : p.leechers) sum += CheckedRate(l.upload);
  return sum;
}

}  // namespace

double KumarRossPeerBound(core::Bytes file_size, const LeecherCapacity& peer) {
  return TransferSeconds(file_size, peer.download);
}

std::vector<double> KumarRossRankBounds(const DistributionProblem& problem) {
  SWARM_CHECK(problem.file_size >= 0);
  const size_t n = problem.leechers.size();
  if (n == 0) return {};
  const double f = static_cast<double>(problem.file_size);
  const double seed_term = Seconds(f, SeedUploadSum(problem));
  const double total_upload = TotalUploadSum(problem);

  std::vector<double>
      own;  // F/d_i, sorted: the k-th finisher waits >= own[k-1].
  own.reserve(n);
  for (const LeecherCapacity& l : problem.leechers) {
    own.push_back(KumarRossPeerBound(problem.file_size, l));
  }
  std::sort(own.begin(), own.end());

  std::vector<double> bounds(n);
  for (size_t k = 1; k <= n; ++k) {
    const double aggregate = Seconds(static_cast<double>(k) * f, total_upload);
    bounds[k - 1] = std::max({seed_term, aggregate, own[k - 1]});
  }
  return bounds;
}

double KumarRossMinTime(const DistributionProblem& problem) {
  SWARM_CHECK(problem.file_size >= 0);
  const size_t n = problem.leechers.size();
  if (n == 0) return 0.0;
  const double f = static_cast<double>(problem.file_size);
  double slowest_peer = 0;  // F/d_min.
  for (const LeecherCapacity& l : problem.leechers) {
    slowest_peer =
        std::max(slowest_peer, KumarRossPeerBound(problem.file_size, l));
  }
  return std::max(
      {Seconds(f, SeedUploadSum(problem)), slowest_peer,
       Seconds(static_cast<double>(n) * f, TotalUploadSum(problem))});
}

double PieceGranularBound(int64_t leechers, core::Bytes file_size,
                          core::Bytes piece_length, core::Rate upload) {
  SWARM_CHECK(leechers >= 0);
  SWARM_CHECK(file_size > 0);
  SWARM_CHECK(piece_length > 0);
  if (leechers == 0) return 0.0;
  const core::Bytes pieces = (file_size + piece_length - 1) / piece_length;
  const core::Bytes smallest = file_size - (pieces - 1) * piece_length;
  // floor(log2 N), exactly, for N >= 1.
  const int doublings =
      static_cast<int>(std::bit_width(static_cast<uint64_t>(leechers))) - 1;
  const double u = CheckedRate(upload);
  return Seconds(static_cast<double>(file_size), u) +
         Seconds(static_cast<double>(doublings) * static_cast<double>(smallest),
                 u);
}

std::optional<double> PieceGranularBoundIfApplies(
    const DistributionProblem& problem) {
  if (problem.seed_uploads.size() != 1 || problem.leechers.empty() ||
      problem.file_size <= 0 || problem.piece_length <= 0) {
    return std::nullopt;
  }
  const core::Rate u = problem.seed_uploads[0];
  const double ub = CheckedRate(u);
  if (!std::isfinite(ub)) return std::nullopt;
  for (const LeecherCapacity& l : problem.leechers) {
    if (std::abs(CheckedRate(l.upload) - ub) > 1e-9 * ub) return std::nullopt;
  }
  return PieceGranularBound(static_cast<int64_t>(problem.leechers.size()),
                            problem.file_size, problem.piece_length, u);
}

}  // namespace swarm::sim::theory
