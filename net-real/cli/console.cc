#include "net-real/cli/console.h"

#include <google/protobuf/stubs/common.h>  // GOOGLE_PROTOBUF_VERSION
// protobuf 22 moved its logging to Abseil and dropped SetLogHandler; the
// project builds against Debian 12's 3.21 (README), where it exists.
#if GOOGLE_PROTOBUF_VERSION < 4022000
#include <google/protobuf/stubs/logging.h>
#define SWARM_PROTOBUF_HAS_LOG_HANDLER 1
#endif

#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
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

#include "core/rng.h"
#include "core/units.h"
#include "core/tracker.h"
#include "net-real/cli/file_table.h"
#include "net-real/event_loop.h"
#include "net-real/peer_driver.h"
#include "net-real/peer_transport.h"
#include "net-real/piece_store.h"
#include "net-real/torrent_meta.h"
#include "net-real/tracker_rpc.h"
#include "net-real/units.h"

namespace swarm::net::cli {

// --- Logging and the progress line ---------------------------------------

namespace {

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

}  // namespace

bool Logs(LogLevel level) { return level <= g_level; }

void Log(LogLevel level, const std::string& msg) {
  if (!Logs(level)) return;
  std::lock_guard<std::mutex> lock(g_out_mu);
  if (g_progress_shown) std::fputs("\r\033[K", stderr);
  g_progress_shown = false;
  // Messages quote file names, flags and what remotes say (a tracker's
  // failure reason): a control character in one must not steer the
  // terminal, and a line break must not start a line that looks like ours.
  const std::string shown = PrintableName(msg);
  std::fprintf(stderr, "swarm: %s: %s\n", LevelName(level), shown.c_str());
}

std::string FitToWidth(const std::string& line, int columns) {
  const int room = std::max(0, columns - 1);
  int shown = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    // A UTF-8 character starts at each byte that is not a continuation.
    if ((static_cast<unsigned char>(line[i]) & 0xC0) != 0x80 && shown++ == room) {
      return line.substr(0, i);
    }
  }
  return line;
}

int TerminalWidth() {
  winsize ws{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0) return 80;
  return ws.ws_col;
}

void ShowProgress(const std::string& line) {
  if (!::isatty(STDERR_FILENO)) return;
  // Asked at each redraw: the window may have been resized.
  const std::string fitted = FitToWidth(line, TerminalWidth());
  std::lock_guard<std::mutex> lock(g_out_mu);
  std::fprintf(stderr, "\r\033[K%s", fitted.c_str());
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

bool RouteProtobufLogs() {
#ifndef SWARM_PROTOBUF_HAS_LOG_HANDLER
  return false;  // Abseil's log, not ours: its lines stay as they are
#else
  google::protobuf::SetLogHandler([](google::protobuf::LogLevel level, const char* file, int line,
                                     const std::string& message) {
    const bool fatal = level == google::protobuf::LOGLEVEL_FATAL;
    Log(fatal ? LogLevel::kError : LogLevel::kDebug,
        "protobuf (" + std::string(file) + ":" + std::to_string(line) + "): " + message);
  });
  return true;
#endif
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

namespace {

// The signals that stop every subcommand: Ctrl-C, kill, and the terminal
// closing (SIGHUP), all alike. SIGHUP is left out when it was ignored at
// the start (`nohup swarm share ...`): a blocked signal stays pending even
// if ignored, and the user asked for the terminal's close to be ignored.
const sigset_t& StopSignals() {
  static const sigset_t set = [] {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGINT);
    sigaddset(&s, SIGTERM);
    struct sigaction hup;
    if (sigaction(SIGHUP, nullptr, &hup) != 0 || hup.sa_handler != SIG_IGN) {
      sigaddset(&s, SIGHUP);
    }
    return s;
  }();
  return set;
}

}  // namespace

// Blocks the stop signals in every thread (call before starting any), so
// the main thread can take them synchronously with WaitForSignal.
void BlockSignals() { pthread_sigmask(SIG_BLOCK, &StopSignals(), nullptr); }

bool WaitForSignal(std::chrono::milliseconds timeout) {
  timespec ts{static_cast<time_t>(timeout.count() / 1000),
              static_cast<long>((timeout.count() % 1000) * 1000000)};
  return sigtimedwait(&StopSignals(), nullptr, &ts) > 0;
}

bool StopPending() {
  sigset_t pending;
  if (sigpending(&pending) != 0) return false;
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    if (sigismember(&StopSignals(), sig) == 1 && sigismember(&pending, sig) == 1) return true;
  }
  return false;
}

// --- Tracker access with retries -------------------------------------------

// Runs `attempt` until it succeeds (returns true) or `retries` attempts
// failed; `error` is what went wrong last. Backs off 1, 2, 4, 5, 5... s and
// gives up early on a signal.
RetryOutcome WithRetries(int retries, const std::function<bool(std::string*)>& attempt,
                         const std::function<bool()>& hopeless) {
  std::string error;
  const int attempts = std::max(1, retries);
  for (int i = 1; i <= attempts; ++i) {
    if (attempt(&error)) return RetryOutcome::kDone;
    if (hopeless && hopeless()) break;
    // After the last attempt only poll: a Ctrl-C during it is still pending
    // (signals are blocked).
    const int wait_s = i == attempts ? 0 : std::min(5, 1 << (i - 1));
    // A stop signal cancels a call in progress (TrackerClient::
    // SetInterrupt): its failure says nothing about the tracker.
    if (wait_s > 0 && !StopPending()) {
      Log(LogLevel::kWarn, error + "; retry " + std::to_string(i) + "/" +
                               std::to_string(retries - 1) + " in " +
                               std::to_string(wait_s) + "s");
    }
    if (WaitForSignal(std::chrono::seconds(wait_s))) {
      Log(LogLevel::kWarn, "interrupted while waiting for the tracker");
      return RetryOutcome::kInterrupted;
    }
  }
  Log(LogLevel::kError, error + "; giving up");
  return RetryOutcome::kGaveUp;
}

int ExitCodeOf(RetryOutcome outcome) {
  return outcome == RetryOutcome::kInterrupted ? 130 : 1;
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
  // ParseRate refuses a missing unit, a negative rate and one above
  // kMaxRate alike; the message covers all three.
  auto rate_problem = [](const char* flag, const std::string& value) {
    return std::string(flag) + ": expected a rate with its unit, 0 to " +
           core::FormatRate(core::kMaxRate) + " (e.g. 2MiB/s or 10Mbit/s), got '" + value + "'";
  };
  auto up = ParseRate(c.upload_limit);
  if (!up) return rate_problem("--upload-limit", c.upload_limit);
  auto down = ParseRate(c.download_limit);
  if (!down) return rate_problem("--download-limit", c.download_limit);
  auto block = ParseBytes(c.block_size);
  if (!block || *block < 1024 || *block > kMaxBlockBytes) {
    return "--block-size: expected 1KiB..1MiB, got '" + c.block_size + "'";
  }
  // Checked here, by flag, rather than left to PeerConfig::Validate, whose
  // messages name the core's fields (request_pipeline, ...) not the flags.
  // (Empty, negative and non-numeric values were refused by the parser.)
  auto out_of_range = [](const char* flag, uint32_t value, uint32_t max) -> std::optional<std::string> {
    if (value >= 1 && value <= max) return std::nullopt;
    return std::string(flag) + ": expected 1.." + std::to_string(max) + ", got " +
           std::to_string(value);
  };
  if (auto p = out_of_range("--max-connections", c.max_connections, kMaxConnectionsFlag)) return p;
  // A neighbour may have at most max_queued_requests of ours queued, and we
  // serve at most as many of its own at once.
  const uint32_t max_queued = o->peer.max_queued_requests;
  if (auto p = out_of_range("--pipeline", c.pipeline, max_queued)) return p;
  if (auto p = out_of_range("--uploads-in-flight", c.uploads_in_flight, max_queued)) return p;
  const auto queue_time = core::ParseDuration(c.request_queue_time);
  const auto max_queue_time = core::Duration::Seconds(kMaxRequestQueueTimeSeconds);
  if (!queue_time || *queue_time < core::Duration::Zero() || *queue_time > max_queue_time) {
    return "--request-queue-time: expected a duration with its unit, 0s (off) to " +
           core::FormatDuration(max_queue_time) + " (e.g. 3s), got '" + c.request_queue_time +
           "'";
  }
  uint64_t seed = DrawSeed(c.seed);
  o->run_seed = seed;
  // The peer id comes from the driver's fresh key pair (peer_auth.h).
  o->rng_stream = core::Rng(seed).NextU64();
  o->upload_limit = *up;
  o->download_limit = *down;
  o->peer.max_connections = c.max_connections;
  o->peer.min_connections = std::min(o->peer.min_connections, c.max_connections);
  o->peer.block_size = static_cast<uint32_t>(*block);
  o->peer.max_request_length = std::max<uint32_t>(o->peer.max_request_length,
                                                  static_cast<uint32_t>(*block));
  o->peer.request_pipeline = c.pipeline;
  o->peer.request_queue_time = *queue_time;
  o->peer.uploads_in_flight = c.uploads_in_flight;
  o->peer.unused_unchoke_timeout = core::Duration::Seconds(kRealUnusedUnchokeTimeoutSeconds);
  o->peer.upload_stall_timeout = UploadStallTimeout(o->peer, o->upload_limit);
  o->corrupt_uploads = c.corrupt_uploads;
  o->log = [](LogLevel l, const std::string& m) { Log(l, m); };
  if (auto err = o->peer.Validate()) return "peer configuration: " + *err;
  return std::nullopt;
}

core::Duration UploadStallTimeout(const core::PeerConfig& peer, core::Rate upload_limit) {
  const core::Duration floor = core::Duration::Seconds(kRealUploadStallTimeoutSeconds);
  if (upload_limit <= core::Rate::Zero()) return floor;
  // Blocks in that queue are as long as the neighbours asked for, up to
  // max_request_length, whatever our own block_size.
  const double block = std::max(peer.block_size, peer.max_request_length);
  const double queued = double(peer.unchoke_slots) * peer.uploads_in_flight * block;
  const double seconds = std::ceil(2 * queued / upload_limit.bytes_per_second());
  if (seconds <= double(floor.micros()) / 1e6) return floor;
  return core::Duration::Seconds(static_cast<int64_t>(std::min(seconds, 86400.0)));
}

std::string NothingReceivedWarning(int quiet_s, size_t connections, uint32_t pieces,
                                   uint32_t piece_count, uint32_t unreachable_peers) {
  std::string msg = "nothing received for " + std::to_string(quiet_s) + " s (" +
                    std::to_string(connections) + " peers connected, " +
                    std::to_string(pieces) + "/" + std::to_string(piece_count) + " pieces)";
  if (unreachable_peers > 0) {
    msg += "; " + std::to_string(unreachable_peers) +
           (unreachable_peers == 1 ? " listed peer" : " listed peers") +
           " refused connections or did not answer: peers that left without telling the "
           "tracker stay listed for 1.5 announce intervals + 10 s (45 min by default)";
  }
  return msg + "; waiting for peers that have the rest";
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
  // Rounded up: "0:00:00" while bytes are still missing would be a lie.
  int s = static_cast<int>(std::ceil(seconds));
  std::snprintf(buf, sizeof buf, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
  return buf;
}

// Gives closed streams a moment to finish (their OnDone) before exit.
void WaitForLinks() {
  for (int i = 0; i < 100 && LiveLinks() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}


uint64_t RaiseOpenFileLimit() {
  struct rlimit limit {};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  // An unlimited hard limit cannot be the soft one (the kernel caps open
  // files at fs.nr_open, 2^20 by default).
  const rlim_t want = limit.rlim_max == RLIM_INFINITY ? rlim_t{1} << 20 : limit.rlim_max;
  if (limit.rlim_cur < want) {
    struct rlimit raised = limit;
    raised.rlim_cur = want;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return limit.rlim_cur;
}

}  // namespace swarm::net::cli
