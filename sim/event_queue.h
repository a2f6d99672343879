// EventQueue: the simulator's timeline, a binary heap of small POD events
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
    std::push_heap(heap_.begin(), heap_.end(), Later);
  }
  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  // REQUIRES: !empty().
  const Event& Top() const { return heap_.front(); }
  core::Time TopTime() const { return core::Time::FromMicros(heap_.front().time_us); }
  Event Pop() {
    SWARM_CHECK(!heap_.empty());
    std::pop_heap(heap_.begin(), heap_.end(), Later);
    Event e = heap_.back();
    heap_.pop_back();
    return e;
  }

 private:
  // A function object (not a function pointer) so the heap code inlines it.
  struct LaterT {
    bool operator()(const Event& x, const Event& y) const {
      if (x.time_us != y.time_us) return x.time_us > y.time_us;
      return x.seq > y.seq;
    }
  };
  static constexpr LaterT Later{};
  std::vector<Event> heap_;
  uint64_t next_seq_ = 0;
};

}  // namespace swarm::sim

#endif  // SWARM_SIM_EVENT_QUEUE_H_
