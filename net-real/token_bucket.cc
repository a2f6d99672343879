#include "net-real/token_bucket.h"

#include <algorithm>
#include <cmath>

#include "core/check.h"

namespace swarm::net {

TokenBucket::TokenBucket(core::Rate rate, core::Bytes burst)
    : rate_(rate.bytes_per_second()), burst_(static_cast<double>(burst)),
      tokens_(static_cast<double>(burst)) {
  SWARM_CHECK(burst > 0);
}

void TokenBucket::Refill(core::Time now) {
  if (now > last_) {
    tokens_ = std::min(burst_, tokens_ + rate_ * (now - last_).seconds());
    last_ = now;
  }
}

bool TokenBucket::Ready(core::Time now) {
  if (unlimited()) return true;
  Refill(now);
  return tokens_ >= 0;
}

core::Time TokenBucket::ReadyAt(core::Time now) {
  if (Ready(now)) return now;
  return now + core::Duration::Micros(
                   static_cast<int64_t>(std::ceil(-tokens_ / rate_ * 1e6)));
}

void TokenBucket::Take(core::Time now, core::Bytes n) {
  if (unlimited()) return;
  Refill(now);
  tokens_ -= static_cast<double>(n);
}

}  // namespace swarm::net
