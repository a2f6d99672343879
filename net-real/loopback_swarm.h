// LoopbackSwarm: a whole real swarm inside one process — a tracker and N
// peers, each an unchanged core::Peer behind its own PeerDriver, gRPC server
// and channels on 127.0.0.1 — run in wall-clock time.
//
// It is how a scenario is checked against reality (`swarm run-scenario`): each
// peer gets the class's token-bucket upload/download limits and an added
// one-way delay on every message it receives, joins at its scheduled time,
// optionally leaves some time after completing, and the run reports the same
// per-peer times and byte counts (and a sampled timeline) as the simulator.
// The content is random bytes drawn from the run seed; every finished copy
// is checked against it with SHA-256.
//
// Not thread-safe: one call runs one swarm; the function blocks until done.
#ifndef SWARM_NET_LOOPBACK_SWARM_H_
#define SWARM_NET_LOOPBACK_SWARM_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/peer_config.h"
#include "core/tracker.h"
#include "core/types.h"

namespace swarm::net {

struct LoopbackPeerSpec {
  std::string peer_class = "default";
  bool seed = false;  // starts with the whole file
  core::Duration join_at = core::Duration::Zero();  // after the run starts
  core::PeerConfig config;
  core::Rate upload_limit = core::Rate::Zero();    // zero: unlimited
  core::Rate download_limit = core::Rate::Zero();  // zero: unlimited
  core::Duration added_delay = core::Duration::Zero();  // one-way, per message
  // If set, replaces added_delay: the one-way delay from the peer at this
  // place in LoopbackSwarmConfig::peers (given as a PeerId; the peers' real
  // ids come from their keys, and the swarm translates).
  std::function<core::Duration(core::PeerId from)> delay_from;
  // Leave this long after completing; nullopt: stay until the run ends.
  std::optional<core::Duration> leave_after_completion;
  // Leave at this time after the run starts, complete or not.
  std::optional<core::Duration> leave_at;
  bool corrupt_uploads = false;  // serve bad data (a polluter)
  // False: accepts no connections (as behind a NAT): its server refuses
  // every inbound stream, so others' dials to it fail; it still dials out.
  bool connectable = true;
};

struct LoopbackSwarmConfig {
  // What one machine can honour in real time (Validate refuses more).
  static constexpr size_t kMaxPeers = 64;
  static constexpr core::Bytes kMaxFile = core::kGiB;

  std::string file_name = "content.bin";
  core::Bytes file_length = 16 * core::kMiB;
  core::Bytes piece_length = 256 * core::kKiB;
  uint64_t seed = 1;
  core::TrackerConfig tracker;
  std::vector<LoopbackPeerSpec> peers;
  // The order in which peers whose join time has come are started: a
  // permutation of the places in `peers`, or empty for place order.
  // `swarm run-scenario` passes the simulator's sim::JoinOrder, so peers
  // due at one instant start in the same random order as in `sim run`
  // rather than the first class in the file first.
  std::vector<uint32_t> join_order;
  // The run ends when every peer has joined and every leecher still present
  // has completed (as in the simulator), or at this limit. It also ends once
  // the swarm has lost a piece for good (LoopbackResult::lost_pieces).
  core::Duration time_limit = core::Duration::Seconds(600);
  // How long a piece must have had no holder before the run gives up on it:
  // covers a piece whose last block arrived but whose verification has not
  // yet shown up in the driver's progress snapshot.
  core::Duration lost_piece_grace = core::Duration::Seconds(2);
  core::Duration sample_interval = core::Duration::Seconds(1);
  std::string work_dir;  // empty: a fresh temporary directory, removed after
  // Polled a few times a second; true stops the run early (Ctrl-C), with
  // the usual teardown (peers leave, the temporary directory is removed).
  std::function<bool()> interrupted;
  // Refuses what one machine cannot honour: more than 64 peers, files over
  // 1 GiB, no seed. Returns a message naming the field.
  std::optional<std::string> Validate() const;
};

struct LoopbackPeerResult {
  std::string peer_class;
  bool seed = false;
  // Seconds since the run started; nullopt: never happened.
  std::optional<double> join_s, first_piece_s, completion_s, leave_s;
  core::Bytes bytes_uploaded = 0;
  core::Bytes bytes_downloaded = 0;
  core::Bytes bytes_wasted = 0;  // duplicate or failed-hash payload received
  bool verified = false;  // final file matches the content (seeds: true)
  uint32_t peers_banned = 0;
  uint32_t pieces_failed = 0;
};

// One row of timeline.csv (docs/scenarios.md gives the meaning of its fields).
struct LoopbackSample {
  double time_s = 0;
  uint32_t leechers = 0, seeds = 0, completed = 0;
  double upload_utilization = 0;  // over present peers with a finite upload limit
  // Copies of each piece among the peers present, in piece order (what
  // sim::PieceAvailability turns into timeline.csv's availability columns):
  // 4 bytes per piece per row.
  std::vector<uint32_t> piece_copies;
};

struct LoopbackResult {
  std::vector<LoopbackPeerResult> peers;
  std::vector<LoopbackSample> timeline;
  double wall_time_s = 0;
  bool timed_out = false;
  bool interrupted = false;  // stopped early by config.interrupted
  // Nonzero: the run stopped early because this many pieces were held by no
  // peer present (corrupting peers aside) and no seed was still due to
  // join, so the leechers left could never complete. A peer that leaves
  // does not come back, so such a piece is gone; the simulator would simply
  // run on, unchanged, to its time limit. lost_since_s: when that began.
  uint32_t lost_pieces = 0;
  double lost_since_s = 0;
  // SteadyNow() when the run's clock started: the *_s fields above are
  // seconds after it (lets a benchmark line up its own measurements).
  core::Time started;
};

// Runs the swarm. nullopt and *error on a setup failure (invalid config,
// cannot listen, disk).
std::optional<LoopbackResult> RunLoopbackSwarm(const LoopbackSwarmConfig& config,
                                               std::string* error);

}  // namespace swarm::net

#endif  // SWARM_NET_LOOPBACK_SWARM_H_
