// The signals that ask `sim run` and `sim sweep` to stop (SIGINT, SIGTERM,
// SIGHUP), and a scope that handles them. Header-only: two small users.
#ifndef SWARM_SIM_STOP_SIGNALS_H_
#define SWARM_SIM_STOP_SIGNALS_H_

#include <signal.h>

#include <iterator>

namespace swarm::sim {

inline constexpr int kStopSignals[] = {SIGINT, SIGTERM, SIGHUP};

// While it exists (or until Release), the stop signals run `handler`, with
// all three blocked meanwhile; then the previous actions come back. A
// signal ignored when the scope began (`nohup` ignores SIGHUP, a script's
// background job SIGINT) stays ignored.
class StopSignalScope {
 public:
  explicit StopSignalScope(void (*handler)(int)) {
    struct sigaction sa = {};
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    for (int sig : kStopSignals) sigaddset(&sa.sa_mask, sig);
    for (size_t i = 0; i < std::size(kStopSignals); ++i) {
      sigaction(kStopSignals[i], nullptr, &before_[i]);
      if (before_[i].sa_handler != SIG_IGN) sigaction(kStopSignals[i], &sa, nullptr);
    }
  }
  ~StopSignalScope() { Release(); }
  void Release() {
    if (released_) return;
    released_ = true;
    for (size_t i = 0; i < std::size(kStopSignals); ++i)
      sigaction(kStopSignals[i], &before_[i], nullptr);
  }
  StopSignalScope(const StopSignalScope&) = delete;
  StopSignalScope& operator=(const StopSignalScope&) = delete;

 private:
  struct sigaction before_[std::size(kStopSignals)];
  bool released_ = false;
};

}  // namespace swarm::sim

#endif  // SWARM_SIM_STOP_SIGNALS_H_
