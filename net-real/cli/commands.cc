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
  if (S_ISDIR(st.st_mode)) return path + " is a directory, not a file";
  if (!S_ISREG(st.st_mode)) return path + " is not a regular file";
  if (st.st_size == 0) return path + " is empty: nothing to share";
  // Refused before hours of hashing rather than by the peer's allocation
  // after it (core/torrent_limits.h).
  if (auto problem = core::TorrentSizeProblem(st.st_size, piece_length, block_size)) {
    return path + " is too large to share: " + *problem +
           " (a larger --piece-length makes fewer pieces, a larger --block-size fewer blocks)";
  }
  return std::nullopt;
}

// Stops every driver at once: each waits up to its grace period for its
// stopped announce, which a tracker that hangs lets run out.
void StopAll(std::vector<std::unique_ptr<PeerDriver>>& drivers) {
  std::vector<std::thread> stopping;
  for (auto& d : drivers) stopping.emplace_back([&d] { d->Stop(); });
  for (auto& t : stopping) t.join();
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
  Print("tracker listening on " + PrintableAddress(listen, server->port()));
  while (!WaitForSignal(std::chrono::seconds(1))) {
  }
  Log(LogLevel::kInfo, "tracker shutting down");
  server->Shutdown();
  return 0;
}

// --- list --------------------------------------------------------------------

int RunList(const std::string& tracker, int retries) {
  TrackerClient client(tracker);
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

int RunShare(const std::vector<std::string>& files, const std::string& tracker,
             const std::string& piece_length, const CommonOptions& common) {
  DriverOptions base;
  if (auto err = MakeDriverOptions(common, &base)) return UserError(*err);
  auto plen = ParseBytes(piece_length);
  if (!plen || *plen < 16 * core::kKiB || *plen > 64 * core::kMiB) {
    return UserError("--piece-length: expected 16KiB..64MiB, got '" + piece_length + "'");
  }
  std::vector<core::TorrentInfo> infos;
  std::vector<std::optional<PieceStore::Stamp>> stamps;  // taken before hashing
  // Names are checked before any file is hashed (which takes a while for
  // big files) and before anything is published: the tracker lists files
  // by name.
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
    if (auto problem = UnshareableFile(path, *plen, base.peer.block_size)) {
      return UserError(*problem);
    }
  }
  // --listen too is checked before hashing: a busy port must not cost the
  // minutes a big file takes to hash. The check opens and closes a plain
  // socket; gRPC binds the port only after it. (The stop signals were
  // blocked in main, before any thread started: one must not land on a
  // thread that would let it kill us without a stopped announce.)
  if (auto problem = ListenProblem(common.listen)) return UserError("--listen: " + *problem);
  // And the tracker must answer before hashing, too: an unreachable one
  // fails (or is retried) now, not after minutes of hashing. The probe
  // looks up the empty name, which no file has: the answer is a few bytes.
  TrackerClient client(tracker);
  RetryOutcome reached = WithRetries(common.tracker_retries, [&](std::string* error) {
    return client.Lookup("", error).has_value() || error->empty();
  }, [&] { return client.last_failure_hopeless(); });
  if (reached != RetryOutcome::kDone) return ExitCodeOf(reached);
  for (const std::string& path : files) {
    std::string base_name = std::filesystem::path(path).filename().string();
    HashError error;
    std::optional<PieceStore::Stamp> before = PieceStore::StampOf(path);
    // Signals are blocked now: Ctrl-C is looked for between pieces.
    auto info = HashFile(path, base_name, *plen, &error,
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
    infos.push_back(std::move(*info));
    stamps.push_back(before);
  }
  // Opened once `infos` no longer moves: a store keeps a reference to its
  // torrent.
  std::vector<std::unique_ptr<PieceStore>> stores;
  for (size_t i = 0; i < files.size(); ++i) {
    std::string error;
    auto store = PieceStore::OpenComplete(files[i], infos[i], &error);
    if (!store) return UserError(error);
    // Written to since before it was hashed: the hashes to be published
    // may describe neither the old bytes nor the new.
    if (!stamps[i] || store->stamp() != stamps[i]) {
      return UserError(files[i] + " changed while it was being hashed; share it again "
                                  "once it is written");
    }
    stores.push_back(std::move(store));
  }
  // Bound before publishing, so that a busy --listen leaves no file listed
  // without its seed.
  std::string error;
  GrpcLogHold hold;  // the port was free before hashing, but may not be now
  auto server = PeerServer::Start(common.listen, &error);
  hold.Release(server || Logs(LogLevel::kDebug));
  if (!server) return UserError("--listen: " + error);
  for (const auto& info : infos) {
    std::optional<core::PublishResult> result;
    RetryOutcome outcome = WithRetries(common.tracker_retries, [&](std::string* error) {
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
  Print("listening on " + PrintableAddress(common.listen, server->port()));
  Dialer dialer;
  std::vector<std::unique_ptr<PeerDriver>> drivers;
  for (size_t i = 0; i < infos.size(); ++i) {
    DriverOptions o = base;
    o.rng_stream = core::Rng::ForStream(base.run_seed, i).NextU64();
    o.endpoint = AdvertisedEndpoint(common.listen, server->port());
    auto driver = std::make_unique<PeerDriver>(infos[i], std::move(stores[i]),
                                               core::Bitfield(infos[i].piece_count(), true),
                                               o, &client, &dialer);
    server->Register(infos[i].info_hash(), driver.get());
    driver->Start();
    Print("sharing " + infos[i].name());
    drivers.push_back(std::move(driver));
  }
  // A file that can no longer be served (changed on disk, unreadable) ends
  // alone: its driver announces stopped and it is published no more, so
  // the tracker forgets it a minute after its last peer left; the other
  // files are still shared. The command ends when none is left.
  std::vector<bool> ended(drivers.size(), false);
  size_t ended_count = 0;
  auto last_publish = std::chrono::steady_clock::now();
  while (!WaitForSignal(std::chrono::milliseconds(500))) {
    // Publishing is idempotent; repeating it lets a restarted tracker
    // learn the files again.
    if (std::chrono::steady_clock::now() - last_publish > std::chrono::seconds(60)) {
      last_publish = std::chrono::steady_clock::now();
      // Each Publish may wait its whole deadline on a tracker that hangs:
      // a stop signal is looked for between files (and left pending).
      for (size_t i = 0; i < infos.size() && !StopPending(); ++i) {
        if (ended[i]) continue;  // left for the tracker to forget
        std::string error;
        auto result = client.Publish(infos[i], &error);
        if (!result) {
          Log(LogLevel::kWarn, error + "; will retry");
        } else if (*result == core::PublishResult::kPublished) {
          // New to the tracker: it restarted, and has no peers for it either.
          Log(LogLevel::kInfo, "tracker relearned " + infos[i].name() + "; announcing");
          drivers[i]->TrackerReset();
        } else if (*result == core::PublishResult::kNameTaken) {
          // The tracker forgot this file and someone published another
          // under its name meanwhile: peers can no longer find it by name.
          Log(LogLevel::kWarn, "tracker now lists a different file named " + infos[i].name() +
                                   "; this one cannot be found by name any more");
        } else if (*result == core::PublishResult::kFull) {
          // It forgot this file (no peer for a minute) and is full now.
          Log(LogLevel::kWarn, "tracker is full and no longer lists " + infos[i].name() +
                                   "; will retry");
        } else if (*result == core::PublishResult::kInvalid) {
          // Accepted at start: a tracker with other rules took its place.
          Log(LogLevel::kWarn, "tracker now refuses " + infos[i].name() + " as invalid");
        }
      }
    }
    core::Bytes up = 0;
    size_t peers = 0;
    for (size_t i = 0; i < drivers.size(); ++i) {
      auto p = drivers[i]->Progress();
      if (ended[i]) {
        up += p.stats.uploaded;
        continue;
      }
      if (!p.fatal_error.empty()) {  // e.g. the file shrank: cannot read
        ClearProgress();
        Log(LogLevel::kError, infos[i].name() + ": " + p.fatal_error);
        drivers[i]->Stop();
        ended[i] = true;
        if (++ended_count == drivers.size()) {
          server->Shutdown();
          WaitForLinks();
          return 1;
        }
        Log(LogLevel::kWarn, "stopped sharing " + infos[i].name() + "; still sharing " +
                                 std::to_string(drivers.size() - ended_count) + " file(s)");
        continue;
      }
      up += p.stats.uploaded;
      peers += p.connections;
    }
    ShowProgress("seeding " + std::to_string(drivers.size() - ended_count) +
                 " file(s): uploaded " +
                 FormatBytes(static_cast<double>(up)) + ", " + std::to_string(peers) +
                 " peers");
  }
  ClearProgress();
  Log(LogLevel::kInfo, "stopping: announcing to the tracker");
  StopAll(drivers);  // those already stopped return at once
  server->Shutdown();
  WaitForLinks();
  // A file that ended on an error earlier makes the run a failure.
  return ended_count > 0 ? 1 : 0;
}

}  // namespace swarm::net::cli
