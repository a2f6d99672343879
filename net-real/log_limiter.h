// LogLimiter: keeps one remote host from filling the log.
//
// A peer that opens connection after connection and sends garbage (a bad
// handshake, an undecodable message) costs it almost nothing, and each such
// connection used to write a warning. The limiter lets through the first
// `lines_per_interval` lines about a host in each interval and counts the
// rest; once the interval is over, one summary line says how many were
// suppressed ("suppressed 95 messages from 10.0.0.7 in 60 s").
//
// No clock, no I/O: the caller passes `now` and writes the lines, so a test
// drives it with made-up times. Thread-compatible (a driver's thread).
//
// Invariants: at most `max_hosts` hosts are remembered; a host's window
// is forgotten once it has ended and its summary (if any) was taken.
#ifndef SWARM_NET_LOG_LIMITER_H_
#define SWARM_NET_LOG_LIMITER_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/types.h"

namespace swarm::net {

struct LogLimiterOptions {
  // Lines about one host written per interval (default 5); the rest of
  // the interval's lines are only counted.
  uint32_t lines_per_interval = 5;
  // Default 60 s: a host misbehaving without pause writes 5 lines and one
  // summary a minute.
  core::Duration interval = core::Duration::Seconds(60);
  // Hosts remembered at once (default 4096, a few hundred KiB); when full,
  // the one whose window started first is summarised early and forgotten.
  size_t max_hosts = 4096;
};

class LogLimiter {
 public:
  explicit LogLimiter(LogLimiterOptions options = {});

  // Whether a line about `host` may be written at `now`; if not, it is
  // counted for the host's summary. REQUIRES: `now` never decreases.
  bool Allow(core::Time now, const std::string& host);
  // Summary lines of the hosts whose interval has ended by `now` with
  // lines suppressed in it (in host order), and of hosts forgotten early;
  // each is returned once. Call it now and then (a driver: on each wake).
  std::vector<std::string> TakeSummaries(core::Time now);

  // Summary lines of every host with lines suppressed so far, interval
  // over or not (a driver that stops), and forgets every host.
  std::vector<std::string> Flush(core::Time now);

  size_t hosts() const { return hosts_.size(); }

 private:
  struct Window {
    core::Time start;
    uint32_t written = 0;
    uint64_t suppressed = 0;
  };
  // Queues `w`'s summary if it suppressed anything.
  void Summarise(const std::string& host, const Window& w, core::Time end);
  // Makes room for one more host.
  void Evict(core::Time now);

  const LogLimiterOptions options_;
  std::map<std::string, Window> hosts_;
  std::vector<std::string> due_;  // summaries not taken yet
};

}  // namespace swarm::net

#endif  // SWARM_NET_LOG_LIMITER_H_
