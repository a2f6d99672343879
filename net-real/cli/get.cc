// `swarm get`: look a file up, resume or start it, download with a
// progress line, seed for a while, announce stopped.
#include "net-real/cli/commands.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include "core/rng.h"
#include "core/sha256.h"
#include "core/torrent_limits.h"
#include "core/tracker.h"
#include "net-real/cli/console.h"
#include "net-real/cli/grpc_log.h"
#include "net-real/cli/listen_probe.h"
#include "net-real/event_loop.h"
#include "net-real/peer_driver.h"
#include "net-real/peer_transport.h"
#include "net-real/piece_store.h"
#include "net-real/torrent_meta.h"
#include "net-real/tracker_rpc.h"
#include "net-real/units.h"
#include "sim/cli_checks.h"  // OutDirProblem, MissingFolders

namespace swarm::net::cli {

// --- get -----------------------------------------------------------------------

namespace {

// When a finished download may stop seeding.
struct SeedAfter {
  std::optional<core::Duration> duration;
  std::optional<double> ratio;
  bool forever = false;
};

std::optional<SeedAfter> ParseSeedAfter(const std::string& s) {
  SeedAfter out;
  if (s == "forever") {
    out.forever = true;
    return out;
  }
  if (!s.empty() && s.back() == 'x') {
    // A plain decimal before the x: not "x" alone, "nanx" or "1e400x".
    const char* first = s.data();
    const char* last = s.data() + s.size() - 1;
    double r = 0;
    auto [end, ec] = std::from_chars(first, last, r, std::chars_format::fixed);
    if (first == last || ec != std::errc() || end != last || !std::isfinite(r) || r < 0) {
      return std::nullopt;
    }
    out.ratio = r;
    return out;
  }
  auto d = ParseDuration(s);
  if (!d) return std::nullopt;
  out.duration = *d;
  return out;
}

std::string ProgressLine(const DriverProgress& p, double down_rate, double up_rate,
                         core::Bytes length) {
  double frac = p.piece_count ? double(p.pieces) / p.piece_count : 0;
  double eta = down_rate > 1 ? double(p.left) / down_rate : -1;
  return Percent(frac) + "  " + std::to_string(p.pieces) + "/" +
         std::to_string(p.piece_count) + " pieces  down " + FormatBytes(down_rate) +
         "/s  up " + FormatBytes(up_rate) + "/s  peers " + std::to_string(p.connections) +
         "  eta " + (p.seed ? "done" : Eta(eta));
}

// What `get`'s flags ask for, checked.
struct GetRequest {
  DriverOptions options;
  SeedAfter linger;
  std::string pinned;  // --info-hash, lower case; empty: any content
};

// The partial file's identity, taken when it was opened: what the name
// must still refer to before the file is removed or offered for resuming
// (a file moved over it since is the user's), and the folders made for it.
struct PartialFile {
  std::string path;
  std::optional<PieceStore::FileId> id;
  std::vector<std::string> made;
};

// Why the watch over a download ended.
enum class GetEnd { kDone, kInterrupted, kFatal };

// Each step below returns nullopt to go on, or the exit code to stop with
// (having said why).

std::optional<int> CheckGetFlags(const std::string& name, const std::string& out_dir,
                                 const std::string& seed_after, const std::string& info_hash,
                                 const CommonOptions& common, GetRequest* request) {
  if (auto err = MakeDriverOptions(common, &request->options)) return UserError(*err);
  if (auto problem = FileNameProblem(name)) {
    return UserError("NAME '" + name + "' is not a plain file name: " + *problem);
  }
  auto linger = ParseSeedAfter(seed_after);
  if (!linger) return UserError("--seed-after: expected a duration (30s), a ratio (1.5x) or 'forever'");
  request->linger = *linger;
  std::string& pinned = request->pinned;
  for (char ch : info_hash) pinned += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (!info_hash.empty() &&
      (pinned.size() < 16 || pinned.size() > 64 ||
       pinned.find_first_not_of("0123456789abcdef") != std::string::npos)) {
    return UserError("--info-hash: expected 16 to 64 hex digits (as `swarm share` and "
                     "`swarm list` print them)");
  }
  if (auto problem = sim::OutDirProblem(out_dir)) return UserError("--out " + out_dir + ": " + *problem);
  // A busy --listen fails now, not after the tracker lookup and its retries.
  if (auto problem = ListenProblem(common.listen)) return UserError("--listen: " + *problem);
  return std::nullopt;
}

// Says at once when the tracker lists no seed for the file (its sharer
// stopped, say): the download can only wait, and without this the first
// word of it came after 30 s of silence. One scrape of this file (not the
// listing of all: a tracker may list thousands), no retries: when it fails,
// or the file is gone from the listing meanwhile, nothing is said.
void WarnIfNoSeed(TrackerClient& client, const std::string& tracker, const std::string& name,
                  const core::InfoHash& info_hash) {
  std::string error;
  const std::optional<core::FileEntry> f = client.Scrape(info_hash, &error);
  if (!f || f->seeds > 0) return;
  Log(LogLevel::kWarn, "tracker " + tracker + " lists no seed for '" + name + "' now (" +
                           std::to_string(f->leechers) +
                           (f->leechers == 1 ? " leecher" : " leechers") +
                           "): the download waits until a peer with the missing pieces "
                           "announces (is its `swarm share` still running?)");
}

// Asks the tracker for `name` (with the usual retries) and checks what it
// lists against the request before anything is written.
std::optional<int> LookUpTorrent(TrackerClient& client, const std::string& tracker,
                                 const std::string& name, const GetRequest& request,
                                 int tracker_retries, std::optional<core::TorrentInfo>* info) {
  bool missing = false;
  RetryOutcome outcome = WithRetries(tracker_retries, [&](std::string* error) {
    *info = client.Lookup(name, error);
    missing = !*info && error->empty();
    return info->has_value() || missing;
  }, [&] { return client.last_failure_hopeless(); });
  if (outcome != RetryOutcome::kDone) return ExitCodeOf(outcome);
  if (missing) {
    // A tracker keeps its listing in memory: one restarted a moment ago
    // knows no file until its sharers publish again (each does every
    // minute). A typo must not cost a minute of retries, so this says so
    // rather than waiting.
    Log(LogLevel::kError, "tracker " + tracker + " has no file named '" + name +
                              "' (check `swarm list`; a tracker that restarted just now "
                              "relearns its files as sharers publish them again, within a "
                              "minute)");
    return 1;
  }
  if ((*info)->name() != name || !SafeFileName((*info)->name())) {
    Log(LogLevel::kError, "tracker answered with unsafe or different name '" + (*info)->name() + "'");
    return 1;
  }
  // A name is first come, first served: after a tracker restart anyone may
  // publish other content under it before its sharer does again. A pinned
  // info-hash tells the two apart.
  const std::string listed = core::ToHex((*info)->info_hash());
  const std::string& pinned = request.pinned;
  if (!pinned.empty() && listed.compare(0, pinned.size(), pinned) != 0) {
    Log(LogLevel::kError, "tracker " + tracker + " lists a different file named '" + name +
                              "': its info-hash is " + listed.substr(0, pinned.size()) +
                              ", not " + pinned + " (--info-hash); nothing downloaded");
    return 1;
  }
  // Before anything is allocated for it or written: a torrent beyond the
  // core's bounds (a hostile tracker's petabyte, say) would not fit in
  // memory.
  if (auto problem = core::TorrentSizeProblem((*info)->length(), (*info)->piece_length(),
                                              request.options.peer.block_size)) {
    Log(LogLevel::kError, "tracker lists '" + name + "' too large to download: " + *problem +
                              " (a larger --block-size makes fewer blocks)");
    return 1;
  }
  WarnIfNoSeed(client, tracker, name, (*info)->info_hash());
  return std::nullopt;
}

// Creates --out (and the folders above it that are missing, listed in
// `made`) and opens the partial file in it.
std::optional<int> OpenPartialFile(const std::string& out_dir, const core::TorrentInfo& info,
                                   std::vector<std::string>* made,
                                   std::unique_ptr<PieceStore>* store) {
  std::error_code ec;
  *made = sim::MissingFolders(out_dir);
  std::filesystem::create_directories(out_dir, ec);
  if (ec || !std::filesystem::is_directory(out_dir)) {
    return UserError("--out " + out_dir + ": cannot create (" + ec.message() + ")");
  }
  std::string error;
  *store = PieceStore::OpenForDownload(out_dir, info, &error);
  if (!*store) {
    Log(LogLevel::kError, error);
    for (const auto& d : *made) {  // nothing was written into them
      if (!std::filesystem::remove(d, ec)) break;
    }
    return 1;
  }
  return std::nullopt;
}

// Verifies what the partial file already holds (Ctrl-C stops it, leaving
// the file as it was) into `have`, and finishes a file found complete.
std::optional<int> ResumeFromDisk(PieceStore& store, const std::string& name,
                                  const core::TorrentInfo& info, core::Bitfield* have) {
  auto t0 = std::chrono::steady_clock::now();
  bool interrupted_recheck = false;
  *have = store.Recheck([&interrupted_recheck] {
    interrupted_recheck = WaitForSignal(std::chrono::milliseconds(0));
    return interrupted_recheck;
  });
  if (interrupted_recheck) {
    Log(LogLevel::kWarn, "interrupted while checking " + store.path());
    return 130;
  }
  double recheck_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // Nothing found (a new file, or one with no good piece yet): no
  // "resume: 0 of M" on a first start.
  if (have->Count() == 0)
    Print("starting fresh (no verified piece on disk)");
  else
    Print("resume: " + std::to_string(have->Count()) + " of " +
          std::to_string(info.piece_count()) + " pieces verified on disk (" +
          std::to_string(recheck_s) + " s)");
  std::string error;
  if (have->All() && !store.is_final()) {
    // Every piece was already in the partial file (e.g. a kill -9 just
    // before the rename, or the rename refused earlier): finish it now,
    // unless another program wrote into it while it was being checked.
    if (store.PartialWrittenByOthers() && !store.ReverifyVerified().empty()) {
      Log(LogLevel::kError, store.path() + " was written to by another program while it was "
                                           "being checked; run the same command again");
      return 1;
    }
    if (!store.Finalize(&error)) {
      Log(LogLevel::kError, error);
      return 1;
    }
  }
  if (store.is_final() && !have->All()) {
    Log(LogLevel::kError, store.path() + " exists but does not match '" + name +
                              "'; move it away first");
    return 1;
  }
  return std::nullopt;
}

// Download and upload rates for the progress line, smoothed over ~2 s to
// keep it readable. The first sample with data sets a rate outright:
// smoothing up from zero made the early ETA several times too long.
class RateMeter {
 public:
  explicit RateMeter(const DriverProgress& first)
      : last_(first), last_t_(std::chrono::steady_clock::now()) {}

  // Returns whether anything was downloaded since the last sample.
  bool Sample(const DriverProgress& p, std::chrono::steady_clock::time_point now) {
    const bool arrived = p.stats.downloaded != last_.stats.downloaded;
    double dt = std::chrono::duration<double>(now - last_t_).count();
    if (dt > 0) {
      const double a = std::min(1.0, dt / 2.0);
      Smooth(a, &down_rate_, &down_seen_, (p.stats.downloaded - last_.stats.downloaded) / dt);
      if (p.seed) down_rate_ = 0;  // complete: nothing more will come
      Smooth(a, &up_rate_, &up_seen_, (p.stats.uploaded - last_.stats.uploaded) / dt);
    }
    last_ = p;
    last_t_ = now;
    return arrived;
  }
  double down_rate() const { return down_rate_; }
  double up_rate() const { return up_rate_; }
  std::chrono::steady_clock::time_point last_sample_time() const { return last_t_; }

 private:
  static void Smooth(double a, double* rate, bool* seen, double sample) {
    if (!*seen && sample > 0) {
      *rate = sample;
      *seen = true;
    } else {
      *rate += a * (sample - *rate);
    }
  }

  DriverProgress last_;
  std::chrono::steady_clock::time_point last_t_;
  double down_rate_ = 0, up_rate_ = 0;
  bool down_seen_ = false, up_seen_ = false;
};

// Whether a complete download has seeded as long as --seed-after asks.
bool SeededEnough(const SeedAfter& linger, const DriverProgress& p, core::Bytes length,
                  std::chrono::steady_clock::duration since_completion) {
  if (linger.forever) return false;
  if (linger.ratio && double(p.stats.uploaded) < *linger.ratio * double(length)) return false;
  if (linger.duration &&
      since_completion < std::chrono::microseconds(linger.duration->micros())) {
    return false;
  }
  return true;
}

// Without a terminal there is no progress line: says so when nothing has
// arrived for a while (e.g. no seed is online), instead of staying silent.
// `last_data` is when data last arrived, or this last warned.
void WarnIfQuiet(const DriverProgress& p, bool arrived,
                 std::chrono::steady_clock::time_point now,
                 std::chrono::steady_clock::time_point* last_data) {
  constexpr auto kQuietWarning = std::chrono::seconds(30);
  if (arrived || p.seed) *last_data = now;
  if (!p.seed && now - *last_data >= kQuietWarning) {
    ClearProgress();
    Log(LogLevel::kWarn,
        NothingReceivedWarning(static_cast<int>(kQuietWarning.count()), p.connections,
                               p.pieces, p.piece_count, p.unreachable_peers));
    *last_data = now;
  }
}

// Why a completed download stopped seeding early, and what to do.
std::string SeedingEndedMessage(const DriverProgress& p, const std::string& path) {
  if (!p.changed_on_disk) {
    return "stopped seeding: " + p.fatal_error +
           " (the download itself completed and was verified: " + path + ")";
  }
  return "stopped seeding " + path +
         ": it was modified on disk after the download completed (its size or "
         "modification time changed), so its pieces may no longer match what the tracker "
         "lists and it is no longer served. The download itself completed and was verified "
         "before the change; to seed the new content, publish it with swarm share";
}

// Shows the progress line twice a second until the download is complete
// and has seeded as --seed-after asks, a stop signal, or a fatal error
// (logged: e.g. the disk is full).
GetEnd WatchDownload(PeerDriver& driver, const core::TorrentInfo& info, const std::string& name,
                     const std::string& out_dir, const SeedAfter& linger) {
  RateMeter rates(driver.Progress());
  auto last_data = rates.last_sample_time();
  std::optional<std::chrono::steady_clock::time_point> completed_at;
  for (;;) {
    if (WaitForSignal(std::chrono::milliseconds(500))) return GetEnd::kInterrupted;
    DriverProgress p = driver.Progress();
    auto now = std::chrono::steady_clock::now();
    WarnIfQuiet(p, rates.Sample(p, now), now, &last_data);
    // The same snapshot may show the completion and the error: what counts
    // is that the file was complete, not whether a loop round saw it first.
    if (!p.fatal_error.empty() && (completed_at || (p.seed && p.file_complete))) {
      // The download had completed and was verified: seeding it is a
      // courtesy that ended early, not a failed get (exit code 0).
      ClearProgress();
      Log(LogLevel::kWarn, SeedingEndedMessage(p, out_dir + "/" + name));
      return GetEnd::kDone;
    }
    if (!p.fatal_error.empty()) {
      ClearProgress();
      Log(LogLevel::kError, p.fatal_error);
      return GetEnd::kFatal;
    }
    ShowProgress(ProgressLine(p, rates.down_rate(), rates.up_rate(), info.length()));
    if (!p.seed || !p.file_complete) continue;  // wait for the rename too
    if (!completed_at) {
      completed_at = now;
      ClearProgress();
      Print("complete: " + std::string(out_dir) + "/" + name);
    }
    if (SeededEnough(linger, p, info.length(), now - *completed_at)) return GetEnd::kDone;
  }
}

void PrintSummary(const DriverProgress& p, size_t resumed) {
  double elapsed = p.start_time && p.completion_time
                       ? (*p.completion_time - *p.start_time).seconds()
                       : -1;
  Print("summary: complete=" + std::to_string(p.seed && p.file_complete ? 1 : 0) +
        " resumed_pieces=" + std::to_string(resumed) +
        " downloaded=" + std::to_string(p.stats.downloaded) +
        " uploaded=" + std::to_string(p.stats.uploaded) +
        " wasted=" + std::to_string(p.stats.wasted) +
        " pieces_failed=" + std::to_string(p.stats.pieces_failed) +
        " peers_banned=" + std::to_string(p.stats.peers_banned) +
        " malformed=" + std::to_string(p.malformed_messages) +
        " auth_failures=" + std::to_string(p.auth_failures) +
        " dial_timeouts=" + std::to_string(p.dial_timeouts) +
        " download_s=" + std::to_string(elapsed));
}

// Says what is left of the partial file after the download stopped (and
// removes one that holds nothing a rerun could use), and returns the
// exit code.
int ReportEnd(GetEnd end, const DriverProgress& p, const PartialFile& partial) {
  std::error_code ec;
  const bool gone = !p.file_complete && !std::filesystem::exists(partial.path, ec);
  const bool still_ours = !p.file_complete && !p.partial_file_lost && partial.id &&
                          PieceStore::FileIdOf(partial.path) == partial.id;
  // Deleted, or replaced by another file: what the same command would find
  // there is not this download.
  const std::string lost_note =
      partial.path + (gone ? " no longer exists)" : " is now another file, which was left alone)");
  if (end == GetEnd::kFatal) {
    // The partial file stays whatever it holds: pieces written before the
    // failure but not yet verified are found by the next run's recheck.
    if (!p.file_complete && !still_ours) {
      Log(LogLevel::kInfo, "stopped: nothing kept (" + lost_note);
    } else if (!p.file_complete) {
      Log(LogLevel::kInfo, "stopped: " + std::to_string(p.pieces - std::min(p.pieces, p.pieces_lost)) + " of " +
                               std::to_string(p.piece_count) + " pieces verified in " +
                               partial.path +
                               "; the same command resumes once the problem is fixed");
    }
    return 1;
  }
  if (end == GetEnd::kInterrupted && !p.seed) {
    if (!p.file_complete && !still_ours) {
      Log(LogLevel::kInfo, "interrupted: nothing kept (" + lost_note);
    } else if (p.pieces > 0) {
      Log(LogLevel::kInfo, "interrupted: " + std::to_string(p.pieces) + " of " +
                               std::to_string(p.piece_count) + " pieces kept in " +
                               partial.path + "; the same command resumes");
    } else {
      // Not one verified piece: the partial file, space reserved for the
      // whole torrent, holds nothing a rerun could use; nor do the folders
      // made for it (each removed only if empty).
      std::filesystem::remove(partial.path, ec);
      for (const auto& d : partial.made) {
        if (!std::filesystem::remove(d, ec)) break;
      }
      Log(LogLevel::kInfo, "interrupted before any piece arrived; nothing kept");
    }
    return 130;
  }
  return 0;
}

}  // namespace

int RunGet(const std::string& name, const std::string& tracker, const std::string& out_dir,
           const std::string& seed_after, const std::string& info_hash,
           const CommonOptions& common) {
  GetRequest request;
  if (auto code = CheckGetFlags(name, out_dir, seed_after, info_hash, common, &request)) {
    return *code;
  }
  TrackerClient client(tracker);
  client.SetInterrupt(StopPending);  // Ctrl-C ends a call at once
  std::optional<core::TorrentInfo> info;
  if (auto code = LookUpTorrent(client, tracker, name, request, common.tracker_retries, &info)) {
    return *code;
  }
  // Bound before anything is written, so that a bad or busy --listen
  // leaves no folder or partial file behind.
  std::string error;
  GrpcLogHold hold;  // the port was free before the lookup, but may not be now
  auto server = PeerServer::Start(common.listen, &error);
  hold.Release(server || Logs(LogLevel::kDebug));
  if (!server) return UserError("--listen: " + error);
  // Created only now, so that asking for a name the tracker lacks leaves
  // nothing behind.
  PartialFile partial;
  std::unique_ptr<PieceStore> store;
  if (auto code = OpenPartialFile(out_dir, *info, &partial.made, &store)) return *code;
  core::Bitfield have;
  if (auto code = ResumeFromDisk(*store, name, *info, &have)) return *code;
  const size_t resumed = have.Count();
  partial.path = store->path();
  partial.id = store->file_id();

  const std::string address = PrintableAddress(common.listen, server->port());
  Print("listening on " + address);
  request.options.endpoint = AdvertisedEndpoint(common.listen, server->port());
  Dialer dialer;
  PeerDriver driver(*info, std::move(store), have, request.options, &client, &dialer);
  if (!driver.Start(&error)) {
    Log(LogLevel::kError, error);
    server->Shutdown();
    return 1;
  }
  server->Register(info->info_hash(), &driver);
  const GetEnd end = WatchDownload(driver, *info, name, out_dir, request.linger);
  ClearProgress();
  driver.Stop();  // announces `stopped`
  DriverProgress p = driver.Progress();
  server->Shutdown();  // before `driver` goes: it is registered there
  WaitForLinks();
  PrintSummary(p, resumed);
  return ReportEnd(end, p, partial);
}

}  // namespace swarm::net::cli
