#include "sim/progress_line.h"

#include <cstdio>

namespace swarm::sim {

void ProgressLine::Update(const Progress& p) {
  if (!enabled_) return;
  double wall = Seconds(Clock::now() - start_);
  if (wall < 1.0 || wall - last_ < 0.25) return;
  last_ = wall;
  double frac = p.leechers ? static_cast<double>(p.done) / p.leechers : 0;
  char eta[32] = "?";
  if (p.fraction > 0.01)
    std::snprintf(eta, sizeof eta, "%.0f s", wall / p.fraction - wall);
  std::fprintf(stderr, "\r  sim %.1f s | %5.1f%% done | %.2f M ev/s | ETA %s    ",
               p.now.seconds(), 100 * frac, p.events / wall / 1e6, eta);
  shown_ = true;
}

void ProgressLine::Finish() {
  if (shown_) std::fprintf(stderr, "\r%80s\r", "");
}

}  // namespace swarm::sim
