// Lower bounds on the time to distribute one file to a swarm.
//
// A DistributionProblem is the static setting of the classic results: at
// time 0 the seeds hold the whole file and every leecher holds nothing; each
// node has an upload capacity, each leecher a download capacity; nobody
// leaves before everybody is done. Two families of bounds:
//
// * Kumar & Ross, "Peer-assisted file distribution: the minimum
//   distribution time", IEEE HotWeb 2006: a fluid bound (bits can be
//   forwarded as soon as they arrive). For one seed of upload u_s and N
//   leechers it is
//       T_min = max(F/u_s, F/d_min, N*F/(u_s + sum u_i)),
//   and they show a fluid schedule achieves it. The per-rank form says the
//   k-th leecher to finish cannot finish before
//       max(F/u_s, k*F/(u_s + sum u_i), k-th smallest F/d_i):
//   the seed must send every bit once before anyone is complete, the first
//   k finishers together received k*F bits through the total upload, and
//   each finisher i needed F/d_i on its own link.
//   Several seeds: u_s is their summed upload. Every bit must leave some
//   seed at least once, so F/u_s becomes F/(sum of seed uploads), and every
//   seed's upload joins the aggregate term. (Seeds that all hold the file
//   can split it and act as one server of the summed capacity, so this is
//   also what the fluid optimum reaches; we derived this form from the
//   argument above rather than copying it from the paper.)
//
// * The piece-granular bound (Mundinger, Weber & Weiss, "Optimal
//   scheduling of peer-to-peer file dissemination", J. Scheduling 2008;
//   Bar-Noy & Kipnis on broadcasting multiple messages, 1994): when a piece
//   may be forwarded only once complete, all nodes (seed included) upload
//   at the same u and downloads are unlimited, the last finish is at least
//   (F/u)(1 + floor(log2 N)/M) for M equal pieces. The seed needs F/u to
//   send every piece once; the piece it completes last then reaches at most
//   one leecher, and the number of holders can at most double per
//   piece-time F/(M*u), so floor(log2 N) more piece-times are needed.
//   The doubling step assumes a piece goes whole from one sender to one
//   receiver. swarmlab's core fetches the blocks of one piece from several
//   neighbours at once, so where downloads exceed u a peer can receive a
//   piece faster than one piece-time and finish below this value (N = 3,
//   M = 1, d >= 3u: (F/u)(1 + 1/2 + 1/3) < 2F/u): there it is a reference,
//   not a lower bound (docs/theory.md, section 2).
//
// Sizes are core::Bytes and capacities core::Rate (bytes/s), so F/u is in
// seconds with no bit/byte factor. Results are seconds (units.h); kNever
// when no capacity exists to finish.
//
// Pure functions over values: thread-safe.
#ifndef SWARM_SIM_THEORY_DISTRIBUTION_BOUNDS_H_
#define SWARM_SIM_THEORY_DISTRIBUTION_BOUNDS_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "core/types.h"

namespace swarm::sim::theory {

// The capacities of one leecher. An unlimited link is
// Rate::BytesPerSecond(infinity).
struct LeecherCapacity {
  core::Rate upload;
  core::Rate download;
};

// One file, its seeds and its leechers (see the file comment).
struct DistributionProblem {
  core::Bytes file_size = 0;
  // Piece size as in core::TorrentInfo: the last piece holds the remainder.
  // Only the piece-granular bound uses it.
  core::Bytes piece_length = 256 * core::kKiB;
  std::vector<core::Rate> seed_uploads;   // One entry per seed.
  std::vector<LeecherCapacity> leechers;  // One entry per leecher.
};

// Kumar-Ross minimum distribution time: the earliest the last leecher can
// finish. 0 with no leechers; kNever when there is no seed capacity or some
// leecher has zero download.
// REQUIRES: file_size >= 0, every rate >= 0.
double KumarRossMinTime(const DistributionProblem& problem);

// Per-rank lower bounds: element k-1 bounds the finish time of the k-th
// leecher to finish (k = 1..N). Non-decreasing; the last element equals
// KumarRossMinTime(). Empty with no leechers.
std::vector<double> KumarRossRankBounds(const DistributionProblem& problem);

// The earliest one leecher can finish on its own download link: F/d_i.
double KumarRossPeerBound(core::Bytes file_size, const LeecherCapacity& peer);

// Piece-granular bound on the last finish for `leechers` leechers, one seed
// and every node uploading at `upload`: F/u + floor(log2 N) * p/u, where p is
// the smallest piece (the last one when F is not a multiple of
// piece_length). For equal pieces this is (F/u)(1 + floor(log2 N)/M).
// 0 with no leechers; kNever when upload is 0.
// REQUIRES: leechers >= 0, file_size > 0, piece_length > 0, upload >= 0.
double PieceGranularBound(int64_t leechers, core::Bytes file_size,
                          core::Bytes piece_length, core::Rate upload);

// PieceGranularBound() for `problem` when its assumptions hold: exactly one
// seed, at least one leecher, a non-empty file, and every upload capacity
// (seed and leechers) equal within a relative 1e-9. nullopt otherwise.
std::optional<double> PieceGranularBoundIfApplies(
    const DistributionProblem& problem);

}  // namespace swarm::sim::theory

#endif  // SWARM_SIM_THEORY_DISTRIBUTION_BOUNDS_H_
