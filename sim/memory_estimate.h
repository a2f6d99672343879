// How much memory a simulated run needs, estimated from its scenario before
// it starts, so that `sim run` can refuse one that cannot fit (a million
// peers would need ~70 GB and run for hours before failing).
//
// The estimate assumes every peer in the swarm at once, each holding its
// full share of connections: true of a flash crowd whose peers stay, an
// upper bound (often far above) when peers leave or fail, for then only
// the peers present at a time count. FirmRunMemory counts only the classes
// that stay, which a run surely needs; sim refuses a run by that part.
// Calibrated against peak RSS (`/usr/bin/time -v`, huge pages on) of runs
// on 2026-11-26/27; see docs/performance.md, "Memory estimate". For peers
// that all stay it errs high: every calibration run used less, but for
// one of fast links and 1 ms latency (the request pipeline then lets a
// peer send far more blocks per second than the estimate counts).
#ifndef SWARM_SIM_MEMORY_ESTIMATE_H_
#define SWARM_SIM_MEMORY_ESTIMATE_H_

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>

#include "sim/scenario.h"

namespace swarm::sim {

// Whether the peers of class `c` stay to the end of the run once they have
// come: they neither leave before stop.max_time nor fail.
inline bool ClassStays(const Scenario& s, const PeerClassSpec& c) {
  if (c.failure.probability > 0) return false;
  if (c.leave.kind == LeaveSpec::Kind::kNever) return true;
  return c.leave.kind == LeaveSpec::Kind::kAt && c.leave.at >= s.stop.max_time;
}

// Bytes. Each peer: a fixed part, a part per connection it may hold
// (min(max_connections, peers - 1)), its piece state (per piece), its
// picker's two bytes per block of the torrent, and its share of the event
// calendar: a part per block per second its upload can send, counted up
// to kCountedBlocksPerSecond (the calendar's 4096 buckets keep the
// capacity of the fullest moment each has seen, and the more blocks a
// swarm moves per second the more events each holds; beyond ~200 blocks
// a second a peer's requests in flight, not its link, limit what it
// sends, at latencies of 20 ms and more). The timeline: one sample
// row in memory plus its CSV text per sample_interval up to stop.max_time
// (an upper bound: a run that stops when its leechers are done samples
// less). Plus the program and its buffers.
//
// Over every class, or with `only_staying` over the classes that stay
// (ClassStays) only: the part a run surely needs once their peers have
// come, whatever the others do.
inline double EstimateMemoryOf(const Scenario& s, bool only_staying) {
  constexpr double kFixed = 20e6;
  constexpr double kPerPeer = 20e3;  // 32e3 before the calendar term
  constexpr double kPerConnection = 800;
  constexpr double kPerPiecePerPeer = 80;  // 32 before de6e4c7; see docs/performance.md
  constexpr double kPerBlockPerPeer = 2;
  constexpr double kPerUploadBlockPerSecond = 2000;
  constexpr double kCountedBlocksPerSecond = 200;
  constexpr double kPerTimelineRow = 150;
  const double peers = s.TotalPeers();
  const double pieces = s.PieceCount();
  const double blocks =
      s.file.block_size > 0 ? static_cast<double>((s.file.size + s.file.block_size - 1) /
                                                  s.file.block_size)
                            : 0;
  double bytes = kFixed;
  for (const PeerClassSpec& c : s.peers) {
    if (only_staying && !ClassStays(s, c)) continue;
    const double connections =
        std::min<double>(s.PeerConfigFor(c).max_connections, std::max(0.0, peers - 1));
    // A free rider sends no blocks.
    const double blocks_per_second =
        c.free_rider || s.file.block_size == 0
            ? 0
            : std::min(kCountedBlocksPerSecond,
                       c.upload.bytes_per_second() / static_cast<double>(s.file.block_size));
    bytes += c.count * (kPerPeer + kPerConnection * connections + kPerPiecePerPeer * pieces +
                        kPerBlockPerPeer * blocks +
                        kPerUploadBlockPerSecond * blocks_per_second);
  }
  const double interval = s.sample_interval.seconds();
  if (interval > 0) bytes += kPerTimelineRow * (s.stop.max_time.seconds() / interval + 1);
  return bytes;
}

inline double EstimateRunMemory(const Scenario& s) { return EstimateMemoryOf(s, false); }

// The part of the estimate the classes that stay need at once: firm
// enough to refuse a run by (peers that come and go may need far less
// than EstimateRunMemory; these cannot).
inline double FirmRunMemory(const Scenario& s) { return EstimateMemoryOf(s, true); }

// The machine's physical memory in bytes, or 0 when unknown.
inline double PhysicalMemory() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), size = ::sysconf(_SC_PAGESIZE);
  return pages > 0 && size > 0 ? static_cast<double>(pages) * size : 0;
}

// An amount of memory a run may use and where it comes from.
struct MemoryLimit {
  double bytes = 0;    // 0: unknown, or no limit
  std::string source;  // "physical memory", "cgroup limit, /sys/fs/cgroup/X/memory.max"
};

// The smallest memory limit set on the cgroups this process is in and
// their parents, 0 bytes when none is: cgroup v2's memory.max ("max" is
// none) under /sys/fs/cgroup, and v1's memory.limit_in_bytes under
// /sys/fs/cgroup/memory, each cgroup found in /proc/self/cgroup. Every
// path is read under `root` ("" or "/" for the real one; tests give a
// folder of their own); `source` names the file without it.
MemoryLimit CgroupMemoryLimit(const std::string& root = "");

// What a run may use: the smaller of the physical memory and the cgroup
// limit (a container's, a CI runner's, a systemd slice's), with its source;
// 0 bytes when neither is known.
MemoryLimit AvailableMemory(const std::string& root = "");

// "89 MB", "4.8 GB", "268.5 TB" (SI, as in docs/performance.md).
inline std::string FormatMemory(double bytes) {
  char buf[32];
  if (bytes >= 1e12)
    std::snprintf(buf, sizeof buf, "%.1f TB", bytes / 1e12);
  else if (bytes >= 1e9)
    std::snprintf(buf, sizeof buf, "%.1f GB", bytes / 1e9);
  else
    std::snprintf(buf, sizeof buf, "%.0f MB", bytes / 1e6);
  return buf;
}

}  // namespace swarm::sim

#endif  // SWARM_SIM_MEMORY_ESTIMATE_H_
