#include "sim/stop_signals.h"

#include <fcntl.h>
#include <sys/prctl.h>

#include <atomic>
#include <cerrno>

namespace swarm::sim {
namespace {

volatile sig_atomic_t g_child_stop_signal = 0;
volatile pid_t g_stoppable_child = 0;  // 0 once it may be reaped

extern "C" void StopTheChild(int sig) {
  // Only async-signal-safe calls here.
  g_child_stop_signal = sig;
  if (g_stoppable_child > 0) ::kill(g_stoppable_child, SIGTERM);
}

// While it exists, SIGCHLD is not ignored (an ignored SIGCHLD makes the
// kernel reap children at once: waitpid then fails with ECHILD).
class SigchldNotIgnored {
 public:
  SigchldNotIgnored() {
    sigaction(SIGCHLD, nullptr, &before_);
    changed_ = before_.sa_handler == SIG_IGN || (before_.sa_flags & SA_NOCLDWAIT);
    if (changed_) {
      struct sigaction dfl = {};
      dfl.sa_handler = SIG_DFL;
      sigemptyset(&dfl.sa_mask);
      sigaction(SIGCHLD, &dfl, nullptr);
    }
  }
  ~SigchldNotIgnored() {
    if (changed_) sigaction(SIGCHLD, &before_, nullptr);
  }

 private:
  struct sigaction before_;
  bool changed_ = false;
};

}  // namespace

const char* StopSignalName(int sig) {
  return sig == SIGINT    ? "SIGINT"
         : sig == SIGTERM ? "SIGTERM"
         : sig == SIGHUP  ? "SIGHUP"
                          : "a signal";
}

void TerminateWithParent(pid_t parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  // Died between the fork and the prctl: no signal will come.
  if (::getppid() != parent) _exit(128 + SIGTERM);
}

ChildOutcome RunStoppably(const std::vector<std::string>& argv, bool quiet_stderr) {
  ChildOutcome out;
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  // Blocked before the handler goes in, and across fork: a stop signal
  // that comes before the child exists waits until its pid is known, and
  // the handler never sees a half-set pid.
  BlockStopSignals blocked;
  g_child_stop_signal = 0;
  g_stoppable_child = 0;
  StopSignalScope scope(StopTheChild);
  SigchldNotIgnored sigchld;
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    TerminateWithParent(parent);
    struct sigaction sa = {};
    for (int sig : kStopSignals) {
      struct sigaction now;
      sigaction(sig, nullptr, &now);
      // Our handler does not survive exec anyway; an ignored signal would.
      sa.sa_handler = sig == SIGINT ? SIG_IGN : now.sa_handler == SIG_IGN ? SIG_IGN : SIG_DFL;
      sigaction(sig, &sa, nullptr);
    }
    sigprocmask(SIG_SETMASK, &blocked.previous(), nullptr);
    if (quiet_stderr) {
      const int null = ::open("/dev/null", O_WRONLY);
      if (null >= 0) ::dup2(null, STDERR_FILENO);
    }
    ::execv(args[0], args.data());
    _exit(127);
  }
  if (pid < 0) return out;
  g_stoppable_child = pid;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  // A stop signal that came while blocked runs the handler now.
  blocked.Unblock();
  // Wait for it to end without reaping it, forget it (so the handler
  // cannot signal a process that takes its pid once reaped), then reap.
  siginfo_t info = {};
  while (::waitid(P_PID, pid, &info, WEXITED | WNOWAIT) < 0 && errno == EINTR) {
  }
  g_stoppable_child = 0;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  pid_t reaped;
  while ((reaped = ::waitpid(pid, &out.status, 0)) < 0 && errno == EINTR) {
  }
  out.reaped = reaped == pid;
  out.started = !(out.reaped && WIFEXITED(out.status) && WEXITSTATUS(out.status) == 127);
  out.stopped_by = g_child_stop_signal;
  return out;
}

}  // namespace swarm::sim
