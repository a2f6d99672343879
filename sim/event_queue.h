// EventQueue: the simulator's timeline, ordered by (time, sequence). The
// sequence number is assigned at push, so two events at the same time run in
// the order they were scheduled.
//
// Two stores behind one order:
//  - a 4-ary heap for events at arbitrary times (flow completions, timers);
//  - FIFO *lanes* for events scheduled a fixed delay after the current time
//    (message deliveries: every message on a pair pays the same one-way
//    latency). The clock never goes back, so such events arrive in a lane
//    already sorted by (time, sequence) and cost O(1) to push and pop. A
//    scenario has few distinct latencies (one constant, a class matrix, a
//    handful of region-to-region paths); delays beyond kMaxLanes distinct
//    values go to the heap.
// Pop takes the smallest (time, sequence) over the heap top and the lane
// heads, so the order -- and the simulation -- is exactly what one heap
// would give.
//
// Events are plain 40-byte records (a kind and four integer fields) so the
// queue never allocates per event; bulky payloads (messages) live in a pool
// owned by the engine. Thread-compatible.
#ifndef SWARM_SIM_EVENT_QUEUE_H_
#define SWARM_SIM_EVENT_QUEUE_H_

#include <algorithm>
#include <cstddef>
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
  // Schedules an event at `t`.
  void Push(core::Time t, uint32_t kind, uint32_t a = 0, uint64_t b = 0,
            uint32_t c = 0, uint32_t d = 0) {
    PushHeap(Event{t.micros(), next_seq_++, kind, a, b, c, d});
  }
  // Schedules an event `delay` after `now`. REQUIRES: `now` is never earlier
  // than the `now` of a previous call (the simulation clock).
  void PushAfter(core::Time now, core::Duration delay, uint32_t kind, uint32_t a = 0,
                 uint64_t b = 0, uint32_t c = 0, uint32_t d = 0) {
    Event e{(now + delay).micros(), next_seq_++, kind, a, b, c, d};
    Lane* lane = LaneFor(delay.micros());
    if (lane && (lane->empty() || lane->back_time() <= e.time_us)) {
      lane->push(e);
      best_ = kUnknown;
      return;
    }
    PushHeap(e);
  }
  bool empty() const { return size() == 0; }
  size_t size() const {
    size_t n = heap_.size();
    for (const Lane& l : lanes_) n += l.size();
    return n;
  }
  // REQUIRES: !empty().
  const Event& Top() const { return *Front(Best()); }
  core::Time TopTime() const { return core::Time::FromMicros(Top().time_us); }
  Event Pop() {
    SWARM_CHECK(!empty());
    int src = Best();
    best_ = kUnknown;
    if (src >= 0) return lanes_[static_cast<size_t>(src)].pop();
    Event top = heap_.front();
    heap_.front() = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) SiftDown(0);
    return top;
  }

 private:
  static constexpr size_t kMaxLanes = 8;
  static constexpr int kHeap = -1;
  static constexpr int kUnknown = -2;

  // A FIFO of events sorted by construction: a ring over a vector that
  // compacts once its consumed prefix is larger than the live part.
  class Lane {
   public:
    explicit Lane(int64_t delay) : delay_(delay) {}
    int64_t delay() const { return delay_; }
    bool empty() const { return head_ == items_.size(); }
    size_t size() const { return items_.size() - head_; }
    const Event& front() const { return items_[head_]; }
    int64_t back_time() const { return items_.back().time_us; }
    void push(const Event& e) {
      if (head_ > 4096 && head_ * 2 > items_.size()) {
        items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
        head_ = 0;
      }
      items_.push_back(e);
    }
    Event pop() { return items_[head_++]; }

   private:
    int64_t delay_;
    std::vector<Event> items_;
    size_t head_ = 0;
  };

  Lane* LaneFor(int64_t delay_us) {
    for (Lane& l : lanes_) {
      if (l.delay() == delay_us) return &l;
    }
    if (lanes_.size() == kMaxLanes) return nullptr;
    lanes_.emplace_back(delay_us);
    return &lanes_.back();
  }
  const Event* Front(int src) const {
    return src >= 0 ? &lanes_[static_cast<size_t>(src)].front() : &heap_.front();
  }
  // Where the smallest event is: a lane index or kHeap. Cached until the
  // next push or pop.
  int Best() const {
    if (best_ != kUnknown) return best_;
    int best = heap_.empty() ? kUnknown : kHeap;
    for (size_t i = 0; i < lanes_.size(); ++i) {
      if (lanes_[i].empty()) continue;
      if (best == kUnknown || Before(lanes_[i].front(), *Front(best))) best = static_cast<int>(i);
    }
    best_ = best;
    return best;
  }
  void PushHeap(const Event& e) {
    heap_.push_back(e);
    SiftUp(heap_.size() - 1);
    best_ = kUnknown;
  }

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
  std::vector<Lane> lanes_;
  mutable int best_ = kUnknown;
  uint64_t next_seq_ = 0;
};

}  // namespace swarm::sim

#endif  // SWARM_SIM_EVENT_QUEUE_H_
