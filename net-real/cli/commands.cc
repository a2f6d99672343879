// `swarm tracker`, `swarm list` and `swarm share`.
#include "net-real/cli/commands.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "core/peer_config.h"
#include "core/rng.h"
#include "core/torrent_limits.h"
#include "core/tracker.h"
#include "core/units.h"
#include "net-real/cli/console.h"
#include "net-real/cli/file_table.h"
#include "net-real/cli/grpc_log.h"
#include "net-real/cli/listen_probe.h"
#include "net-real/event_loop.h"
#include "net-real/peer_driver.h"
#include "net-real/peer_transport.h"
#include "net-real/piece_store.h"
#include "net-real/torrent_meta.h"
#include "net-real/tracker_rpc.h"
#include "net-real/units.h"

namespace swarm::net::cli {
namespace {

// Why `path` cannot be shared, or nullopt: it must open for reading and be
// a regular file (hashing a directory fails with a vague read error, and a
// FIFO or device would never end), not empty, and within the core's bounds
// on a torrent in pieces of `piece_length` and blocks of `block_size`.
// Opened without blocking, so a FIFO with no writer does not hang the check.
std::optional<std::string> UnshareableFile(const std::string& path, core::Bytes piece_length,
                                           uint32_t block_size) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return "cannot open " + path + ": " + std::strerror(errno);
  struct stat st {};
  const bool stat_ok = ::fstat(fd, &st) == 0;
  const int stat_errno = errno;
  ::close(fd);
  if (!stat_ok) return "cannot stat " + path + ": " + std::strerror(stat_errno);
  if (S_ISDIR(st.st_mode)) {
    std::string glob = path;
    while (glob.size() > 1 && glob.back() == '/') glob.pop_back();
    return path + " is a directory, not a file (to share the files in it: swarm share " + glob +
           "/*)";
  }
  if (!S_ISREG(st.st_mode)) return path + " is not a regular file";
  if (st.st_size == 0) return path + " is empty: nothing to share";
  // Refused before hours of hashing rather than by the peer's allocation
  // after it (core/torrent_limits.h).
  if (auto problem = core::TorrentSizeProblem(st.st_size, piece_length, block_size)) {
    return path + " is too large to share: " + *problem +
           " (a larger --piece-length makes fewer pieces, a larger --block-size fewer blocks)";
  }
  // The tighter bound in practice: the piece hashes must fit one tracker
  // message (2 million pieces, 512 GiB at 256 KiB pieces), lest the publish
  // fail after the hashing.
  if (auto problem = TrackerMessageProblem(std::filesystem::path(path).filename().string(),
                                           static_cast<uint64_t>(st.st_size),
                                           static_cast<uint64_t>(piece_length))) {
    return path + " is too large to share in pieces of " +
           FormatBytes(static_cast<double>(piece_length)) + ": " + *problem +
           " (a larger --piece-length makes fewer pieces)";
  }
  return std::nullopt;
}

// Stops every driver at once: each waits up to its grace period for its
// stopped announce, which a tracker that hangs lets run out. The requests
// go out first, so the grace periods run together (no thread per file).
void StopAll(std::vector<std::unique_ptr<PeerDriver>>& drivers) {
  for (auto& d : drivers) d->RequestStop();
  for (auto& d : drivers) d->Stop();
}

}  // namespace

// --- tracker -----------------------------------------------------------------

int RunTracker(const TrackerOptions& options) {
  const std::string& listen = options.listen;
  const std::string& announce_interval = options.announce_interval;
  const std::string& log_level = options.log_level;
  if (!ParseLevel(log_level)) return UserError("--log-level: expected error|warn|info|debug");
  auto interval = ParseDuration(announce_interval);
  if (!interval) {
    return UserError("--announce-interval: expected a duration with its unit (e.g. 30min), got '" +
                     announce_interval + "'");
  }
  if (*interval <= core::Duration::Zero()) {
    return UserError("--announce-interval: must be positive, got '" + announce_interval + "'");
  }
  // `swarm` peers take a tracker's interval only within these bounds (the
  // core clamps it). Below the lower one they would announce less often
  // than the tracker expects and be forgotten between announces; the
  // scenario files refuse the same range.
  const core::Duration min_interval = core::PeerConfig().min_reannounce_interval;
  if (*interval < min_interval || *interval > core::kMaxAnnounceInterval) {
    return UserError("--announce-interval: must be between " + core::FormatDuration(min_interval) +
                     " and " + core::FormatDuration(core::kMaxAnnounceInterval) +
                     ", the intervals a peer accepts from a tracker; got '" + announce_interval +
                     "'");
  }
  core::TrackerConfig config;
  config.announce_interval = *interval;
  config.peer_timeout = *interval + *interval / 2 + core::Duration::Seconds(10);
  // A directory lists what can be fetched: a file no peer is in any more is
  // dropped a minute after its last peer left, or after it was published
  // if no peer came (the time its seed has to announce). A `share` still
  // running publishes it again within a minute should the tracker drop it.
  config.forget_file_after = core::Duration::Seconds(60);
  // What any client can make it hold: --max-files (10000), 2^23 piece hashes
  // (256 MiB, 2 TiB of files at 256 KiB pieces), 200000 peer records.
  if (options.max_files < 1) return UserError("--max-files: must be at least 1");
  if (options.max_files_per_host < 1 || options.max_files_per_host > options.max_files) {
    return UserError("--max-files-per-host: must be 1..--max-files (" +
                     std::to_string(options.max_files) + "), got " +
                     std::to_string(options.max_files_per_host));
  }
  config.max_files = options.max_files;
  config.max_total_pieces = uint64_t{1} << 23;
  config.max_peers = 200000;
  if (auto err = config.Validate()) return UserError("tracker configuration: " + *err);
  if (auto problem = ListenProblem(listen)) return UserError("--listen: " + *problem);
  std::string error;
  GrpcLogHold hold;  // the port was free just now, but may not be any more
  TrackerServerOptions server_options;
  server_options.trust_announced_hosts = options.trust_announced_hosts;
  server_options.max_files_per_host = options.max_files_per_host;
  auto server = TrackerServer::Start(listen, config, DrawSeed(0), &error, server_options);
  hold.Release(server || Logs(LogLevel::kDebug));
  if (!server) return UserError("--listen: " + error);
  const std::string address = PrintableAddress(listen, server->port());
  Print("tracker listening on " + address);
  while (!WaitForSignal(std::chrono::seconds(1))) {
    // The server runs on threads of its own until the signal.
  }
  Log(LogLevel::kInfo, "tracker shutting down");
  server->Shutdown();
  return 0;
}

// --- list --------------------------------------------------------------------

int RunList(const std::string& tracker, int retries) {
  TrackerClient client(tracker);
  client.SetInterrupt(StopPending);  // Ctrl-C ends a call at once
  std::vector<core::FileEntry> files;
  RetryOutcome outcome = WithRetries(retries, [&](std::string* error) {
    auto got = client.ListFiles(error);
    if (got) files = std::move(*got);
    return got.has_value();
  }, [&] { return client.last_failure_hopeless(); });
  if (outcome != RetryOutcome::kDone) return ExitCodeOf(outcome);
  std::fputs(FormatFileTable(files).c_str(), stdout);
  return 0;
}

// --- share -------------------------------------------------------------------

namespace {

// Each step below returns nullopt to go on, or the exit code to stop with
// (having said why).

// Everything about the flags and FILEs that can be checked before any
// file is hashed (which takes a while for big files) and before anything
// is published.
std::optional<int> CheckShareFlags(const std::vector<std::string>& files,
                                   const std::string& piece_length, const CommonOptions& common,
                                   DriverOptions* base, core::Bytes* plen) {
  if (auto err = MakeDriverOptions(common, base)) return UserError(*err);
  auto parsed = ParseBytes(piece_length);
  if (!parsed || *parsed < 16 * core::kKiB || *parsed > 64 * core::kMiB) {
    return UserError("--piece-length: expected 16KiB..64MiB, got '" + piece_length + "'");
  }
  *plen = *parsed;
  // The tracker lists files by name.
  std::set<std::string> names;
  for (const std::string& path : files) {
    std::string base_name = std::filesystem::path(path).filename().string();
    if (auto problem = FileNameProblem(base_name)) {
      return UserError(path + ": not a shareable file name: " + *problem);
    }
    if (!names.insert(base_name).second) {
      return UserError(path + ": another FILE is also named " + base_name);
    }
  }
  // So is every FILE's type, lest the last be missing after the first took
  // minutes to hash.
  for (const std::string& path : files) {
    if (auto problem = UnshareableFile(path, *plen, base->peer.block_size)) {
      return UserError(*problem);
    }
  }
  // --listen too: a busy port must not cost the minutes a big file takes
  // to hash. The check opens and closes the listening sockets; the server
  // opens them again only after the hashing. (The stop signals were blocked in main, before any
  // thread started: one must not land on a thread that would let it kill
  // us without a stopped announce.)
  if (auto problem = ListenProblem(common.listen)) return UserError("--listen: " + *problem);
  return std::nullopt;
}

// The tracker must answer before hashing, too: an unreachable one fails
// (or is retried) now, not after minutes of hashing. The probe looks up
// the empty name, which no file has: the answer is a few bytes.
std::optional<int> ReachTracker(TrackerClient& client, int retries) {
  RetryOutcome reached = WithRetries(retries, [&](std::string* error) {
    return client.Lookup("", error).has_value() || error->empty();
  }, [&] { return client.last_failure_hopeless(); });
  if (reached != RetryOutcome::kDone) return ExitCodeOf(reached);
  return std::nullopt;
}

// Hashes every file into `infos`, with the stamp each had before (Ctrl-C
// is looked for between pieces: the signals are blocked now).
std::optional<int> HashFiles(const std::vector<std::string>& files, core::Bytes plen,
                             std::vector<core::TorrentInfo>* infos,
                             std::vector<std::optional<PieceStore::Stamp>>* stamps) {
  for (const std::string& path : files) {
    std::string base_name = std::filesystem::path(path).filename().string();
    HashError error;
    std::optional<PieceStore::Stamp> before = PieceStore::StampOf(path);
    auto info = HashFile(path, base_name, plen, &error,
                         [] { return WaitForSignal(std::chrono::milliseconds(0)); });
    if (!info) {
      switch (error.kind) {
        case HashError::Kind::kStopped:
          Log(LogLevel::kWarn, error.message + "; nothing published");
          return 130;
        case HashError::Kind::kEmpty:
          return UserError(error.message);
        default:  // the file checked out above, so this is the machine's fault
          Log(LogLevel::kError, error.message + "; nothing published");
          return 1;
      }
    }
    Log(LogLevel::kInfo, "hashed " + path + ": " +
                             FormatBytes(static_cast<double>(info->length())) + ", " +
                             std::to_string(info->piece_count()) +
                             (info->piece_count() == 1 ? " piece" : " pieces") + ", info-hash " +
                             core::ToHex(info->info_hash()).substr(0, 16));
    infos->push_back(std::move(*info));
    stamps->push_back(before);
  }
  return std::nullopt;
}

// Opens each file for seeding, refusing one written to since before it was
// hashed: the hashes to be published may describe neither the old bytes
// nor the new. REQUIRES: `infos` no longer moves (a store keeps a
// reference to its torrent).
std::optional<int> OpenStores(const std::vector<std::string>& files,
                              const std::vector<core::TorrentInfo>& infos,
                              const std::vector<std::optional<PieceStore::Stamp>>& stamps,
                              std::vector<std::unique_ptr<PieceStore>>* stores) {
  for (size_t i = 0; i < files.size(); ++i) {
    std::string error;
    auto store = PieceStore::OpenComplete(files[i], infos[i], &error);
    if (!store) return UserError(error);
    if (!stamps[i] || store->stamp() != stamps[i]) {
      return UserError(files[i] + " changed while it was being hashed; share it again "
                                  "once it is written");
    }
    stores->push_back(std::move(store));
  }
  return std::nullopt;
}

// Publishes every file (with the usual retries); a refusal ends the
// command.
std::optional<int> PublishAll(TrackerClient& client, const std::vector<core::TorrentInfo>& infos,
                              int retries) {
  for (const auto& info : infos) {
    std::optional<core::PublishResult> result;
    RetryOutcome outcome = WithRetries(retries, [&](std::string* error) {
      result = client.Publish(info, error);
      return result.has_value();
    }, [&] { return client.last_failure_hopeless(); });
    if (outcome != RetryOutcome::kDone) return ExitCodeOf(outcome);
    if (*result == core::PublishResult::kNameTaken) {
      Log(LogLevel::kError, "tracker already lists a different file named " + info.name() +
                                " (it has peers, or was published less than a minute ago)");
      return 1;
    }
    if (*result == core::PublishResult::kInvalid) {
      Log(LogLevel::kError, "tracker refused " + info.name() + " as invalid");
      return 1;
    }
    if (*result == core::PublishResult::kFull) {
      Log(LogLevel::kError, "tracker refused " + info.name() +
                                ": it lists as many files (or piece hashes) as it may");
      return 1;
    }
  }
  return std::nullopt;
}

// The files being seeded, one driver each, until Ctrl-C. A file that can
// no longer be served (changed on disk, unreadable) ends alone: its driver
// announces stopped and it is published no more, so the tracker forgets it
// a minute after its last peer left; the other files are still shared.
class Seeding {
 public:
  Seeding(const std::vector<core::TorrentInfo>& infos, TrackerClient* client)
      : infos_(infos), client_(client) {}

  // Starts a driver per file, each with its own Rng stream, registered
  // with `server`. REQUIRES: server and dialer outlive this.
  // Returns false, having said why, if a driver cannot start (no thread
  // left to start it on): those started are left running, for
  // StopRemaining to stop.
  bool Start(std::vector<std::unique_ptr<PieceStore>> stores, const DriverOptions& base,
             const std::string& listen, PeerServer& server, Dialer* dialer) {
    for (size_t i = 0; i < infos_.size(); ++i) {
      DriverOptions o = base;
      o.rng_stream = core::Rng::ForStream(base.run_seed, i).NextU64();
      o.endpoint = AdvertisedEndpoint(listen, server.port());
      auto driver = std::make_unique<PeerDriver>(infos_[i], std::move(stores[i]),
                                                 core::Bitfield(infos_[i].piece_count(), true),
                                                 o, client_, dialer);
      std::string error;
      if (!driver->Start(&error)) {
        ClearProgress();
        Log(LogLevel::kError, "cannot share " + infos_[i].name() + ": " + error + " (" +
                                  std::to_string(i) + " of " + std::to_string(infos_.size()) +
                                  " files started; each takes a thread: share fewer files at "
                                  "once, or raise the limit on threads, ulimit -u)");
        return false;
      }
      server.Register(infos_[i].info_hash(), driver.get());
      Print("sharing " + infos_[i].name());
      drivers_.push_back(std::move(driver));
      ended_.push_back(false);
    }
    return true;
  }

  // Publishing is idempotent; repeating it lets a restarted tracker learn
  // the files again. Each Publish may wait its whole deadline on a tracker
  // that hangs: a stop signal is looked for between files (and left
  // pending).
  void Republish() {
    for (size_t i = 0; i < infos_.size() && !StopPending(); ++i) {
      if (ended_[i]) continue;  // left for the tracker to forget
      std::string error;
      auto result = client_->Publish(infos_[i], &error);
      if (!result) {
        if (!StopPending()) Log(LogLevel::kWarn, error + "; will retry");  // else: cancelled
      } else if (*result == core::PublishResult::kPublished) {
        // New to the tracker: it restarted, and has no peers for it either.
        Log(LogLevel::kInfo, "tracker relearned " + infos_[i].name() + "; announcing");
        drivers_[i]->TrackerReset();
      } else if (*result == core::PublishResult::kNameTaken) {
        // The tracker forgot this file and someone published another
        // under its name meanwhile: peers can no longer find it by name.
        Log(LogLevel::kWarn, "tracker now lists a different file named " + infos_[i].name() +
                                 "; this one cannot be found by name any more");
      } else if (*result == core::PublishResult::kFull) {
        // It forgot this file (no peer for a minute) and is full now.
        Log(LogLevel::kWarn, "tracker is full and no longer lists " + infos_[i].name() +
                                 "; will retry");
      } else if (*result == core::PublishResult::kInvalid) {
        // Accepted at start: a tracker with other rules took its place.
        Log(LogLevel::kWarn, "tracker now refuses " + infos_[i].name() + " as invalid");
      }
    }
  }

  // Ends the files whose driver gave up, and shows the progress line.
  // Returns false once no file is left.
  bool Check() {
    core::Bytes up = 0;
    size_t peers = 0;
    for (size_t i = 0; i < drivers_.size(); ++i) {
      auto p = drivers_[i]->Progress();
      if (ended_[i]) {
        up += p.stats.uploaded;
        continue;
      }
      if (!p.fatal_error.empty()) {  // e.g. the file shrank: cannot read
        const std::string hint =
            p.changed_on_disk ? " (share it again to publish the new content)" : "";
        if (!End(i, p.fatal_error + hint)) return false;
        continue;
      }
      up += p.stats.uploaded;
      peers += p.connections;
    }
    ShowProgress("seeding " + std::to_string(drivers_.size() - ended_count_) +
                 " file(s): uploaded " + FormatBytes(static_cast<double>(up)) + ", " +
                 std::to_string(peers) + " peers");
    return true;
  }

  // Stops every driver still running at once: each waits up to its grace
  // period for its stopped announce, which a tracker that hangs lets run
  // out.
  void StopRemaining() { StopAll(drivers_); }  // those already stopped return at once

  size_t ended_count() const { return ended_count_; }

 private:
  // Stops file i's driver after `error`; false if it was the last file.
  bool End(size_t i, const std::string& error) {
    ClearProgress();
    Log(LogLevel::kError, infos_[i].name() + ": " + error);
    drivers_[i]->Stop();
    ended_[i] = true;
    if (++ended_count_ == drivers_.size()) return false;
    Log(LogLevel::kWarn, "stopped sharing " + infos_[i].name() + "; still sharing " +
                             std::to_string(drivers_.size() - ended_count_) + " file(s)");
    return true;
  }

  const std::vector<core::TorrentInfo>& infos_;
  TrackerClient* client_;
  std::vector<std::unique_ptr<PeerDriver>> drivers_;
  std::vector<bool> ended_;
  size_t ended_count_ = 0;
};

}  // namespace

int RunShare(const std::vector<std::string>& files, const std::string& tracker,
             const std::string& piece_length, const CommonOptions& common) {
  DriverOptions base;
  core::Bytes plen = 0;
  if (auto code = CheckShareFlags(files, piece_length, common, &base, &plen)) return *code;
  TrackerClient client(tracker);
  client.SetInterrupt(StopPending);  // Ctrl-C ends a call at once
  if (auto code = ReachTracker(client, common.tracker_retries)) return *code;
  std::vector<core::TorrentInfo> infos;
  std::vector<std::optional<PieceStore::Stamp>> stamps;  // taken before hashing
  if (auto code = HashFiles(files, plen, &infos, &stamps)) return *code;
  std::vector<std::unique_ptr<PieceStore>> stores;
  if (auto code = OpenStores(files, infos, stamps, &stores)) return *code;
  // Bound before publishing, so that a busy --listen leaves no file listed
  // without its seed.
  std::string error;
  GrpcLogHold hold;  // the port was free before hashing, but may not be now
  auto server = PeerServer::Start(common.listen, &error);
  hold.Release(server || Logs(LogLevel::kDebug));
  if (!server) return UserError("--listen: " + error);
  if (auto code = PublishAll(client, infos, common.tracker_retries)) return *code;
  const std::string address = PrintableAddress(common.listen, server->port());
  Print("listening on " + address);

  Dialer dialer;
  Seeding seeding(infos, &client);
  const bool started = seeding.Start(std::move(stores), base, common.listen, *server, &dialer);
  bool any_left = started;
  auto last_publish = std::chrono::steady_clock::now();
  while (started && !WaitForSignal(std::chrono::milliseconds(500))) {
    if (std::chrono::steady_clock::now() - last_publish > std::chrono::seconds(60)) {
      last_publish = std::chrono::steady_clock::now();
      seeding.Republish();
    }
    if (!(any_left = seeding.Check())) break;
  }
  if (any_left || !started) {
    ClearProgress();
    Log(LogLevel::kInfo, "stopping: announcing to the tracker");
    seeding.StopRemaining();
  }
  server->Shutdown();
  WaitForLinks();
  // A file that ended on an error makes the run a failure, and so does a
  // file that could not be started.
  return seeding.ended_count() > 0 || !started ? 1 : 0;
}

}  // namespace swarm::net::cli
