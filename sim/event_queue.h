// EventQueue: the simulator's timeline, a 4-ary heap of small POD events
// ordered by (time, sequence). The sequence number is assigned at push, so
// two events at the same time run in the order they were scheduled.
//
// Events are plain 40-byte records (a kind and four integer fields) so the
// heap never allocates per event; bulky payloads (messages) live in a pool
// owned by the engine. Thread-compatible.
#ifndef SWARM_SIM_EVENT_QUEUE_H_
#define SWARM_SIM_EVENT_QUEUE_H_

#include <algorithm>
#include <cstdint>
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
  void Push(core::Time t, uint32_t kind, uint32_t a = 0, uint64_t b = 0,
            uint32_t c = 0, uint32_t d = 0) {
    heap_.push_back(Event{t.micros(), next_seq_++, kind, a, b, c, d});
    SiftUp(heap_.size() - 1);
  }
  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  // REQUIRES: !empty().
  const Event& Top() const { return heap_.front(); }
  core::Time TopTime() const { return core::Time::FromMicros(heap_.front().time_us); }
  Event Pop() {
    SWARM_CHECK(!heap_.empty());
    Event top = heap_.front();
    heap_.front() = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) SiftDown(0);
    return top;
  }

 private:
  // A 4-ary min-heap: half the depth of a binary heap and the four children
  // of a node share one or two cache lines, which matters once the queue
  // holds millions of events. (time, seq) is a total order, so the pop
  // order -- and the simulation -- does not depend on the heap's shape.
  static constexpr size_t kArity = 4;
  static bool Before(const Event& x, const Event& y) {
    if (x.time_us != y.time_us) return x.time_us < y.time_us;
    return x.seq < y.seq;
  }
  void SiftUp(size_t i) {
    Event e = heap_[i];
    while (i > 0) {
      size_t parent = (i - 1) / kArity;
      if (!Before(e, heap_[parent])) break;
      heap_[i] = heap_[parent];
      i = parent;
    }
    heap_[i] = e;
  }
  void SiftDown(size_t i) {
    Event e = heap_[i];
    const size_t n = heap_.size();
    while (true) {
      size_t first = i * kArity + 1;
      if (first >= n) break;
      size_t best = first;
      size_t last = std::min(first + kArity, n);
      for (size_t c = first + 1; c < last; ++c) {
        if (Before(heap_[c], heap_[best])) best = c;
      }
      if (!Before(heap_[best], e)) break;
      heap_[i] = heap_[best];
      i = best;
    }
    heap_[i] = e;
  }

  std::vector<Event> heap_;
  uint64_t next_seq_ = 0;
};

}  // namespace swarm::sim

#endif  // SWARM_SIM_EVENT_QUEUE_H_
