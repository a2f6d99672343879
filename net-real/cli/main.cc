// `swarm`: share and fetch files over a real swarm (tracker, share, list,
// get), and run a simulator scenario on real sockets (run-scenario). Parses
// flags with CLI11 and hands over to cli/commands.cc.
#include <signal.h>

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <utility>

#include <CLI/CLI.hpp>

#include "core/peer_config.h"
#include "net-real/cli/commands.h"
#include "net-real/cli/console.h"
#include "sim/build_info.h"
#include "sim/cli_checks.h"  // header-only: CLI11 validators

namespace cli = swarm::net::cli;

namespace {

// HOST:PORT with a port in range (gRPC would silently wrap 99999 to 34463,
// and take a missing port for a name to resolve, retried for half a minute).
CLI::Validator Address(bool port_zero_ok) {
  return CLI::Validator(
      [port_zero_ok](std::string& s) -> std::string {
        const size_t colon = s.rfind(':');
        if (colon == std::string::npos || colon == 0) return "'" + s + "' is not HOST:PORT";
        const std::string port = s.substr(colon + 1);
        const bool digits = !port.empty() && port.size() <= 5 &&
                            port.find_first_not_of("0123456789") == std::string::npos;
        const int value = digits ? std::stoi(port) : -1;
        if (value < (port_zero_ok ? 0 : 1) || value > 65535) {
          return "'" + s + "': the port must be a number in " +
                 std::string(port_zero_ok ? "0" : "1") + "..65535";
        }
        return "";
      },
      "HOST:PORT");
}

// A validator that adds nothing to --help's type column: CLI11 appends
// each validator's description to the option's type name, which gave
// columns like "UINT:UINT64" or "INT:INT in [1 - 1000000]". The type names
// set with type_name() say what to write; the help text gives any range.
CLI::Validator Quiet(CLI::Validator v) {
  v.description("");
  return v;
}

// An empty value would mean "here" to some commands and fail obscurely
// ("--out : Invalid argument") in others.
CLI::Validator NotEmpty(const std::string& what) {
  return CLI::Validator(
      [what](std::string& s) -> std::string {
        return s.empty() ? "expected " + what + ", got an empty string" : "";
      },
      "");
}

// A count in lo..hi, or why not: empty, signed, not a number and too large
// all get the same message naming the range (CLI11 alone would read an empty
// value as 0 and "-1" as 2^32 - 1).
CLI::Validator CountIn(uint32_t lo, uint32_t hi) {
  return CLI::Validator(
      [lo, hi](std::string& s) -> std::string {
        uint64_t v = 0;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (s.empty() || ec != std::errc() || p != s.data() + s.size() || v < lo || v > hi) {
          return "expected a whole number in " + std::to_string(lo) + ".." + std::to_string(hi) +
                 ", got '" + s + "'";
        }
        return "";
      },
      "");
}

void AddCommon(CLI::App* app, cli::CommonOptions* o) {
  app->add_option("--upload-limit", o->upload_limit,
                  "upload cap, e.g. 2MiB/s or 10Mbit/s (0 = unlimited)")
      ->type_name("RATE");
  app->add_option("--download-limit", o->download_limit, "download cap (0 = unlimited)")
      ->type_name("RATE");
  app->add_option("--max-connections", o->max_connections,
                  "peer connections at most, 1.." + std::to_string(cli::kMaxConnectionsFlag))
      ->type_name("N")
      ->check(CountIn(1, cli::kMaxConnectionsFlag));
  app->add_option("--log-level", o->log_level, "error|warn|info|debug")->type_name("LEVEL");
  app->add_option("--listen", o->listen, "HOST:PORT to accept peers on (port 0: any)")
      ->type_name("HOST:PORT")
      ->check(Quiet(Address(/*port_zero_ok=*/true)));
  app->add_option("--block-size", o->block_size,
                  "request size, 1KiB..1MiB (BEP 3 clients use 16KiB)")
      ->type_name("SIZE");
  app->add_option("--pipeline", o->pipeline,
                  "requests in flight per connection, 1.." +
                      std::to_string(swarm::core::PeerConfig{}.max_queued_requests))
      ->type_name("N")
      ->check(CountIn(1, swarm::core::PeerConfig{}.max_queued_requests));
  app->add_option("--request-queue-time", o->request_queue_time,
                  "adaptive pipeline: requests in flight per connection for this long at its "
                  "download rate, --pipeline at least, up to " +
                      std::to_string(swarm::core::PeerConfig{}.max_queued_requests / 2) +
                      " (0s: off; at most " + std::to_string(cli::kMaxRequestQueueTimeSeconds) +
                      "s)")
      ->type_name("DURATION");
  app->add_option("--uploads-in-flight", o->uploads_in_flight,
                  "blocks being sent to one peer at a time, 1.." +
                      std::to_string(swarm::core::PeerConfig{}.max_queued_requests))
      ->type_name("N")
      ->check(CountIn(1, swarm::core::PeerConfig{}.max_queued_requests));
  app->add_option("--tracker-retries", o->tracker_retries,
                  "attempts to reach the tracker before giving up, 1..1000000")
      ->type_name("N")
      ->check(Quiet(CLI::Range(1, 1000000)));
  app->add_option("--seed", o->seed,
                  "random-number seed of the peer's random choices (0: draw one)")
      ->type_name("N")
      ->check(Quiet(swarm::sim::UnsignedWhole()));
  app->add_flag("--corrupt-uploads", o->corrupt_uploads)->group("");  // tests only
}

}  // namespace

int main(int argc, char** argv) {
  // A write past a file size limit (ulimit -f) would kill us with SIGXFSZ
  // and a core dump; ignored, it fails with EFBIG instead, which `get`
  // reports like any other disk error (file, reason, partial file kept).
  ::signal(SIGXFSZ, SIG_IGN);
  // Writing to a pipe whose reader has gone (`swarm get ... | head -1`)
  // would kill us with SIGPIPE, before the stopped announce (the tracker
  // would list a peer that is gone) and the summary. Ignored, the write
  // fails with EPIPE; what goes to stdout is for the reader only, so that
  // is harmless and the command runs on as if it had been read.
  ::signal(SIGPIPE, SIG_IGN);
  // The stop signals are blocked first thing, in every command, and taken
  // synchronously later (WaitForSignal): before any thread starts (gRPC's
  // inherit the mask, and a signal must not land on one of them), and
  // before anything that takes time. Blocked, a signal stays pending until
  // then; blocked only later, one that came first was lost when the shell
  // started us with SIGINT ignored (a background job of a script), and a
  // `get` stopped 50 ms after its start ran all its tracker retries.
  cli::BlockSignals();
  cli::RouteProtobufLogs();
  // Before any socket is opened: a listening port accepts as many
  // connections as there are file descriptors (docs/real-network.md).
  cli::RaiseOpenFileLimit();
  CLI::App app{"swarmlab real swarms: tracker, share, list, get, run-scenario"};
  // The parser's own refusals in the format of every other error of ours.
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return std::string("swarm: error: ") + e.what() + "\nRun with --help for more information.\n";
  });
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("swarm ") + swarm::Version() + " (build " +
                                        swarm::BuildId() + ")");
  app.option_defaults()->always_capture_default();  // --help shows each default

  swarm::net::cli::TrackerOptions tracker_opts;
  auto* tracker = app.add_subcommand("tracker", "run the directory (tracker)");
  tracker->add_option("--listen", tracker_opts.listen, "HOST:PORT (port 0: any)")
      ->type_name("HOST:PORT")
      ->check(Quiet(Address(/*port_zero_ok=*/true)));
  tracker->add_option("--announce-interval", tracker_opts.announce_interval,
                      "how often peers re-announce, 1min..24h")
      ->type_name("DURATION");
  tracker->add_option("--log-level", tracker_opts.log_level, "error|warn|info|debug")
      ->type_name("LEVEL");
  tracker->add_flag("--trust-announced-hosts", tracker_opts.trust_announced_hosts,
                    "list peers at the host they announce, not at the address their "
                    "announce came from (only behind a proxy you trust)");
  tracker->add_option("--max-files", tracker_opts.max_files,
                      "files listed at most, 1..4294967295")
      ->type_name("N");
  tracker->add_option("--max-files-per-host", tracker_opts.max_files_per_host,
                      "files one address may have listed at once, 1..--max-files")
      ->type_name("N");

  std::vector<std::string> files;
  std::string tracker_addr, piece_length = "256KiB";
  cli::CommonOptions share_opts;
  auto* share = app.add_subcommand("share", "publish files and seed them");
  share->add_option("FILE", files, "files to share")
      ->required()
      ->default_str("")
      ->type_name("");
  share->add_option("--tracker", tracker_addr, "tracker HOST:PORT")
      ->required()
      ->type_name("HOST:PORT")
      ->check(Quiet(Address(/*port_zero_ok=*/false)));
  share->add_option("--piece-length", piece_length, "piece size, 16KiB..64MiB")
      ->type_name("SIZE");
  AddCommon(share, &share_opts);

  int retries = 3;
  auto* list = app.add_subcommand("list", "list the files a tracker knows");
  list->add_option("--tracker", tracker_addr, "tracker HOST:PORT")
      ->required()
      ->type_name("HOST:PORT")
      ->check(Quiet(Address(/*port_zero_ok=*/false)));
  list->add_option("--tracker-retries", retries, "attempts before giving up, 1..1000000")
      ->type_name("N")
      ->check(Quiet(CLI::Range(1, 1000000)));

  std::string name, out_dir = ".", seed_after = "0s", info_hash;
  cli::CommonOptions get_opts;
  auto* get = app.add_subcommand("get", "download a file (and seed it on, see --seed-after)");
  get->add_option("NAME", name, "file name as listed by the tracker")
      ->required()
      ->type_name("");
  get->add_option("--tracker", tracker_addr, "tracker HOST:PORT")
      ->required()
      ->type_name("HOST:PORT")
      ->check(Quiet(Address(/*port_zero_ok=*/false)));
  get->add_option("--out", out_dir, "directory to write into")
      ->type_name("DIR")
      ->check(NotEmpty("a folder"));
  get->add_option("--seed-after", seed_after,
                  "keep seeding after completion: a duration (30s, 5m), a ratio "
                  "(1.5x) or 'forever'")
      ->type_name("WHEN");
  get->add_option("--info-hash", info_hash,
                  "download only if the file's info-hash starts with these 16-64 hex "
                  "digits (as share and list print them)")
      ->type_name("HEX");
  AddCommon(get, &get_opts);

  std::string scenario_file, scenario_out;
  std::vector<std::string> sets;
  std::optional<uint64_t> scenario_seed;
  std::string max_wall = "30min";
  auto* scenario = app.add_subcommand(
      "run-scenario", "run a simulator scenario's peers on real sockets (127.0.0.1)");
  scenario->add_option("FILE", scenario_file, "scenario YAML")->required()->type_name("");
  scenario->add_option("--out", scenario_out, "result folder (default results/NAME-real-seedN)")
      ->type_name("DIR")
      ->check(NotEmpty("a folder"));
  scenario->add_option("--seed", scenario_seed, "run seed (overrides the scenario's)")
      ->type_name("N")
      ->check(Quiet(swarm::sim::UnsignedWhole()));
  scenario->add_option("--set", sets, "override a field, e.g. file.size=8MiB")
      ->default_str("")
      ->type_name("FIELD=VALUE");
  scenario->add_option("--max-wall", max_wall,
                       "wall-clock budget, seconds or a duration (90, 90s, 30min): refuse "
                       "scenarios whose lower bound exceeds it, stop a run that reaches it")
      ->type_name("DURATION");

  // An unknown subcommand is named (CLI11 would only say that a
  // subcommand is required).
  bool known = argc < 2 || argv[1][0] == '-';
  for (const CLI::App* sub : std::as_const(app).get_subcommands(
           std::function<bool(const CLI::App*)>())) {
    known = known || sub->check_name(argv[1]);
  }
  if (!known) {
    std::fprintf(stderr,
                 "swarm: error: unknown subcommand '%s' (expected tracker, share, list, get "
                 "or run-scenario; see swarm --help)\n",
                 argv[1]);
    return 2;
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (*tracker) return cli::RunTracker(tracker_opts);
  if (*share) return cli::RunShare(files, tracker_addr, piece_length, share_opts);
  if (*list) return cli::RunList(tracker_addr, retries);
  if (*scenario) {
    return cli::RunScenario(scenario_file, sets, scenario_seed, scenario_out, max_wall);
  }
  return cli::RunGet(name, tracker_addr, out_dir, seed_after, info_hash, get_opts);
}
