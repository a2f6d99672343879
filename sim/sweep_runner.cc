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
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>

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
  pid_t pid = fork();
  if (pid == 0) {  // child: only async-signal-safe calls until exec
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

std::vector<std::string> RunSweep(const SweepSpec& spec, const std::vector<SweepRun>& runs,
                                  const SweepRunnerOptions& options) {
  fs::path logs = fs::path(spec.out_dir) / "logs";
  std::error_code ec;
  fs::create_directories(logs, ec);
  std::vector<std::string> failed;
  std::map<pid_t, Child> running;
  Progress progress(options, runs.size());
  size_t next = 0, done = 0;
  while (next < runs.size() || !running.empty()) {
    while (running.size() < std::max(1u, options.jobs) && next < runs.size()) {
      const SweepRun& r = runs[next];
      std::string log = (logs / (r.name + ".log")).string();
      pid_t pid = Spawn(options.sim_binary, RunArguments(spec, r), log);
      if (pid < 0) {
        progress.Clear();
        std::cerr << "sim sweep: cannot start run " << r.name << ": " << std::strerror(errno)
                  << "\n";
        failed.push_back(r.name);
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
      ++done;
      const SweepRun& r = runs[it->second.run];
      std::string log = (logs / (r.name + ".log")).string();
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        fs::remove(log, ec);
        progress.RunDone(done, r.name, Since(it->second.start));
      } else {
        progress.Clear();
        std::cerr << "sim sweep: run " << r.name << " failed (" << Describe(status) << ")\n"
                  << Tail(log, 5) << "    log:  " << log << "\n    redo: "
                  << ShellCommand(options.sim_binary, RunArguments(spec, r)) << "\n";
        failed.push_back(r.name);
      }
      it = running.erase(it);
    }
    progress.Show(done, running.size(), failed.size());
    if (!reaped) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  progress.Clear();
  fs::remove(logs, ec);  // only succeeds when no log was kept
  return failed;
}

}  // namespace swarm::sim
