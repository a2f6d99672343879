// The `swarm` subcommands. Each takes its parsed options and returns the
// process exit code: 0 success, 1 runtime failure (unreachable tracker after
// retries, disk error, file not found on the tracker), 2 bad user input,
// 130 interrupted before finishing (a download, hashing for `share`, or
// while retrying the tracker).
#ifndef SWARM_NET_CLI_COMMANDS_H_
#define SWARM_NET_CLI_COMMANDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace swarm::net::cli {

// --max-connections at most: each connection is a gRPC stream, and the
// process's file descriptors run out long before this.
inline constexpr uint32_t kMaxConnectionsFlag = 10000;

// PeerConfig::unused_unchoke_timeout of share and get: on a real network a
// stranger may say Interested and never ask, to hold a seed's upload and
// connection slots (off by default in the core, and so in simulations).
inline constexpr int64_t kRealUnusedUnchokeTimeoutSeconds = 5;

// PeerConfig::upload_stall_timeout of share and get, at least: a neighbour
// none of whose blocks from us has left for this long reads nothing, and
// is dropped (off by default in the core, and so in simulations). As the
// request_timeout after which a downloader gives a block up: by then it
// has asked another peer for it. A reader that slow takes over a minute
// for a 128 KiB block (2.2 KiB/s). Raised under a low --upload-limit
// (UploadStallTimeout in console.h).
inline constexpr int64_t kRealUploadStallTimeoutSeconds = 60;

// --request-queue-time at most: half the request_timeout (60 s) after
// which a block asked for is given up, so that a queue sized at one rate
// is still answered in time if the rate halves.
inline constexpr int64_t kMaxRequestQueueTimeSeconds = 30;

// Flags shared by the peer-running commands, as typed by the user.
struct CommonOptions {
  std::string upload_limit = "0";
  std::string download_limit = "0";
  uint32_t max_connections = 50;
  std::string log_level = "info";
  std::string listen = "0.0.0.0:0";
  std::string block_size = "128KiB";  // see docs/real-network.md
  uint32_t pipeline = 16;
  std::string request_queue_time = "0s";  // adaptive pipeline; 0s: off
  uint32_t uploads_in_flight = 4;
  int tracker_retries = 10;
  uint64_t seed = 0;  // 0: draw one
  bool corrupt_uploads = false;  // hidden, for tests
};

// `swarm tracker`'s flags, as typed by the user.
struct TrackerOptions {
  std::string listen = "0.0.0.0:7070";
  std::string announce_interval = "30m";
  std::string log_level = "info";
  // List peers at the host they announce rather than at the address their
  // announce came from (TrackerServerOptions::trust_announced_hosts).
  bool trust_announced_hosts = false;
  // Files the tracker lists at most, in all and published from one
  // address (TrackerConfig::max_files, TrackerServerOptions::
  // max_files_per_host).
  uint32_t max_files = 10000;
  uint32_t max_files_per_host = 1000;
};

int RunTracker(const TrackerOptions& options);
int RunShare(const std::vector<std::string>& files, const std::string& tracker,
             const std::string& piece_length, const CommonOptions& common);
int RunList(const std::string& tracker, int retries);
// A simulator scenario on real sockets (run_scenario.cc).
int RunScenario(const std::string& file, const std::vector<std::string>& sets,
                std::optional<uint64_t> seed, std::string out_dir,
                const std::string& max_wall);
// `info_hash`: empty, or 16 to 64 hex digits the file's info-hash must
// start with (what `swarm share` and `swarm list` print).
int RunGet(const std::string& name, const std::string& tracker, const std::string& out_dir,
           const std::string& seed_after, const std::string& info_hash,
           const CommonOptions& common);

}  // namespace swarm::net::cli

#endif  // SWARM_NET_CLI_COMMANDS_H_
