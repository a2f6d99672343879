#include "net-real/event_loop.h"

#include <chrono>

namespace swarm::net {

core::Time SteadyNow() {
  static const auto epoch = std::chrono::steady_clock::now();
  auto d = std::chrono::steady_clock::now() - epoch;
  return core::Time::FromMicros(
      std::chrono::duration_cast<std::chrono::microseconds>(d).count());
}

bool EventLoop::Post(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (quit_) return false;
    queue_.push_back(std::move(fn));
  }
  cv_.notify_one();
  return true;
}

void EventLoop::Quit() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    quit_ = true;
  }
  cv_.notify_one();
}

void EventLoop::Run(const Deadline& deadline, const Wake& on_wake) {
  std::deque<std::function<void()>> batch;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      std::optional<core::Time> until = deadline();
      auto ready = [&] { return quit_ || !queue_.empty(); };
      if (!until) {
        cv_.wait(lock, ready);
      } else {
        core::Duration wait = *until - SteadyNow();
        if (wait > core::Duration::Zero()) {
          cv_.wait_for(lock, std::chrono::microseconds(wait.micros()), ready);
        }
      }
      batch.swap(queue_);
      if (quit_ && batch.empty()) return;
    }
    for (auto& fn : batch) fn();
    batch.clear();
    on_wake(SteadyNow());
  }
}

}  // namespace swarm::net
