// RateMeter: bytes per second over a sliding window of recent time, as the
// choker needs ("who gave me the most in the last 20 s"). The window is five
// 4-second buckets, so the estimate is smooth but forgets within 20 s.
//
// Time comes in as an argument (no clock) and must not go backwards by more
// than the window (older bytes are dropped). 48 bytes, so that a Connection
// keeps the meter a rechoke reads on the same cache line as its flags.
// Thread-compatible value type.
#ifndef SWARM_CORE_RATE_METER_H_
#define SWARM_CORE_RATE_METER_H_

#include <algorithm>
#include <array>

#include "core/types.h"

namespace swarm::core {

class RateMeter {
 public:
  static constexpr int kBuckets = 5;
  static constexpr Duration kBucketLength = Duration::Seconds(4);

  void Add(Time now, Bytes n) {
    const int64_t index = Index(now);
    if (index > last_) {
      // Entering a new bucket: the ones skipped since the last Add (at most
      // the whole ring) saw no bytes.
      for (int64_t i = std::max(last_ + 1, index - kBuckets + 1); i <= index; ++i) {
        bytes_[Slot(i)] = 0;
      }
      last_ = index;
    } else if (index <= last_ - kBuckets) {
      return;  // older than the window
    }
    bytes_[Slot(index)] += n;
  }

  // Average over the last kBuckets buckets (the current one included).
  Rate Get(Time now) const {
    const int64_t index = Index(now);
    // Buckets last_ - kBuckets + 1 .. last_ hold data; count those that are
    // also inside now's window index - kBuckets + 1 .. index.
    const int64_t from = std::max(last_, index) - kBuckets + 1;
    const int64_t to = std::min(last_, index);
    Bytes sum = 0;
    for (int64_t i = from; i <= to; ++i) sum += bytes_[Slot(i)];
    return Rate::BytesPerSecond(double(sum) / (kBucketLength * kBuckets).seconds());
  }

 private:
  static int64_t Index(Time t) { return t.micros() / kBucketLength.micros(); }
  static size_t Slot(int64_t index) {
    return size_t(((index % kBuckets) + kBuckets) % kBuckets);
  }

  int64_t last_ = -1000;  // the newest bucket written
  std::array<Bytes, kBuckets> bytes_{};
};

static_assert(sizeof(RateMeter) == 48, "a Connection's rechoke fields share one 64-byte run");

}  // namespace swarm::core

#endif  // SWARM_CORE_RATE_METER_H_
