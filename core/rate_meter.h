// RateMeter: bytes per second over a sliding window of recent time, as the
// choker needs ("who gave me the most in the last 20 s"). The window is five
// 4-second buckets, so the estimate is smooth but forgets within 20 s.
//
// Time comes in as an argument (no clock). Thread-compatible value type.
#ifndef SWARM_CORE_RATE_METER_H_
#define SWARM_CORE_RATE_METER_H_

#include <array>

#include "core/types.h"

namespace swarm::core {

class RateMeter {
 public:
  static constexpr int kBuckets = 5;
  static constexpr Duration kBucketLength = Duration::Seconds(4);

  void Add(Time now, Bytes n) {
    Bucket& b = buckets_[Slot(now)];
    const int64_t index = Index(now);
    if (b.index != index) b = Bucket{index, 0};
    b.bytes += n;
    total_ += n;
  }

  // Average over the last kBuckets buckets (the current one included).
  Rate Get(Time now) const {
    const int64_t index = Index(now);
    Bytes sum = 0;
    for (const Bucket& b : buckets_) {
      if (b.index > index - kBuckets && b.index <= index) sum += b.bytes;
    }
    return Rate::BytesPerSecond(double(sum) / (kBucketLength * kBuckets).seconds());
  }

  Bytes total() const { return total_; }

 private:
  struct Bucket {
    int64_t index = -1000;
    Bytes bytes = 0;
  };
  static int64_t Index(Time t) { return t.micros() / kBucketLength.micros(); }
  static size_t Slot(Time t) { return size_t(Index(t) % kBuckets); }

  std::array<Bucket, kBuckets> buckets_{};
  Bytes total_ = 0;
};

}  // namespace swarm::core

#endif  // SWARM_CORE_RATE_METER_H_
