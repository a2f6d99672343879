#include "sim/theory/flash_crowd.h"

#include <cmath>

#include "core/check.h"
#include "sim/theory/units.h"

namespace swarm::sim::theory {
namespace {

void CheckCrowd(const FlashCrowd& c) {
  SWARM_CHECK(c.leechers >= 0);
  SWARM_CHECK(c.seeds >= 0);
  // Room to double holders without overflowing int64.
  SWARM_CHECK(c.leechers <= (int64_t{1} << 60) &&
              c.seeds <= (int64_t{1} << 60));
  SWARM_CHECK(c.file_size > 0);
  SWARM_CHECK(c.upload.bytes_per_second() >= 0);
}

bool NeverFinishes(const FlashCrowd& c) {
  return c.leechers > 0 && (c.seeds == 0 || c.upload.bytes_per_second() == 0);
}

}  // namespace

double FlashCrowdRoundSeconds(const FlashCrowd& crowd) {
  CheckCrowd(crowd);
  return TransferSeconds(crowd.file_size, crowd.upload);
}

int64_t FlashCrowdCompletedAfterRounds(const FlashCrowd& crowd,
                                       int64_t rounds) {
  CheckCrowd(crowd);
  SWARM_CHECK(rounds >= 0);
  // Holders double each round; stop as soon as they can cover everyone,
  // which is before any overflow since N and s fit in int64.
  int64_t holders = crowd.seeds;
  for (int64_t k = 0;
       k < rounds && holders - crowd.seeds < crowd.leechers && holders > 0;
       ++k) {
    holders *= 2;
  }
  const int64_t finished = holders - crowd.seeds;
  return finished < crowd.leechers ? finished : crowd.leechers;
}

int64_t FlashCrowdCompletedAt(const FlashCrowd& crowd, double t_s) {
  SWARM_CHECK(t_s >= 0);
  const double round = FlashCrowdRoundSeconds(crowd);
  if (round == 0) return crowd.seeds > 0 ? crowd.leechers : 0;
  // kNever round: 0 rounds have passed at any finite time.
  const double rounds = std::floor(t_s / round);
  return FlashCrowdCompletedAfterRounds(
      crowd, rounds > 62 ? 62 : static_cast<int64_t>(rounds));
}

int64_t FlashCrowdRoundsToFinish(const FlashCrowd& crowd) {
  CheckCrowd(crowd);
  if (crowd.leechers == 0) return 0;
  if (crowd.seeds == 0) return -1;
  int64_t k = 0;
  while (FlashCrowdCompletedAfterRounds(crowd, k) < crowd.leechers) ++k;
  return k;
}

double FlashCrowdMakespan(const FlashCrowd& crowd) {
  CheckCrowd(crowd);
  if (crowd.leechers == 0) return 0.0;
  if (NeverFinishes(crowd)) return kNever;
  return static_cast<double>(FlashCrowdRoundsToFinish(crowd)) *
         FlashCrowdRoundSeconds(crowd);
}

std::vector<FlashCrowdPoint> FlashCrowdCurve(const FlashCrowd& crowd) {
  CheckCrowd(crowd);
  std::vector<FlashCrowdPoint> curve;
  curve.push_back({0.0, 0, crowd.seeds});
  if (NeverFinishes(crowd)) return curve;
  const double round = FlashCrowdRoundSeconds(crowd);
  const int64_t rounds = FlashCrowdRoundsToFinish(crowd);
  for (int64_t k = 1; k <= rounds; ++k) {
    const int64_t done = FlashCrowdCompletedAfterRounds(crowd, k);
    curve.push_back({static_cast<double>(k) * round, done, crowd.seeds + done});
  }
  return curve;
}

}  // namespace swarm::sim::theory
