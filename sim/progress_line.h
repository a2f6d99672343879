// ProgressLine: the line `sim run` keeps rewriting on stderr while a run
// goes, "sim 812.3 s | leechers done 731/1000 (73.1%) | data 88.0% |
// 2.41 M ev/s | ETA 3 s". It reads the wall clock (the CLI may; the engine
// only reports Progress). Not thread-safe: call from the thread that runs
// the simulation.
#ifndef SWARM_SIM_PROGRESS_LINE_H_
#define SWARM_SIM_PROGRESS_LINE_H_

#include <chrono>
#include <string>

#include "sim/engine.h"

namespace swarm::sim {

// The text of the line for `p` after `wall_s` seconds of wall time. Every
// number names what it counts: leechers finished (of all in the run), the
// payload delivered (of what all leechers need), events per wall second,
// and an ETA from the larger of the payload fraction and simulated time /
// max_time.
std::string FormatProgress(const Progress& p, double wall_s);

class ProgressLine {
 public:
  // Disabled, it prints nothing (--quiet, or stderr not a terminal).
  explicit ProgressLine(bool enabled) : enabled_(enabled), start_(Clock::now()) {}
  // Rewrites the line, at most every 0.25 s and not in the first second.
  void Update(const Progress& p);
  // Blanks the line if it was ever shown.
  void Finish();

 private:
  using Clock = std::chrono::steady_clock;
  static double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }
  bool enabled_;
  Clock::time_point start_;
  double last_ = 0;
  size_t width_ = 0;  // of the longest line shown, 0 when none was
};

}  // namespace swarm::sim

#endif  // SWARM_SIM_PROGRESS_LINE_H_
