#include "sim/run_cleanup.h"

#include <unistd.h>

namespace swarm::sim {
namespace {

const MadeByRun* g_made = nullptr;

extern "C" void RemoveWhatTheRunMade(int sig) {
  // Only async-signal-safe calls here.
  if (g_made) RemoveMade(*g_made);
  ::signal(sig, SIG_DFL);
  ::raise(sig);  // so the shell sees the signal (exit status 128 + sig)
}

}  // namespace

void RemoveMade(const MadeByRun& made) {
  // Interrupted after this run's summary.json went in: the run is complete
  // and stays (sim still ends by the signal).
  if (made.summary && made.summary->StillThere()) return;
  for (const std::string& p : made.partials) ::unlink(p.c_str());
  for (const Owned& f : made.results)
    if (f.StillThere()) ::unlink(f.path.c_str());
  if (made.trace.StillThere()) ::unlink(made.trace.path.c_str());
  for (const Owned& d : made.dirs)
    if (d.StillThere()) ::rmdir(d.path.c_str());
}

RemoveOnInterrupt::RemoveOnInterrupt(const MadeByRun* made) : scope_(RemoveWhatTheRunMade) {
  g_made = made;
}

void RemoveOnInterrupt::Release() {
  scope_.Release();
  g_made = nullptr;
}

}  // namespace swarm::sim
