#include "core/rng.h"

#include <cmath>

#include "core/check.h"

namespace swarm::core {
namespace {

uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

Rng::Rng(uint64_t seed) {
  uint64_t state = seed;
  for (uint64_t& word : s_) word = SplitMix64(state);
}

Rng Rng::ForStream(uint64_t seed, uint64_t stream) {
  // Mix the stream number through SplitMix64 before combining so that nearby
  // (seed, stream) pairs give unrelated states.
  uint64_t st = stream ^ 0x5851f42d4c957f2dULL;
  uint64_t mixed = SplitMix64(st);
  return Rng(seed ^ mixed);
}

uint64_t Rng::NextU64() {
  const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  return result;
}

uint64_t Rng::Below(uint64_t n) {
  SWARM_CHECK(n > 0);
  // Lemire, "Fast Random Integer Generation in an Interval" (2019).
  unsigned __int128 m = static_cast<unsigned __int128>(NextU64()) * n;
  uint64_t low = static_cast<uint64_t>(m);
  if (low < n) {
    const uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      m = static_cast<unsigned __int128>(NextU64()) * n;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

int64_t Rng::UniformInt(int64_t lo, int64_t hi) {
  SWARM_CHECK(lo <= hi);
  const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
  if (span == UINT64_MAX) return static_cast<int64_t>(NextU64());
  return lo + static_cast<int64_t>(Below(span + 1));
}

double Rng::UniformReal() {
  return static_cast<double>(NextU64() >> 11) * 0x1.0p-53;
}

double Rng::UniformReal(double lo, double hi) {
  return lo + (hi - lo) * UniformReal();
}

double Rng::Exponential(double mean) {
  SWARM_CHECK(mean > 0);
  // 1 - U lies in (0, 1], so the log is finite.
  return -mean * std::log(1.0 - UniformReal());
}

bool Rng::Bernoulli(double p) { return UniformReal() < p; }

}  // namespace swarm::core
