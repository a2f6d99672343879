// Scenario: one named simulation experiment as plain structs.
//
// A scenario says what is shared (file), over what network (latency model
// and per-class capacities), with which protocol settings (a full
// core::PeerConfig), and who takes part (peer classes with arrival and leave
// processes). It is parsed once from YAML (scenario_yaml.h), checked with
// Validate(), and never changed during a run. Every field is documented in
// docs/scenarios.md.
#ifndef SWARM_SIM_SCENARIO_H_
#define SWARM_SIM_SCENARIO_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/peer_config.h"
#include "core/torrent_limits.h"
#include "core/tracker.h"
#include "core/types.h"

namespace swarm::sim {

// A problem with one field, named by its dotted path ("peers.1.upload").
struct FieldError {
  std::string field;
  std::string problem;
  // The setting that brought the problem about, for when `field` is not
  // written in the file (left at its default): a max_request_length below
  // the default block size is reported at max_request_length's line, as a
  // problem of it. Empty when there is none.
  std::string cause;
  std::string cause_problem;  // the problem as said of `cause`
};

struct StopSpec {
  // End as soon as every leecher that will ever join has completed.
  bool all_complete = true;
  // Hard stop in simulated time.
  core::Duration max_time = core::Duration::Seconds(4 * 3600);
};

// Which leechers summary.json's `measured` block describes: those that
// joined from `joins_from` to `joins_until` (both included; no end when
// unset). A steady state's download times include its warm-up, when the
// swarm is still filling with seeds, and its last joiners, who may not
// finish before stop.max_time: a window leaves both out. Without the
// section (Scenario::measure unset) nothing is measured apart and the
// result files are as they were before it existed.
struct MeasureSpec {
  core::Duration joins_from = core::Duration::Zero();
  std::optional<core::Duration> joins_until;
};

struct FileSpec {
  std::string name = "file";
  core::Bytes size = 100 * core::kMiB;
  core::Bytes piece_size = 256 * core::kKiB;
  core::Bytes block_size = 16 * core::kKiB;
};

// A link between two regions of a topology (both ways, one delay).
struct TopologyLink {
  std::string from;
  std::string to;
  core::Duration delay;
};

struct LatencySpec {
  enum class Kind { kConstant, kUniform, kMatrix, kTopology };
  Kind kind = Kind::kConstant;
  core::Duration constant = core::Duration::Millis(25);
  // kUniform: each pair of peers draws one delay in [low, high].
  core::Duration low, high;
  // kMatrix: one-way delay between peer classes, matrix[a][b] (symmetric:
  // a missing [b][a] uses [a][b]; Validate refuses a different [b][a]).
  std::map<std::string, std::map<std::string, core::Duration>> matrix;
  // kTopology: regions (routers) and links between them; each peer class
  // names its region; delay = shortest path + both access delays.
  std::vector<std::string> regions;
  std::vector<TopologyLink> links;
  // kTopology: each peer's access-link delay, paid at both ends.
  core::Duration access = core::Duration::Millis(5);
};

struct NetworkSpec {
  LatencySpec latency;
};

struct TrackerSpec {
  uint32_t numwant = 50;
  core::Duration announce_interval = core::Duration::Seconds(1800);
  core::Duration peer_timeout = core::Duration::Seconds(2100);
  uint32_t max_numwant = 200;
  // One-way delay between any peer and the tracker.
  core::Duration latency = core::Duration::Millis(25);
};

struct ArrivalSpec {
  enum class Kind { kAt, kUniform, kPoisson, kDecaying };
  Kind kind = Kind::kAt;
  core::Duration at;            // kAt; also start of kPoisson / kDecaying
  core::Duration from, to;      // kUniform window
  double rate_per_s = 0;        // kPoisson
  core::Duration tau;           // kDecaying: rate ∝ exp(-(t-at)/tau)
};

// A random duration: fixed, or exponential with the given mean.
struct RandomDuration {
  bool exponential = false;
  core::Duration value;  // the fixed value or the mean
};

struct LeaveSpec {
  enum class Kind { kNever, kAfterComplete, kAt };
  Kind kind = Kind::kNever;
  RandomDuration seeding_time;  // kAfterComplete
  core::Duration at;            // kAt: leave at this simulated time
};

// Peers that vanish without a `stopped` announce (crash, network loss).
struct FailureSpec {
  double probability = 0;  // chance that a peer of the class fails
  RandomDuration after;    // time from its join to the failure
};

struct PeerClassSpec {
  std::string name;
  uint32_t count = 1;
  core::Rate upload;
  core::Rate download;
  bool start_complete = false;
  ArrivalSpec arrival;
  LeaveSpec leave;
  bool free_rider = false;
  // A polluter: every block it uploads arrives corrupted, so each piece it
  // contributes to fails its receiver's hash check (the real driver sends
  // flipped bytes; the simulator marks the piece).
  bool corrupt_uploads = false;
  // False: the peer accepts no connections (behind a NAT or a firewall). It
  // still dials out, and the tracker still lists it, so others' dials to it
  // fail; two such peers never meet.
  bool connectable = true;
  FailureSpec failure;
  std::string region;  // topology latency only
  // Class-specific protocol settings (e.g. one BitTyrant class), replacing
  // the scenario's `protocol` for this class when present.
  std::optional<core::PeerConfig> protocol;
};

// Limits that keep every count and offset inside its type; far beyond what
// one machine simulates (10,000 peers take ~600 MB).
inline constexpr uint32_t kMaxPeers = 1'000'000;         // in all classes
inline constexpr int64_t kMaxPieceSize = core::kMaxPieceLength;  // block offsets are 32-bit
inline constexpr int64_t kMaxTimelineRows = 10'000'000;  // timeline samples of a run to max_time

struct Scenario {
  std::string name;
  std::string description;
  uint64_t seed = 1;
  StopSpec stop;
  FileSpec file;
  NetworkSpec network;
  core::PeerConfig protocol;  // block_size/numwant/announce from file/tracker
  TrackerSpec tracker;
  std::vector<PeerClassSpec> peers;
  core::Duration sample_interval = core::Duration::Seconds(1);
  std::optional<MeasureSpec> measure;  // `measure:`; unset when absent
  // The --set K=V overrides this scenario was read with, in order: a
  // record for summary.json and plots (the fields above already hold them).
  std::vector<std::string> overrides;

  std::optional<FieldError> Validate() const;
  // The protocol settings for a peer of class `c`.
  core::PeerConfig PeerConfigFor(const PeerClassSpec& c) const;
  core::TrackerConfig TrackerConfig() const;
  uint32_t PieceCount() const;
  uint32_t TotalPeers() const;
};

}  // namespace swarm::sim

#endif  // SWARM_SIM_SCENARIO_H_
