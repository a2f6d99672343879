#include "sim/progress_line.h"

#include <algorithm>
#include <cstdio>

namespace swarm::sim {

std::string FormatProgress(const Progress& p, double wall_s) {
  const double done = p.leechers ? static_cast<double>(p.done) / p.leechers : 0;
  char eta[32] = "?";
  if (p.fraction > 0.01)
    std::snprintf(eta, sizeof eta, "%.0f s", wall_s / p.fraction - wall_s);
  char line[192];
  std::snprintf(line, sizeof line,
                "sim %.1f s | leechers done %u/%u (%.1f%%) | data %.1f%% | %.2f M ev/s | ETA %s",
                p.now.seconds(), p.done, p.leechers, 100 * done, 100 * p.payload,
                wall_s > 0 ? p.events / wall_s / 1e6 : 0.0, eta);
  return line;
}

void ProgressLine::Update(const Progress& p) {
  if (!enabled_) return;
  double wall = Seconds(Clock::now() - start_);
  if (wall < 1.0 || wall - last_ < 0.25) return;
  last_ = wall;
  const std::string line = "  " + FormatProgress(p, wall);
  // Padded to the longest line so far: a shorter one leaves nothing of it.
  width_ = std::max(width_, line.size());
  std::fprintf(stderr, "\r%-*s", static_cast<int>(width_), line.c_str());
}

void ProgressLine::Finish() {
  if (width_ > 0) std::fprintf(stderr, "\r%*s\r", static_cast<int>(width_), "");
}

}  // namespace swarm::sim
