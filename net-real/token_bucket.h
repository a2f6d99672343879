// TokenBucket: a byte-rate limiter fed with the driver's `now`.
//
// Tokens accrue at `rate` up to `burst`. Take(n) always succeeds and may
// leave the bucket in debt; the caller waits until Ready() (debt repaid) —
// so a block larger than the burst is still sent, just followed by a pause,
// and the long-run rate is exactly `rate`. A zero rate means unlimited.
//
// Thread-compatible.
#ifndef SWARM_NET_TOKEN_BUCKET_H_
#define SWARM_NET_TOKEN_BUCKET_H_

#include "core/types.h"

namespace swarm::net {

class TokenBucket {
 public:
  // REQUIRES: burst > 0.
  TokenBucket(core::Rate rate, core::Bytes burst);

  bool unlimited() const { return rate_ <= 0; }
  // True if a send may start now.
  bool Ready(core::Time now);
  // Time at which Ready() becomes true (now if already).
  core::Time ReadyAt(core::Time now);
  void Take(core::Time now, core::Bytes n);

 private:
  void Refill(core::Time now);

  double rate_;    // bytes per second; <= 0: unlimited
  double burst_;
  double tokens_;
  core::Time last_;
};

}  // namespace swarm::net

#endif  // SWARM_NET_TOKEN_BUCKET_H_
