// What `sim run` makes (the folders --out and --trace need, the trace, the
// result files) and removes again when a stop signal (SIGINT, SIGTERM,
// SIGHUP) interrupts it, only while each path still holds the very file or
// folder it made. One run at a time: the handler reads a process-wide
// pointer to the run's MadeByRun.
#ifndef SWARM_SIM_RUN_CLEANUP_H_
#define SWARM_SIM_RUN_CLEANUP_H_

#include <sys/stat.h>

#include <atomic>
#include <csignal>
#include <optional>
#include <string>
#include <vector>

#include "sim/results.h"
#include "sim/stop_signals.h"

namespace swarm::sim {

// A path this run made, and the device and inode it made there, so that
// an interrupt removes it only while the path still holds that very file
// or folder: another run that shares the --out folder (both found it
// missing, say) keeps its own. `known` is set last, once the rest is.
struct Owned {
  std::string path;
  dev_t dev = 0;
  ino_t ino = 0;
  volatile sig_atomic_t known = 0;
  void Record(const struct stat& st) {
    dev = st.st_dev;
    ino = st.st_ino;
    std::atomic_signal_fence(std::memory_order_release);
    known = 1;
  }
  // Async-signal-safe.
  bool StillThere() const {
    struct stat st;
    return known && ::lstat(path.c_str(), &st) == 0 && st.st_dev == dev && st.st_ino == ino;
  }
};

// What an interrupted run removes: the folders it created itself (deepest
// first; rmdir leaves one that is not empty), its trace when the trace's
// folder is one of them, the hidden .partial files of a result write cut
// short (named by this process's pid) and the result files it renamed into
// place. The paths are filled before the handler is installed, and only
// their identities change after.
struct MadeByRun {
  // The paths a run into `out_dir` with `trace_file` ("" for none) may
  // make: the folders missing now that --out and the trace's folder need,
  // the trace, and the result files and their .partial files.
  MadeByRun(const std::string& out_dir, const std::string& trace_file);
  MadeByRun(const MadeByRun&) = delete;
  MadeByRun& operator=(const MadeByRun&) = delete;

  // Makes the missing folders, shallowest first; a folder counts as this
  // run's only when its own mkdir made it (not when another process got
  // there first). Returns the first problem, or nullopt.
  std::optional<std::string> MakeFolders();
  // Creates the trace file if it is not there; recorded as this run's when
  // this run made its folder. Returns why it could not, or nullopt (also
  // when the file was there already).
  std::optional<std::string> CreateTrace();
  // Records the result file `name` (one of kResultFiles) as this run's.
  void RecordResult(const char* name, const struct stat& st);

  // What the run is doing, for the line an interrupt prints.
  enum Phase : sig_atomic_t { kSetup, kRunning, kWriting };
  // Set by the run as it goes (from the thread that runs it).
  void SetPhase(Phase p) { phase = p; }

  std::string out_dir;  // as given, for messages
  std::vector<Owned> dirs;  // candidates: those missing before the run
  const Owned* out_folder = nullptr;  // in dirs: --out's folder, when it was missing
  volatile sig_atomic_t phase = kSetup;
  // Simulated time reached, in microseconds: the run's engine stores it
  // after every event (SimOptions::sim_time_us).
  std::atomic<int64_t> sim_time_us{0};
  static_assert(std::atomic<int64_t>::is_always_lock_free, "read by a signal handler");
  bool stderr_is_tty = false;  // then a progress line may need blanking
  bool had_earlier_results = false;  // --out held an earlier run's result files
  Owned trace;
  std::string trace_dir;  // the trace's folder, absolute; "" without a trace
  std::vector<Owned> results;  // as kResultFiles
  std::vector<std::string> partials;
  const Owned* summary = nullptr;  // written last: once there, the results are whole
};

// Removes what `made` says the run made, unless its summary.json is in
// place (the run is complete and stays). Async-signal-safe.
void RemoveMade(const MadeByRun& made);

// Writes to stderr, after RemoveMade, one line on what an interrupt by
// `sig` left: "sim run: interrupted by SIGINT at sim time 180.1 s; nothing
// written (removed results/fc)". Async-signal-safe.
void ReportInterrupt(const MadeByRun& made, int sig);

// While it exists, a stop signal removes what the run made and ends sim by
// the signal (StopSignalScope: one ignored when sim started stays
// ignored). Destroyed on every way out of the run's setup, or released
// after the run, it puts the handlers back and forgets `made` (which it
// must not outlive).
class RemoveOnInterrupt {
 public:
  // Nothing is made yet when the handlers go in, so `made` may follow.
  explicit RemoveOnInterrupt(const MadeByRun* made);
  ~RemoveOnInterrupt() { Release(); }
  void Release();

 private:
  StopSignalScope scope_;
};

}  // namespace swarm::sim

#endif  // SWARM_SIM_RUN_CLEANUP_H_
