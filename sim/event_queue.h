// EventQueue: the simulator's timeline, ordered by (time, sequence). The
// sequence number is assigned at push, so two events at the same time run in
// the order they were scheduled.
//
// A calendar queue (Brown 1988) with a heap for the far future:
//  - the near future, the next kBuckets * kBucketWidth of simulated time
//    (about a second), is a ring of buckets, each an unsorted vector of the
//    events in one kBucketWidth slice. Pushing appends; a bucket is sorted
//    once, when the clock reaches it. Nearly every event is near: message
//    deliveries a one-way latency ahead, block completions a few ms ahead.
//  - the far future (timers, joins, slow flows) waits in a 4-ary heap and
//    moves into its bucket when the ring reaches it; when the ring is empty
//    the clock jumps straight to the heap's first event.
// Why not one heap: with per-pair latencies (say, uniform 20-50 ms) every
// message has its own delay, so a heap holds every message in flight and a
// pop costs ~log4(n) levels of unpredictable compares -- a quarter of the
// simulator's instructions. Here a pop is an index increment, a push an
// append, and each event is compared only inside its own small bucket.
// (time, sequence) is a total order, so the pop order -- and the
// simulation -- is exactly the one a single heap gives.
//
// Events are plain 40-byte records (a kind and four integer fields) so the
// queue never allocates per event; bulky payloads (messages) live in a pool
// owned by the engine. Bucket vectors keep their capacity. Thread-compatible.
#ifndef SWARM_SIM_EVENT_QUEUE_H_
#define SWARM_SIM_EVENT_QUEUE_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "core/check.h"
#include "core/types.h"

namespace swarm::sim {

struct Event {
  int64_t time_us = 0;
  uint64_t seq = 0;
  uint32_t kind = 0;
  uint32_t a = 0;
  uint64_t b = 0;
  uint32_t c = 0;
  uint32_t d = 0;
};

class EventQueue {
 public:
  EventQueue() : ring_(kBuckets) {}

  // Schedules an event at `t`. An event earlier than the last one popped
  // runs next (the clock does not go back; the engine never asks for that).
  void Push(core::Time t, uint32_t kind, uint32_t a = 0, uint64_t b = 0,
            uint32_t c = 0, uint32_t d = 0) {
    Insert(Event{t.micros(), next_seq_++, kind, a, b, c, d});
  }
  // Schedules an event `delay` after `now`.
  void PushAfter(core::Time now, core::Duration delay, uint32_t kind, uint32_t a = 0,
                 uint64_t b = 0, uint32_t c = 0, uint32_t d = 0) {
    Push(now + delay, kind, a, b, c, d);
  }
  // Hints for a caller about to push events at known times (no effect on
  // the order): PrefetchBucket fetches the header of the bucket an event at
  // `t` goes to, PrefetchBucketEnd, called later, the place in it where the
  // event will be appended. Far or current-bucket times are left alone.
  void PrefetchBucket(core::Time t) const {
    const int64_t b = BucketOf(t.micros());
    if (b > cur_ && b < cur_ + kBuckets) __builtin_prefetch(&ring_[Index(b)]);
  }
  void PrefetchBucketEnd(core::Time t) const {
    const int64_t b = BucketOf(t.micros());
    if (b > cur_ && b < cur_ + kBuckets) {
      const std::vector<Event>& v = ring_[Index(b)];
      __builtin_prefetch(v.data() + v.size(), 1);
    }
  }
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  // REQUIRES: !empty(). Not const: finding the next event may advance the
  // ring to the next non-empty bucket.
  const Event& Top() {
    Settle();
    return current_[head_];
  }
  core::Time TopTime() { return core::Time::FromMicros(Top().time_us); }
  Event Pop() {
    Settle();
    --size_;
    return current_[head_++];
  }
  // The event the (k+1)-th Pop from now returns (Peek(0) is the next one),
  // if it is known without advancing the ring (it is in the bucket being
  // consumed); else null. For prefetching only: a later push may still come
  // before it.
  // Past the end of the bucket being consumed it looks into the next one,
  // which Settle sorts ahead of time (see there).
  const Event* Peek(size_t k) const {
    if (head_ + k < current_.size()) return &current_[head_ + k];
    const size_t i = head_ + k - current_.size();
    const std::vector<Event>& next = ring_[static_cast<size_t>((cur_ + 1) & (kBuckets - 1))];
    return i < next.size() ? &next[i] : nullptr;
  }

 private:
  // 256 us x 4096 buckets: ~1 s of near future. At 1000 peers a bucket
  // holds ~8 events, at 10,000 peers ~75.
  static constexpr int64_t kBucketWidth = 256;  // microseconds
  static constexpr int64_t kBuckets = 4096;     // a power of two
  static int64_t BucketOf(int64_t time_us) { return time_us / kBucketWidth; }
  static size_t Index(int64_t bucket) { return static_cast<size_t>(bucket & (kBuckets - 1)); }
  std::vector<Event>& Slot(int64_t bucket) { return ring_[Index(bucket)]; }

  // A function object rather than a function pointer, so that std::sort and
  // std::is_sorted inline the comparison.
  struct BeforeFn {
    bool operator()(const Event& x, const Event& y) const { return Before(x, y); }
  };
  static bool Before(const Event& x, const Event& y) {
    if (x.time_us != y.time_us) return x.time_us < y.time_us;
    return x.seq < y.seq;
  }

  void Insert(const Event& e) {
    ++size_;
    const int64_t b = BucketOf(e.time_us);
    if (b <= cur_) {
      // The bucket being consumed (or, never in practice, the past): keep
      // its unconsumed part sorted. Rare: only zero-delay events and very
      // short flows land here.
      auto pos = std::upper_bound(current_.begin() + static_cast<std::ptrdiff_t>(head_),
                                  current_.end(), e, BeforeFn{});
      current_.insert(pos, e);
    } else if (b < cur_ + kBuckets) {
      Slot(b).push_back(e);
      ++near_;
    } else {
      PushFar(e);
    }
  }

  // Makes current_[head_] the next event. REQUIRES: size_ > 0.
  void Settle() {
    SWARM_CHECK(size_ > 0);
    while (head_ == current_.size()) {
      current_.clear();
      head_ = 0;
      // Step to the next bucket, or jump to the far future if nothing
      // nearer is queued.
      cur_ = near_ > 0 ? cur_ + 1 : std::max(cur_ + 1, BucketOf(far_.front().time_us));
      while (!far_.empty() && BucketOf(far_.front().time_us) < cur_ + kBuckets) {
        Slot(BucketOf(far_.front().time_us)).push_back(far_.front());
        ++near_;
        PopFar();
      }
      std::swap(current_, Slot(cur_));  // the slot gets back an empty vector
      near_ -= current_.size();
      Sort(current_);
      // The next bucket too, so that Peek can see past the end of this one
      // (a bucket holds ~8 events at 1000 peers, fewer than the prefetcher
      // looks ahead). Events pushed into it later are appended unsorted;
      // the line above sorts it again when its turn comes, so the order of
      // the run does not depend on this. The bucket after it is fetched
      // into the cache for its own early sort, one bucket from now.
      Sort(Slot(cur_ + 1));
      const std::vector<Event>& after = Slot(cur_ + 2);
      const char* p = reinterpret_cast<const char*>(after.data());
      const char* end = reinterpret_cast<const char*>(after.data() + after.size());
      for (; p < end; p += 64) __builtin_prefetch(p);
    }
  }

  // Sorts a bucket by (time, sequence), a total order, so the result does
  // not depend on the method. Buckets are small (~8 events at 1000 peers):
  // an insertion sort with plain moves, rather than std::sort, whose
  // insertion step calls memmove for every out-of-place event.
  static void Sort(std::vector<Event>& v) {
    const size_t n = v.size();
    if (n > 64) {
      if (!std::is_sorted(v.begin(), v.end(), BeforeFn{})) {
        std::sort(v.begin(), v.end(), BeforeFn{});
      }
      return;
    }
    for (size_t i = 1; i < n; ++i) {
      if (!Before(v[i], v[i - 1])) continue;
      const Event x = v[i];
      size_t j = i;
      do {
        v[j] = v[j - 1];
        --j;
      } while (j > 0 && Before(x, v[j - 1]));
      v[j] = x;
    }
  }

  // The far future: a 4-ary min-heap (half the depth of a binary heap; the
  // four children of a node share one or two cache lines).
  static constexpr size_t kArity = 4;
  void PushFar(const Event& e) {
    far_.push_back(e);
    size_t i = far_.size() - 1;
    while (i > 0) {
      size_t parent = (i - 1) / kArity;
      if (!Before(e, far_[parent])) break;
      far_[i] = far_[parent];
      i = parent;
    }
    far_[i] = e;
  }
  void PopFar() {
    const Event e = far_.back();
    far_.pop_back();
    const size_t n = far_.size();
    if (n == 0) return;
    size_t i = 0;
    while (true) {
      size_t first = i * kArity + 1;
      if (first >= n) break;
      size_t best = first;
      size_t last = std::min(first + kArity, n);
      for (size_t c = first + 1; c < last; ++c) {
        if (Before(far_[c], far_[best])) best = c;
      }
      if (!Before(far_[best], e)) break;
      far_[i] = far_[best];
      i = best;
    }
    far_[i] = e;
  }

  std::vector<std::vector<Event>> ring_;  // bucket b lives in ring_[b % kBuckets]
  std::vector<Event> current_;            // bucket cur_, sorted
  size_t head_ = 0;                       // current_[head_] is next
  int64_t cur_ = 0;                       // the bucket being consumed
  size_t near_ = 0;                       // events in ring_ (not current_)
  std::vector<Event> far_;                // buckets >= cur_ + kBuckets
  size_t size_ = 0;
  uint64_t next_seq_ = 0;
};

}  // namespace swarm::sim

#endif  // SWARM_SIM_EVENT_QUEUE_H_
