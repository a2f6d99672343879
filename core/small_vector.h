// SmallVector: a vector of trivially copyable elements whose first N live
// inside the object; only a longer one moves its elements to the heap.
//
// For a Connection's short queues (our requests in flight, the neighbour's
// requests to us, the stale requests): a pipeline's worth of entries, read
// on every block sent or received. Kept inline they sit in the connection's
// own cache lines, which the message's handler reads anyway, rather than in
// a heap block of their own, one more cold line per message in a simulated
// swarm of thousands of connections.
//
// Only what the core uses of std::vector: iteration, push_back, erase of
// one element, front/back, clear. Iterators and references are invalidated
// by push_back and erase, as std::vector's may be.
//
// Thread-compatible.
#ifndef SWARM_CORE_SMALL_VECTOR_H_
#define SWARM_CORE_SMALL_VECTOR_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>

#include "core/check.h"

namespace swarm::core {

template <typename T, size_t N>
class SmallVector {
  static_assert(std::is_trivially_copyable_v<T>, "elements are copied bytewise");
  static_assert(N > 0);

 public:
  using value_type = T;
  using iterator = T*;
  using const_iterator = const T*;

  SmallVector() = default;
  SmallVector(const SmallVector& o) { *this = o; }
  SmallVector& operator=(const SmallVector& o) {
    if (this == &o) return *this;
    clear();
    Reserve(o.size_);
    std::copy_n(o.data(), o.size_, data());
    size_ = o.size_;
    return *this;
  }
  SmallVector(SmallVector&& o) noexcept { *this = std::move(o); }
  SmallVector& operator=(SmallVector&& o) noexcept {
    if (this == &o) return *this;
    heap_ = std::move(o.heap_);
    capacity_ = o.capacity_;
    size_ = o.size_;
    std::copy_n(o.inline_, N, inline_);
    o.capacity_ = N;
    o.size_ = 0;
    return *this;
  }

  T* data() { return heap_ ? heap_.get() : inline_; }
  const T* data() const { return heap_ ? heap_.get() : inline_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  iterator begin() { return data(); }
  iterator end() { return data() + size_; }
  const_iterator begin() const { return data(); }
  const_iterator end() const { return data() + size_; }
  T& front() { return data()[0]; }
  const T& front() const { return data()[0]; }
  T& back() { return data()[size_ - 1]; }
  const T& back() const { return data()[size_ - 1]; }
  T& operator[](size_t i) { return data()[i]; }
  const T& operator[](size_t i) const { return data()[i]; }

  void push_back(const T& v) {
    if (size_ == capacity_) Reserve(size_t{capacity_} * 2);
    data()[size_++] = v;
  }
  // REQUIRES: begin() <= it < end(). Returns the position after the erased
  // element, as std::vector does.
  iterator erase(const_iterator it) {
    T* p = data() + (it - data());
    SWARM_CHECK(p >= data() && p < end());
    std::copy(p + 1, end(), p);
    --size_;
    return p;
  }
  // Keeps the capacity (a queue that once grew past N stays on the heap).
  void clear() { size_ = 0; }

 private:
  void Reserve(size_t n) {
    if (n <= capacity_) return;
    SWARM_CHECK(n <= UINT32_MAX);
    auto bigger = std::make_unique<T[]>(n);
    std::copy_n(data(), size_, bigger.get());
    heap_ = std::move(bigger);
    capacity_ = static_cast<uint32_t>(n);
  }

  uint32_t size_ = 0;
  uint32_t capacity_ = N;
  std::unique_ptr<T[]> heap_;  // null while the elements fit inline_
  T inline_[N] = {};
};

}  // namespace swarm::core

#endif  // SWARM_CORE_SMALL_VECTOR_H_
