#include "net-real/cli/commands.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
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

#include "core/rng.h"
#include "core/tracker.h"
#include "net-real/event_loop.h"
#include "net-real/peer_driver.h"
#include "net-real/peer_transport.h"
#include "net-real/piece_store.h"
#include "net-real/torrent_meta.h"
#include "net-real/tracker_rpc.h"
#include "net-real/units.h"

namespace swarm::net::cli {
namespace {

// --- Logging and the progress line ---------------------------------------

std::mutex g_out_mu;
LogLevel g_level = LogLevel::kInfo;
bool g_progress_shown = false;

const char* LevelName(LogLevel l) {
  switch (l) {
    case LogLevel::kError: return "error";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kInfo: return "info";
    case LogLevel::kDebug: return "debug";
  }
  return "?";
}

void Log(LogLevel level, const std::string& msg) {
  if (level > g_level) return;
  std::lock_guard<std::mutex> lock(g_out_mu);
  if (g_progress_shown) std::fputs("\r\033[K", stderr);
  g_progress_shown = false;
  std::fprintf(stderr, "swarm: %s: %s\n", LevelName(level), msg.c_str());
}

void ShowProgress(const std::string& line) {
  if (!::isatty(STDERR_FILENO)) return;
  std::lock_guard<std::mutex> lock(g_out_mu);
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
  g_progress_shown = true;
}

void ClearProgress() {
  std::lock_guard<std::mutex> lock(g_out_mu);
  if (g_progress_shown) std::fputs("\r\033[K", stderr);
  g_progress_shown = false;
}

// Lines tests and scripts parse go to stdout, flushed at once.
void Print(const std::string& line) {
  std::lock_guard<std::mutex> lock(g_out_mu);
  std::fprintf(stdout, "%s\n", line.c_str());
  std::fflush(stdout);
}

int UserError(const std::string& msg) {
  Log(LogLevel::kError, msg);
  return 2;
}

bool ParseLevel(const std::string& s) {
  static const std::pair<const char*, LogLevel> kLevels[] = {
      {"error", LogLevel::kError}, {"warn", LogLevel::kWarn},
      {"info", LogLevel::kInfo},   {"debug", LogLevel::kDebug}};
  for (const auto& [name, level] : kLevels) {
    if (s == name) {
      g_level = level;
      return true;
    }
  }
  return false;
}

// --- Signals ---------------------------------------------------------------

// Blocks SIGINT/SIGTERM in every thread (call before starting any), so the
// main thread can take them synchronously with WaitForSignal.
void BlockSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

bool WaitForSignal(std::chrono::milliseconds timeout) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  timespec ts{static_cast<time_t>(timeout.count() / 1000),
              static_cast<long>((timeout.count() % 1000) * 1000000)};
  return sigtimedwait(&set, nullptr, &ts) > 0;
}

// --- Tracker access with retries -------------------------------------------

// Runs `attempt` until it succeeds (returns true) or `retries` attempts
// failed; `error` is what went wrong last. Backs off 1, 2, 4, 5, 5... s and
// gives up early on a signal.
bool WithRetries(int retries, const std::function<bool(std::string*)>& attempt) {
  std::string error;
  for (int i = 1; i <= std::max(1, retries); ++i) {
    if (attempt(&error)) return true;
    if (i == std::max(1, retries)) break;
    int wait_s = std::min(5, 1 << (i - 1));
    Log(LogLevel::kWarn, error + "; retry " + std::to_string(i) + "/" +
                             std::to_string(retries - 1) + " in " +
                             std::to_string(wait_s) + "s");
    if (WaitForSignal(std::chrono::seconds(wait_s))) return false;
  }
  Log(LogLevel::kError, error + "; giving up");
  return false;
}

// --- Peer options ----------------------------------------------------------

uint64_t DrawSeed(uint64_t given) {
  if (given != 0) return given;
  std::random_device rd;  // only to seed; draws go through core::Rng
  uint64_t s = (uint64_t{rd()} << 32) ^ rd() ^
               static_cast<uint64_t>(std::time(nullptr)) ^ (uint64_t(::getpid()) << 16);
  return s == 0 ? 1 : s;
}

// Fills `o` from the user's flags; returns a message naming the bad flag.
std::optional<std::string> MakeDriverOptions(const CommonOptions& c, DriverOptions* o) {
  if (!ParseLevel(c.log_level)) return "--log-level: expected error|warn|info|debug";
  auto up = ParseRate(c.upload_limit);
  if (!up) return "--upload-limit: cannot parse '" + c.upload_limit + "' (e.g. 2MiB/s)";
  auto down = ParseRate(c.download_limit);
  if (!down) return "--download-limit: cannot parse '" + c.download_limit + "' (e.g. 2MiB/s)";
  auto block = ParseBytes(c.block_size);
  if (!block || *block <= 0 || *block > kMaxBlockBytes) {
    return "--block-size: expected 1B..1MiB, got '" + c.block_size + "'";
  }
  uint64_t seed = DrawSeed(c.seed);
  o->run_seed = seed;
  o->id = core::PeerId(core::Rng(seed).NextU64());
  o->upload_limit = *up;
  o->download_limit = *down;
  o->peer.max_connections = c.max_connections;
  o->peer.min_connections = std::min(o->peer.min_connections, c.max_connections);
  o->peer.block_size = static_cast<uint32_t>(*block);
  o->peer.max_request_length = std::max<uint32_t>(o->peer.max_request_length,
                                                  static_cast<uint32_t>(*block));
  o->peer.request_pipeline = c.pipeline;
  o->peer.uploads_in_flight = c.uploads_in_flight;
  o->corrupt_uploads = c.corrupt_uploads;
  o->log = [](LogLevel l, const std::string& m) { Log(l, m); };
  if (auto err = o->peer.Validate()) return "peer configuration: " + *err;
  return std::nullopt;
}

// "0.0.0.0:0" bound to port P -> what to announce (":P": tracker fills the
// host in) and what to print.
std::string AdvertisedEndpoint(const std::string& listen, int port) {
  auto colon = listen.rfind(':');
  std::string host = colon == std::string::npos ? "" : listen.substr(0, colon);
  if (host == "0.0.0.0" || host == "[::]") host.clear();
  return host + ":" + std::to_string(port);
}

std::string PrintableAddress(const std::string& listen, int port) {
  auto colon = listen.rfind(':');
  return (colon == std::string::npos ? listen : listen.substr(0, colon)) + ":" +
         std::to_string(port);
}

std::string Percent(double x) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%5.1f%%", 100 * x);
  return buf;
}

std::string Eta(double seconds) {
  if (seconds < 0 || seconds > 99 * 3600) return "--:--";
  char buf[32];
  int s = static_cast<int>(seconds);
  std::snprintf(buf, sizeof buf, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
  return buf;
}

// Gives closed streams a moment to finish (their OnDone) before exit.
void WaitForLinks() {
  for (int i = 0; i < 100 && LiveLinks() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace

// --- tracker -----------------------------------------------------------------

int RunTracker(const std::string& listen, const std::string& announce_interval,
               const std::string& log_level) {
  if (!ParseLevel(log_level)) return UserError("--log-level: expected error|warn|info|debug");
  auto interval = ParseDuration(announce_interval);
  if (!interval || *interval <= core::Duration::Zero()) {
    return UserError("--announce-interval: cannot parse '" + announce_interval + "' (e.g. 30m)");
  }
  core::TrackerConfig config;
  config.announce_interval = *interval;
  config.peer_timeout = *interval + *interval / 2 + core::Duration::Seconds(10);
  if (auto err = config.Validate()) return UserError("tracker configuration: " + *err);
  BlockSignals();
  std::string error;
  auto server = TrackerServer::Start(listen, config, DrawSeed(0), &error);
  if (!server) return UserError(error);
  Print("tracker listening on " + PrintableAddress(listen, server->port()));
  while (!WaitForSignal(std::chrono::seconds(1))) {
  }
  Log(LogLevel::kInfo, "tracker shutting down");
  server->Shutdown();
  return 0;
}

// --- list --------------------------------------------------------------------

int RunList(const std::string& tracker, int retries) {
  BlockSignals();
  TrackerClient client(tracker);
  std::vector<core::FileEntry> files;
  bool ok = WithRetries(retries, [&](std::string* error) {
    auto got = client.ListFiles(error);
    if (got) files = std::move(*got);
    return got.has_value();
  });
  if (!ok) return 1;
  std::printf("%-32s %12s %8s %6s %9s\n", "NAME", "SIZE", "PIECES", "SEEDS", "LEECHERS");
  for (const auto& f : files) {
    std::printf("%-32s %12s %8u %6u %9u\n", f.name.c_str(),
                FormatBytes(static_cast<double>(f.length)).c_str(), f.piece_count, f.seeds,
                f.leechers);
  }
  if (files.empty()) std::printf("(no files published)\n");
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
  for (const std::string& path : files) {
    std::string base_name = std::filesystem::path(path).filename().string();
    if (!SafeFileName(base_name)) return UserError(path + ": not a shareable file name");
    std::string error;
    auto info = HashFile(path, base_name, *plen, &error);
    if (!info) return UserError(error);
    Log(LogLevel::kInfo, "hashed " + path + ": " +
                             FormatBytes(static_cast<double>(info->length())) + ", " +
                             std::to_string(info->piece_count()) + " pieces, info-hash " +
                             core::ToHex(info->info_hash()).substr(0, 16));
    infos.push_back(std::move(*info));
  }
  BlockSignals();
  TrackerClient client(tracker);
  for (const auto& info : infos) {
    std::optional<core::PublishResult> result;
    bool ok = WithRetries(common.tracker_retries, [&](std::string* error) {
      result = client.Publish(info, error);
      return result.has_value();
    });
    if (!ok) return 1;
    if (*result == core::PublishResult::kNameTaken) {
      Log(LogLevel::kError, "tracker already lists a different file named " + info.name());
      return 1;
    }
    if (*result == core::PublishResult::kInvalid) {
      Log(LogLevel::kError, "tracker refused " + info.name() + " as invalid");
      return 1;
    }
  }
  std::string error;
  auto server = PeerServer::Start(common.listen, &error);
  if (!server) return UserError("--listen: " + error);
  Print("listening on " + PrintableAddress(common.listen, server->port()));
  Dialer dialer;
  std::vector<std::unique_ptr<PeerDriver>> drivers;
  for (size_t i = 0; i < infos.size(); ++i) {
    auto store = PieceStore::OpenComplete(files[i], infos[i], &error);
    if (!store) return UserError(error);
    DriverOptions o = base;
    o.id = core::PeerId(core::Rng::ForStream(base.run_seed, i).NextU64());
    o.endpoint = AdvertisedEndpoint(common.listen, server->port());
    auto driver = std::make_unique<PeerDriver>(infos[i], std::move(store),
                                               core::Bitfield(infos[i].piece_count(), true),
                                               o, &client, &dialer);
    server->Register(infos[i].info_hash(), driver.get());
    driver->Start();
    Print("sharing " + infos[i].name());
    drivers.push_back(std::move(driver));
  }
  while (!WaitForSignal(std::chrono::milliseconds(500))) {
    core::Bytes up = 0;
    size_t peers = 0;
    for (const auto& d : drivers) {
      auto p = d->Progress();
      up += p.stats.uploaded;
      peers += p.connections;
    }
    ShowProgress("seeding " + std::to_string(drivers.size()) + " file(s): uploaded " +
                 FormatBytes(static_cast<double>(up)) + ", " + std::to_string(peers) +
                 " peers");
  }
  ClearProgress();
  Log(LogLevel::kInfo, "stopping: announcing to the tracker");
  for (auto& d : drivers) d->Stop();
  server->Shutdown();
  WaitForLinks();
  return 0;
}

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
    char* end = nullptr;
    double r = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size() - 1 || r < 0) return std::nullopt;
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

}  // namespace

int RunGet(const std::string& name, const std::string& tracker, const std::string& out_dir,
           const std::string& seed_after, const CommonOptions& common) {
  DriverOptions options;
  if (auto err = MakeDriverOptions(common, &options)) return UserError(*err);
  if (!SafeFileName(name)) {
    return UserError("NAME '" + name + "' is not a plain file name (no '/', '..')");
  }
  auto linger = ParseSeedAfter(seed_after);
  if (!linger) return UserError("--seed-after: expected a duration (30s), a ratio (1.5x) or 'forever'");
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec || !std::filesystem::is_directory(out_dir)) {
    return UserError("--out " + out_dir + ": not a directory (" + ec.message() + ")");
  }
  BlockSignals();
  TrackerClient client(tracker);
  std::optional<core::TorrentInfo> info;
  bool missing = false;
  bool ok = WithRetries(common.tracker_retries, [&](std::string* error) {
    info = client.Lookup(name, error);
    missing = !info && error->empty();
    return info.has_value() || missing;
  });
  if (!ok) return 1;
  if (missing) {
    Log(LogLevel::kError, "tracker " + tracker + " has no file named '" + name + "'");
    return 1;
  }
  if (info->name() != name || !SafeFileName(info->name())) {
    Log(LogLevel::kError, "tracker answered with unsafe or different name '" + info->name() + "'");
    return 1;
  }
  std::string error;
  auto store = PieceStore::OpenForDownload(out_dir, *info, &error);
  if (!store) return UserError(error);
  auto t0 = std::chrono::steady_clock::now();
  core::Bitfield have = store->Recheck();
  double recheck_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  size_t resumed = have.Count();
  Print("resume: " + std::to_string(resumed) + " of " + std::to_string(info->piece_count()) +
        " pieces verified on disk (" + std::to_string(recheck_s) + " s)");
  if (store->is_final() && !have.All()) {
    Log(LogLevel::kError, store->path() + " exists but does not match '" + name +
                              "'; move it away first");
    return 1;
  }

  auto server = PeerServer::Start(common.listen, &error);
  if (!server) return UserError("--listen: " + error);
  Print("listening on " + PrintableAddress(common.listen, server->port()));
  options.endpoint = AdvertisedEndpoint(common.listen, server->port());
  Dialer dialer;
  PeerDriver driver(*info, std::move(store), have, options, &client, &dialer);
  server->Register(info->info_hash(), &driver);
  driver.Start();

  bool interrupted = false;
  std::optional<std::chrono::steady_clock::time_point> completed_at;
  DriverProgress last = driver.Progress();
  auto last_t = std::chrono::steady_clock::now();
  double down_rate = 0, up_rate = 0;
  for (;;) {
    if (WaitForSignal(std::chrono::milliseconds(500))) {
      interrupted = true;
      break;
    }
    DriverProgress p = driver.Progress();
    auto now = std::chrono::steady_clock::now();
    double dt = std::chrono::duration<double>(now - last_t).count();
    if (dt > 0) {
      // Exponential smoothing over ~2 s keeps the line readable.
      double a = std::min(1.0, dt / 2.0);
      down_rate += a * ((p.stats.downloaded - last.stats.downloaded) / dt - down_rate);
      up_rate += a * ((p.stats.uploaded - last.stats.uploaded) / dt - up_rate);
    }
    last = p;
    last_t = now;
    if (!p.fatal_error.empty()) {
      ClearProgress();
      Log(LogLevel::kError, p.fatal_error);
      driver.Stop();
      return 1;
    }
    ShowProgress(ProgressLine(p, down_rate, up_rate, info->length()));
    if (!p.seed) continue;
    if (!completed_at) {
      completed_at = now;
      ClearProgress();
      Print("complete: " + std::string(out_dir) + "/" + name);
    }
    if (linger->forever) continue;
    if (linger->ratio && double(p.stats.uploaded) < *linger->ratio * double(info->length())) {
      continue;
    }
    if (linger->duration &&
        now - *completed_at < std::chrono::microseconds(linger->duration->micros())) {
      continue;
    }
    break;
  }
  ClearProgress();
  driver.Stop();
  DriverProgress p = driver.Progress();
  server->Shutdown();
  WaitForLinks();
  double elapsed = p.start_time && p.completion_time
                       ? (*p.completion_time - *p.start_time).seconds()
                       : -1;
  Print("summary: complete=" + std::to_string(p.seed ? 1 : 0) +
        " resumed_pieces=" + std::to_string(resumed) +
        " downloaded=" + std::to_string(p.stats.downloaded) +
        " uploaded=" + std::to_string(p.stats.uploaded) +
        " wasted=" + std::to_string(p.stats.wasted) +
        " pieces_failed=" + std::to_string(p.stats.pieces_failed) +
        " peers_banned=" + std::to_string(p.stats.peers_banned) +
        " malformed=" + std::to_string(p.malformed_messages) +
        " download_s=" + std::to_string(elapsed));
  if (interrupted && !p.seed) return 130;
  return 0;
}

}  // namespace swarm::net::cli
