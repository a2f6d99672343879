// EventLoop: the single thread that owns a core object (a Peer or the
// Tracker). Other threads — gRPC reactors, the CLI — only Post() closures to
// it; the loop runs them in order, then calls the owner's `on_wake(now)`, and
// sleeps until the next post or the owner's next deadline.
//
// `now` comes from std::chrono::steady_clock relative to a process-wide
// epoch (SteadyNow), so it never decreases and every loop in one process
// shares a timeline.
//
// Thread-safe: Post/Quit from any thread; Run on the owner thread only.
#ifndef SWARM_NET_EVENT_LOOP_H_
#define SWARM_NET_EVENT_LOOP_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>

#include "core/types.h"

namespace swarm::net {

// Microseconds since the first call in this process (steady clock).
core::Time SteadyNow();

class EventLoop {
 public:
  using Deadline = std::function<std::optional<core::Time>()>;
  using Wake = std::function<void(core::Time)>;

  // Queues `fn` to run on the loop thread. After Quit() `fn` is dropped and
  // Post returns false: a caller handing over a resource (a stream) must
  // then release it itself.
  bool Post(std::function<void()> fn);
  // Asks Run() to return after the closures already queued.
  void Quit();
  // Runs until Quit(). Each round: run queued closures, call on_wake(now),
  // then wait for a post or until deadline().
  void Run(const Deadline& deadline, const Wake& on_wake);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool quit_ = false;
};

}  // namespace swarm::net

#endif  // SWARM_NET_EVENT_LOOP_H_
