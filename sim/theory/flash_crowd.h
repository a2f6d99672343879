// Exponential growth of service capacity in a flash crowd.
//
// X. Yang and G. de Veciana, "Service capacity of peer to peer networks",
// INFOCOM 2004. N leechers arrive at once; the file is a single piece
// (M = 1) of F bytes; every node uploads at u to one peer at a time, and a
// peer can serve only after it has the whole file. In each round of F/u
// seconds every holder (seeds and finished leechers) serves one new peer,
// so the number of holders doubles each round: after k rounds the s seeds
// have been joined by s*(2^k - 1) finished leechers (capped at N). The
// service capacity, holders times u, grows as 2^k until the crowd is served.
// With one seed and N = 1000 that is 10 rounds (2^10 - 1 >= 1000);
// VALIDATION.md V3: F = 1 MB, u = 1 Mb/s, rounds of 8 s, all done at 80 s.
//
// With M > 1 pieces pipelining shortens each round to a piece time, which is
// the piece-granular bound of distribution_bounds.h.
//
// Pure functions over values: thread-safe.
#ifndef SWARM_SIM_THEORY_FLASH_CROWD_H_
#define SWARM_SIM_THEORY_FLASH_CROWD_H_

#include <cstdint>
#include <vector>

#include "core/types.h"

namespace swarm::sim::theory {

struct FlashCrowd {
  int64_t leechers = 0;       // N, >= 0.
  int64_t seeds = 1;          // s, >= 0.
  core::Bytes file_size = 0;  // F, > 0.
  core::Rate upload;          // u, every node's upload, >= 0.
};

// The length of one round, F/u seconds (kNever if u = 0).
double FlashCrowdRoundSeconds(const FlashCrowd& crowd);

// Leechers finished after `rounds` full rounds: min(N, s*(2^rounds - 1)).
// Saturates instead of overflowing for large `rounds`.
// REQUIRES: rounds >= 0, crowd fields in range.
int64_t FlashCrowdCompletedAfterRounds(const FlashCrowd& crowd, int64_t rounds);

// Leechers finished by time `t_s` seconds: completions happen at the end of
// each round, so this is FlashCrowdCompletedAfterRounds(floor(t / (F/u))).
int64_t FlashCrowdCompletedAt(const FlashCrowd& crowd, double t_s);

// Rounds until all N have finished: the least k with s*(2^k - 1) >= N.
// 0 if N = 0; -1 if it never happens (N > 0 and no seed).
int64_t FlashCrowdRoundsToFinish(const FlashCrowd& crowd);

// Time the last leecher finishes: rounds * F/u. 0 for N = 0; kNever when no
// seed or no upload capacity.
double FlashCrowdMakespan(const FlashCrowd& crowd);

struct FlashCrowdPoint {
  double time_s = 0;      // k * F/u
  int64_t completed = 0;  // Finished leechers at time_s.
  int64_t holders = 0;    // Seeds + finished leechers: capacity / u.
};

// The expected service-capacity curve: one point per round boundary,
// k = 0 .. FlashCrowdRoundsToFinish(). Only the k = 0 point when the crowd
// never finishes (no seed or no upload).
std::vector<FlashCrowdPoint> FlashCrowdCurve(const FlashCrowd& crowd);

}  // namespace swarm::sim::theory

#endif  // SWARM_SIM_THEORY_FLASH_CROWD_H_
