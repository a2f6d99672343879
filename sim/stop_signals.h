// The signals that ask `sim run` and `sim sweep` to stop (SIGINT, SIGTERM,
// SIGHUP), and a scope that handles them. Header-only: two small users.
#ifndef SWARM_SIM_STOP_SIGNALS_H_
#define SWARM_SIM_STOP_SIGNALS_H_

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <iterator>
#include <string>
#include <vector>

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

inline const char* StopSignalName(int sig) {
  return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : sig == SIGHUP ? "SIGHUP" : "a signal";
}

// How a program run by RunStoppably ended.
struct ChildOutcome {
  bool started = false;  // false: fork or exec failed
  int status = 0;        // from waitpid, when started
  int stopped_by = 0;    // the stop signal sim got meanwhile, or 0
  bool ok() const { return started && stopped_by == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0; }
};

inline volatile sig_atomic_t g_child_stop_signal = 0;
inline volatile pid_t g_stoppable_child = 0;

extern "C" inline void StopTheChild(int sig) {
  // Only async-signal-safe calls here.
  g_child_stop_signal = sig;
  if (g_stoppable_child > 0) ::kill(g_stoppable_child, SIGTERM);
}

// Runs argv[0] (a path) with `args` and waits for it. A stop signal sim
// gets meanwhile ends the child with SIGTERM and is reported in
// `stopped_by` (the caller then ends sim by it). The child starts with
// SIGINT ignored, so Ctrl-C at a terminal, which reaches the whole process
// group, stops it only through sim: a Python script dies from the SIGTERM
// without a KeyboardInterrupt traceback. A stop signal ignored when sim
// started is ignored by the child too (its SIGINT always is).
inline ChildOutcome RunStoppably(const std::vector<std::string>& argv, bool quiet_stderr = false) {
  ChildOutcome out;
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  g_child_stop_signal = 0;
  StopSignalScope scope(StopTheChild);
  // Blocked across fork, so the handler never sees a half-set pid.
  sigset_t stops, before;
  sigemptyset(&stops);
  for (int sig : kStopSignals) sigaddset(&stops, sig);
  sigprocmask(SIG_BLOCK, &stops, &before);
  const pid_t pid = ::fork();
  if (pid == 0) {
    struct sigaction sa = {};
    for (int sig : kStopSignals) {
      struct sigaction now;
      sigaction(sig, nullptr, &now);
      // Our handler does not survive exec anyway; an ignored signal would.
      sa.sa_handler = sig == SIGINT ? SIG_IGN : now.sa_handler == SIG_IGN ? SIG_IGN : SIG_DFL;
      sigaction(sig, &sa, nullptr);
    }
    sigprocmask(SIG_SETMASK, &before, nullptr);
    if (quiet_stderr) {
      const int null = ::open("/dev/null", O_WRONLY);
      if (null >= 0) ::dup2(null, STDERR_FILENO);
    }
    ::execv(args[0], args.data());
    _exit(127);
  }
  if (pid < 0) {
    sigprocmask(SIG_SETMASK, &before, nullptr);
    return out;
  }
  g_stoppable_child = pid;
  // A stop signal that came while blocked runs the handler now.
  sigprocmask(SIG_SETMASK, &before, nullptr);
  while (::waitpid(pid, &out.status, 0) < 0 && errno == EINTR) {
  }
  g_stoppable_child = 0;
  out.started = !(WIFEXITED(out.status) && WEXITSTATUS(out.status) == 127);
  out.stopped_by = g_child_stop_signal;
  return out;
}

// Ends sim by `sig` (default action), as a shell expects of an interrupted
// program: exit status 128 + sig. Returns 128 + sig only if it did not end.
inline int EndBySignal(int sig) {
  ::signal(sig, SIG_DFL);
  ::raise(sig);
  return 128 + sig;
}

}  // namespace swarm::sim

#endif  // SWARM_SIM_STOP_SIGNALS_H_
