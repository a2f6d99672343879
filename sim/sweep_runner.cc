// RunSweep (sweep.h): the runs of a sweep as parallel child processes.
//
// Why processes and not threads: each run is exactly the `sim run` command
// that --emit-jobs prints and jobs.txt records, so a local sweep and a
// cluster sweep execute the same code and give byte-identical folders. A
// run that trips a SWARM_CHECK aborts only its own process and is reported
// while the others carry on, and each run's memory goes back to the system
// when it ends. Scenario parsing keeps per-parse state in a thread_local and
// the engine is only thread-compatible, so threads would also need more
// care for no gain: starting a process costs milliseconds, a run seconds.
//
// Results cannot depend on the number of jobs: runs share nothing, each
// writes only its own folder, and sweep.csv is built afterwards in plan
// order, not in the order runs finish.
//
// A sweep that is told to stop (SIGINT, SIGTERM, SIGHUP) passes the signal
// on to its running children and waits for them before it returns: a
// `kill` of the sweep alone used to leave its runs going on without it,
// where a following `--resume` would race with them. Ctrl-C reaches the
// children from the terminal anyway; forwarding it again does no harm.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>

#include "sim/stop_signals.h"
#include "sim/sweep.h"

namespace swarm::sim {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string FormatClock(double seconds) {
  int s = static_cast<int>(seconds + 0.5);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%dh%02dm", s / 3600, s / 60 % 60);
  else
    std::snprintf(buf, sizeof buf, "%dm%02ds", s / 60, s % 60);
  return buf;
}

// What the stop-signal handler saw: `g_stop_signal` is the last stop
// signal received (0: none), `g_stop_count` how many arrived.
volatile std::sig_atomic_t g_stop_signal = 0;
volatile std::sig_atomic_t g_stop_count = 0;

void OnStopSignal(int sig) {
  g_stop_signal = sig;
  g_stop_count = g_stop_count + 1;
}

// A child process running one `sim run`.
struct Child {
  size_t run = 0;
  Clock::time_point start;
};

// Starts `binary args...` with stdout and stderr to `log`. Returns the pid
// or -1 (the reason is in errno).
pid_t Spawn(const std::string& binary, const std::vector<std::string>& args,
            const std::string& log) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(binary.c_str()));
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  // Until the child has put the default stop-signal actions back, a signal
  // forwarded to it would only run the sweep's handler, in the child, and
  // be lost at exec: the run would go on. So they wait, blocked.
  BlockStopSignals blocked;
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {  // child: only async-signal-safe calls until exec
    TerminateWithParent(parent);
    struct sigaction dfl = {};
    dfl.sa_handler = SIG_DFL;
    for (int sig : kStopSignals) {
      struct sigaction now;
      if (sigaction(sig, nullptr, &now) == 0 && now.sa_handler != SIG_IGN)
        sigaction(sig, &dfl, nullptr);
    }
    sigprocmask(SIG_SETMASK, &blocked.previous(), nullptr);
    int null = open("/dev/null", O_RDONLY);
    if (null >= 0) dup2(null, STDIN_FILENO);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    execv(binary.c_str(), argv.data());
    const char msg[] = "sim sweep: cannot execute the simulator binary\n";
    (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
    _exit(127);
  }
  int fork_errno = errno;
  close(fd);  // also when fork failed (pid -1)
  errno = fork_errno;
  return pid;
}

std::string Describe(int status) {
  if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

std::string Tail(const std::string& path, size_t max_lines) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::string out;
  for (size_t i = lines.size() > max_lines ? lines.size() - max_lines : 0; i < lines.size(); ++i)
    out += "    | " + lines[i] + "\n";
  return out;
}

// Sends `sig` to every child in `running` and waits until all of them have
// ended. A second stop signal meanwhile (an impatient user) kills them
// outright with SIGKILL.
void StopChildren(std::map<pid_t, Child>& running, int sig) {
  for (const auto& entry : running) kill(entry.first, sig);
  const int signals_before = g_stop_count;
  bool killed = false;
  for (auto it = running.begin(); it != running.end();) {
    int status = 0;
    pid_t r = waitpid(it->first, &status, 0);  // EINTR when a signal arrives
    if (r == it->first || (r < 0 && errno != EINTR)) {
      it = running.erase(it);
      continue;
    }
    if (!killed && g_stop_count != signals_before) {
      for (const auto& entry : running) kill(entry.first, SIGKILL);
      killed = true;
    }
  }
}

class Progress {
 public:
  Progress(const SweepRunnerOptions& o, size_t total) : o_(o), total_(total) {}
  // Redraws at most four times a second, and whenever a run ends.
  void Show(size_t done, size_t running, size_t failed) {
    if (!o_.progress_line) return;
    double wall = Since(start_);
    if (done == last_done_ && wall - last_shown_ < 0.25) return;
    last_done_ = done;
    last_shown_ = wall;
    std::string eta = "?";
    if (done > 0) eta = FormatClock(wall / done * (total_ - done));
    std::fprintf(stderr, "\r  sweep %zu/%zu runs done | %zu running | %zu failed | %s | ETA %s   ",
                 done, total_, running, failed, FormatClock(wall).c_str(), eta.c_str());
    shown_ = true;
  }
  void RunDone(size_t done, const std::string& name, double seconds) {
    if (!o_.per_run_lines) return;
    std::fprintf(stderr, "  [%zu/%zu] %s done in %.1f s\n", done, total_, name.c_str(), seconds);
  }
  void Clear() {
    if (shown_) std::fprintf(stderr, "\r%100s\r", "");
  }

 private:
  const SweepRunnerOptions& o_;
  size_t total_;
  Clock::time_point start_ = Clock::now();
  bool shown_ = false;
  size_t last_done_ = ~size_t{0};
  double last_shown_ = 0;
};

}  // namespace

SweepOutcome RunSweep(const SweepSpec& spec, const std::vector<SweepRun>& runs,
                      const SweepRunnerOptions& options) {
  fs::path logs = fs::path(spec.out_dir) / "logs";
  std::error_code ec;
  fs::create_directories(logs, ec);
  auto log_of = [&](size_t run) { return (logs / (runs[run].name + ".log")).string(); };
  SweepOutcome outcome;
  std::map<pid_t, Child> running;
  Progress progress(options, runs.size());
  // While runs go, a stop signal sets g_stop_signal instead of killing the
  // sweep (one ignored when the sweep started stays ignored, for the sweep
  // and its children).
  g_stop_signal = 0;
  g_stop_count = 0;
  StopSignalScope stop_signals(OnStopSignal);
  size_t next = 0, done = 0;
  while ((next < runs.size() || !running.empty()) && g_stop_signal == 0) {
    while (running.size() < std::max(1u, options.jobs) && next < runs.size() &&
           g_stop_signal == 0) {
      const SweepRun& r = runs[next];
      pid_t pid = Spawn(options.sim_binary, RunArguments(spec, r), log_of(next));
      if (pid < 0) {
        progress.Clear();
        std::cerr << "sim sweep: cannot start run " << r.name << ": " << std::strerror(errno)
                  << "\n";
        outcome.failed.push_back(r.name);
        ++done;
      } else {
        running[pid] = Child{next, Clock::now()};
      }
      ++next;
    }
    bool reaped = false;
    for (auto it = running.begin(); it != running.end();) {
      int status = 0;
      if (waitpid(it->first, &status, WNOHANG) != it->first) {
        ++it;
        continue;
      }
      reaped = true;
      const size_t run = it->second.run;
      // Ended by the signal with the sweep (Ctrl-C reaches both): stopped,
      // not failed. One that finished or failed on its own just then is
      // counted as such, its failure log kept.
      if (g_stop_signal != 0 && WIFSIGNALED(status)) {
        fs::remove(log_of(run), ec);
        ++outcome.stopped_runs;
        it = running.erase(it);
        continue;
      }
      ++done;
      const SweepRun& r = runs[run];
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        fs::remove(log_of(run), ec);
        progress.RunDone(done, r.name, Since(it->second.start));
      } else {
        progress.Clear();
        std::cerr << "sim sweep: run " << r.name << " failed (" << Describe(status) << ")\n"
                  << Tail(log_of(run), 5) << "    log:  " << log_of(run) << "\n    redo: "
                  << ShellCommand(options.redo_program, RunArguments(spec, r)) << "\n";
        outcome.failed.push_back(r.name);
      }
      it = running.erase(it);
    }
    progress.Show(done, running.size(), outcome.failed.size());
    if (!reaped && g_stop_signal == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  progress.Clear();
  if (g_stop_signal != 0) {
    outcome.stopped_by = g_stop_signal;
    outcome.stopped_runs += running.size();
    for (const auto& [pid, child] : running) fs::remove(log_of(child.run), ec);
    StopChildren(running, g_stop_signal);
  }
  fs::remove(logs, ec);  // only succeeds when no log was kept
  return outcome;
}

}  // namespace swarm::sim
