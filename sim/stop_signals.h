// The signals that ask `sim run` and `sim sweep` to stop (SIGINT, SIGTERM,
// SIGHUP), a scope that handles them, and running a helper program that
// such a signal stops (sim/stop_signals.cc).
#ifndef SWARM_SIM_STOP_SIGNALS_H_
#define SWARM_SIM_STOP_SIGNALS_H_

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <iterator>
#include <string>
#include <vector>

namespace swarm::sim {

inline constexpr int kStopSignals[] = {SIGINT, SIGTERM, SIGHUP};

// Blocks the stop signals while it exists, or until Unblock() (a signal
// that arrives meanwhile is delivered then). previous() is the mask before,
// for a forked child to restore.
class BlockStopSignals {
 public:
  BlockStopSignals() {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : kStopSignals) sigaddset(&set, sig);
    sigprocmask(SIG_BLOCK, &set, &previous_);
  }
  ~BlockStopSignals() { Unblock(); }
  void Unblock() {
    if (blocked_) sigprocmask(SIG_SETMASK, &previous_, nullptr);
    blocked_ = false;
  }
  const sigset_t& previous() const { return previous_; }
  BlockStopSignals(const BlockStopSignals&) = delete;
  BlockStopSignals& operator=(const BlockStopSignals&) = delete;

 private:
  sigset_t previous_;
  bool blocked_ = true;
};

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

const char* StopSignalName(int sig);

// In a child just forked from `parent` (its getpid() before the fork),
// before exec: the kernel sends the child SIGTERM when the parent dies, so
// that a `kill -9` of sim sweep or sim run does not leave its runs or plot
// scripts going on without it; if the parent died already, the child ends
// at once. The setting survives exec. Async-signal-safe.
void TerminateWithParent(pid_t parent);

// How a program run by RunStoppably ended.
struct ChildOutcome {
  bool started = false;  // false: fork or exec failed
  bool reaped = false;   // its status is known (false: waiting for it failed)
  int status = 0;        // from waitpid, when reaped
  int stopped_by = 0;    // the stop signal sim got meanwhile, or 0
  bool ok() const {
    return started && reaped && stopped_by == 0 && WIFEXITED(status) &&
           WEXITSTATUS(status) == 0;
  }
};

// Runs argv[0] (a path) with the rest of `argv` and waits for it. A stop
// signal sim gets meanwhile, even one that comes before the child exists,
// ends the child with SIGTERM and is reported in `stopped_by` (the caller
// then ends sim by it). The child starts with SIGINT ignored, so Ctrl-C at
// a terminal, which reaches the whole process group, stops it only through
// sim: a Python script dies from the SIGTERM without a KeyboardInterrupt
// traceback. A stop signal ignored when sim started is ignored by the
// child too (its SIGINT always is). SIGCHLD ignored by sim (which would
// reap the child unseen) is set to its default meanwhile, so the child's
// status is known. `quiet_stderr` sends the child's stderr to /dev/null.
ChildOutcome RunStoppably(const std::vector<std::string>& argv, bool quiet_stderr = false);

// Ends sim by `sig` (default action), as a shell expects of an interrupted
// program: exit status 128 + sig. Returns 128 + sig only if it did not end.
inline int EndBySignal(int sig) {
  ::signal(sig, SIG_DFL);
  ::raise(sig);
  return 128 + sig;
}

}  // namespace swarm::sim

#endif  // SWARM_SIM_STOP_SIGNALS_H_
