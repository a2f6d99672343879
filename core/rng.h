// Rng: the only source of randomness in swarmlab's protocol and simulator.
//
// A xoshiro256** generator seeded through SplitMix64, with our own
// distributions. We use neither the standard library's distributions nor its
// shuffle algorithm, because their output differs between standard library
// versions, which would break "same scenario + same seed => byte-identical
// results".
//
// Each peer gets its own stream: Rng::ForStream(run_seed, stream) mixes the
// two so that adding a peer never changes the draws of another.
//
// Thread-compatible: one Rng per owner, no sharing.
#ifndef SWARM_CORE_RNG_H_
#define SWARM_CORE_RNG_H_

#include <cstdint>
#include <span>
#include <utility>

namespace swarm::core {

class Rng {
 public:
  explicit Rng(uint64_t seed);
  // An independent stream for `stream` (e.g. a peer's index) of run `seed`.
  static Rng ForStream(uint64_t seed, uint64_t stream);

  // Uniform over all 64-bit values.
  uint64_t NextU64();
  // Uniform integer in [0, n). REQUIRES: n > 0. Unbiased (Lemire's method).
  uint64_t Below(uint64_t n);
  // Uniform integer in [lo, hi]. REQUIRES: lo <= hi.
  int64_t UniformInt(int64_t lo, int64_t hi);
  // Uniform double in [0, 1) with 53 random bits.
  double UniformReal();
  // Uniform double in [lo, hi).
  double UniformReal(double lo, double hi);
  // Exponentially distributed with the given mean (inverse transform).
  // REQUIRES: mean > 0.
  double Exponential(double mean);
  // True with probability p.
  bool Bernoulli(double p);

  // Fisher-Yates shuffle.
  template <typename T>
  void Shuffle(std::span<T> items) {
    for (size_t i = items.size(); i > 1; --i) {
      size_t j = static_cast<size_t>(Below(i));
      std::swap(items[i - 1], items[j]);
    }
  }

 private:
  uint64_t s_[4];
};

}  // namespace swarm::core

#endif  // SWARM_CORE_RNG_H_
