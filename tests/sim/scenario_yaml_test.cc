#include "sim/scenario_yaml.h"

#include <gtest/gtest.h>

#include <cmath>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "core/peer_config.h"
#include "sim/results.h"

namespace swarm::sim {
namespace {

const char* kGood = R"(name: tiny
description: two peers
seed: 7
stop: {all_complete: true, max_time: 1h}
file: {size: 1MiB, piece_size: 256KiB, block_size: 16KiB}
network: {latency: {constant: 25ms}}
protocol: {piece_selection: rarest_first, choker: tit_for_tat, unchoke_slots: 4}
tracker: {numwant: 50, announce_interval: 30min}
peers:
  - {class: seed, count: 1, upload: 10Mbit/s, download: 100Mbit/s, start: complete,
     arrival: {at: 0s}, leave: never}
  - {class: leecher, count: 10, upload: 1Mbit/s, download: 8Mbit/s,
     arrival: {uniform: [0s, 10s]}, leave: {after_complete: 0s}}
sample_interval: 2s
)";

Scenario MustParse(const std::string& text, std::vector<std::string> sets = {}) {
  auto r = ParseScenario("t.yaml", text, sets);
  if (auto* e = std::get_if<ScenarioLoadError>(&r)) ADD_FAILURE() << e->message;
  return std::get<Scenario>(r);
}

std::string ErrorOf(const std::string& text, std::vector<std::string> sets = {}) {
  auto r = ParseScenario("t.yaml", text, sets);
  if (auto* e = std::get_if<ScenarioLoadError>(&r)) return e->message;
  return "(no error)";
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  size_t p = s.find(from);
  EXPECT_NE(p, std::string::npos) << from;
  return s.replace(p, from.size(), to);
}

// A file name the tracker refuses to publish used to leave every leecher
// waiting until stop.max_time (0 of them completed); the reader refuses it.
TEST(ScenarioYaml, FileNameMustBeAPlainFileName) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"a/b", "'a/b' is not a plain file name: it contains '/'"},
      {"..", "'..' is not a plain file name: it is '..'"},
      {".", "'.' is not a plain file name: it is '.'"},
      {"''", "'' is not a plain file name: it is empty"},
      {"a\\b", "'a\\b' is not a plain file name: it contains '\\'"},
      {"'a\tb'", "'a\\x09b' is not a plain file name: it contains a control character (byte 0x09)"},
      {std::string(256, 'x'), "is not a plain file name: it has 256 bytes (at most 255)"}};
  for (const auto& [name, problem] : bad) {
    const std::string error = ErrorOf(kGood, {"file.name=" + name});
    EXPECT_NE(error.find("field 'file.name': '"), std::string::npos) << error;
    EXPECT_NE(error.find(problem), std::string::npos) << error;
  }
  EXPECT_EQ(MustParse(kGood, {"file.name=" + std::string(255, 'x')}).file.name.size(), 255u);
  EXPECT_EQ(MustParse(kGood, {"file.name=x y.bin"}).file.name, "x y.bin");
}

TEST(ScenarioYaml, ParsesEveryPart) {
  Scenario s = MustParse(kGood);
  EXPECT_EQ(s.name, "tiny");
  EXPECT_EQ(s.seed, 7u);
  EXPECT_EQ(s.stop.max_time, core::Duration::Seconds(3600));
  EXPECT_EQ(s.PieceCount(), 4u);
  ASSERT_EQ(s.peers.size(), 2u);
  EXPECT_TRUE(s.peers[0].start_complete);
  EXPECT_EQ(s.peers[1].count, 10u);
  EXPECT_DOUBLE_EQ(s.peers[1].download.bits_per_second(), 8e6);
  EXPECT_EQ(s.peers[1].arrival.kind, ArrivalSpec::Kind::kUniform);
  EXPECT_EQ(s.peers[1].arrival.to, core::Duration::Seconds(10));
  EXPECT_EQ(s.peers[1].leave.kind, LeaveSpec::Kind::kAfterComplete);
  EXPECT_EQ(s.sample_interval, core::Duration::Seconds(2));
}

TEST(ScenarioYaml, OverridesAnyPath) {
  Scenario s = MustParse(kGood, {"protocol.choker=round_robin", "peers.1.count=500",
                                 "network.latency={uniform: [20ms, 50ms]}"});
  EXPECT_EQ(s.protocol.choker, core::ChokerKind::kRoundRobin);
  EXPECT_EQ(s.peers[1].count, 500u);
  EXPECT_EQ(s.network.latency.kind, LatencySpec::Kind::kUniform);
  EXPECT_EQ(s.network.latency.high, core::Duration::Millis(50));
}

TEST(ScenarioYaml, ClassProtocolOverridesTheScenarioProtocol) {
  Scenario s = MustParse(kGood, {"peers.1.protocol={choker: bittyrant}"});
  ASSERT_TRUE(s.peers[1].protocol);
  EXPECT_EQ(s.peers[1].protocol->choker, core::ChokerKind::kBitTyrant);
  // Inherits the rest from the scenario's protocol.
  EXPECT_EQ(s.peers[1].protocol->unchoke_slots, 4u);
  EXPECT_EQ(s.PeerConfigFor(s.peers[0]).choker, core::ChokerKind::kTitForTat);
  EXPECT_DOUBLE_EQ(s.PeerConfigFor(s.peers[1]).upload_capacity.bits_per_second(), 1e6);
  EXPECT_EQ(EmitScenario(MustParse(EmitScenario(s))), EmitScenario(s));
}

// protocol.request_queue_time (the adaptive pipeline) is written back only
// when on, so the scenario.yaml of a run without it reads as before the
// field existed; a class may turn it on alone.
TEST(ScenarioYaml, RequestQueueTimeIsWrittenOnlyWhenOn) {
  EXPECT_EQ(EmitScenario(MustParse(kGood)).find("request_queue_time"),
            std::string::npos);
  const Scenario on = MustParse(kGood, {"protocol.request_queue_time=3s"});
  EXPECT_EQ(on.protocol.request_queue_time, core::Duration::Seconds(3));
  const std::string text = EmitScenario(on);
  EXPECT_NE(text.find("request_queue_time: 3s"), std::string::npos) << text;
  EXPECT_EQ(EmitScenario(MustParse(text)), text);
  const Scenario one =
      MustParse(kGood, {"peers.1.protocol={request_queue_time: 2s}"});
  const std::string one_text = EmitScenario(one);
  EXPECT_NE(one_text.find("request_queue_time: 2s"), std::string::npos)
      << one_text;
  EXPECT_EQ(EmitScenario(MustParse(one_text)), one_text);
  EXPECT_EQ(
      ErrorOf(kGood, {"protocol.request_queue_time=-1s"}).find("(no error)"),
      std::string::npos);
}

// `measure` is written back only when given, so the scenario.yaml of a
// file without it reads as before the section existed; it can be set and
// varied like any field.
TEST(ScenarioYaml, MeasureWindowIsOptionalAndRoundTrips) {
  const Scenario plain = MustParse(kGood);
  EXPECT_FALSE(plain.measure);
  EXPECT_EQ(EmitScenario(plain).find("measure"), std::string::npos);
  const Scenario set = MustParse(kGood, {"measure.joins_from=2000s", "measure.joins_until=3h"});
  ASSERT_TRUE(set.measure);
  EXPECT_EQ(set.measure->joins_from, core::Duration::Seconds(2000));
  EXPECT_EQ(set.measure->joins_until, core::Duration::Seconds(3 * 3600));
  const std::string text = EmitScenario(set);
  EXPECT_NE(text.find("\nmeasure: {joins_from: 2000s, joins_until: 3h}\n"), std::string::npos)
      << text;
  EXPECT_EQ(EmitScenario(MustParse(text)), text);
  const Scenario open = MustParse(std::string(kGood) + "measure: {joins_from: 10min}\n");
  EXPECT_FALSE(open.measure->joins_until);
  EXPECT_NE(EmitScenario(open).find("\nmeasure: {joins_from: 10min}\n"), std::string::npos);
  EXPECT_EQ(ErrorOf(kGood, {"measure.joins_from=2h", "measure.joins_until=1h"}),
            "t.yaml: --set measure.joins_from=2h --set measure.joins_until=1h: field "
            "'measure.joins_until': before measure.joins_from (2h)");
  EXPECT_NE(ErrorOf(std::string(kGood) + "measure: {from: 1s}\n")
                .find("field 'measure.from': unknown field (known here: joins_from, joins_until)"),
            std::string::npos);
}

TEST(ScenarioYaml, EmitThenParseIsIdentity) {
  Scenario s = MustParse(kGood, {"peers.1.leave={after_complete: {exponential: 5min}}"});
  std::string once = EmitScenario(s);
  std::string twice = EmitScenario(MustParse(once));
  EXPECT_EQ(once, twice);
}

// idle_timeout is read, written back, and may be 0s (off).
TEST(ScenarioYaml, IdleTimeoutIsReadWrittenAndMayBeOff) {
  EXPECT_EQ(MustParse(kGood).protocol.idle_timeout, core::Duration::Seconds(600));
  EXPECT_NE(EmitScenario(MustParse(kGood)).find("idle_timeout: 10min\n"), std::string::npos);
  Scenario s = MustParse(kGood, {"protocol.idle_timeout=0s"});
  EXPECT_EQ(s.protocol.idle_timeout, core::Duration::Zero());
  const std::string text = EmitScenario(s);
  EXPECT_NE(text.find("idle_timeout: 0s\n"), std::string::npos) << text;
  EXPECT_EQ(MustParse(text).protocol.idle_timeout, core::Duration::Zero());
}

// The peers take the tracker's interval as theirs, within the bounds a
// peer accepts from any tracker (PeerConfig::AnnounceIntervalFrom): one
// outside them is an error, not a silent change.
TEST(ScenarioYaml, AnnounceIntervalMustBeOneThePeersAccept) {
  auto With = [](const char* interval) {
    return Replace(kGood, "announce_interval: 30min", std::string("announce_interval: ") + interval);
  };
  const std::string scenario_wide =
      "t.yaml:8: field 'tracker.announce_interval': must be between "
      "protocol.min_reannounce_interval (1min) and 24h, the intervals a peer accepts from a "
      "tracker";
  EXPECT_EQ(ErrorOf(With("30s")), scenario_wide);
  EXPECT_EQ(ErrorOf(With("2d")), scenario_wide);
  // A class that amends the protocol is checked with its own minimum.
  EXPECT_EQ(ErrorOf(With("30s"), {"peers.1.protocol={min_reannounce_interval: 2min}"}),
            scenario_wide);
  EXPECT_EQ(ErrorOf(With("90s"), {"peers.1.protocol={min_reannounce_interval: 2min}"}),
            "t.yaml: --set peers.1.protocol={min_reannounce_interval: 2min}: field "
            "'tracker.announce_interval': must be between "
            "peers.1.protocol.min_reannounce_interval (2min) and 24h, the intervals a peer "
            "accepts from a tracker");
  Scenario s = MustParse(With("30s"), {"protocol.min_reannounce_interval=30s"});
  EXPECT_EQ(s.PeerConfigFor(s.peers[1]).announce_interval, core::Duration::Seconds(30));
  EXPECT_EQ(MustParse(With("24h"), {"tracker.peer_timeout=25h"}).tracker.announce_interval,
            core::kMaxAnnounceInterval);
}

// Real numbers are written as the shortest text that reads back exactly:
// 0.1, not 0.10000000000000001, and a tiny probability survives the trip.
TEST(ScenarioYaml, RealsAreWrittenShortAndReadBackExactly) {
  for (const char* p : {"0.1", "0.3", "1e-05", "0.123456789012345"}) {
    Scenario s = MustParse(kGood, {std::string("peers.1.failure={probability: ") + p +
                                       ", after: 1min}",
                                   "protocol.propshare_reserve=0.1"});
    const std::string text = EmitScenario(s);
    EXPECT_NE(text.find(std::string("probability: ") + p + ","), std::string::npos) << text;
    EXPECT_NE(text.find("propshare_reserve: 0.1\n"), std::string::npos) << text;
    Scenario again = MustParse(text);
    EXPECT_EQ(again.peers[1].failure.probability, s.peers[1].failure.probability) << p;
    EXPECT_EQ(EmitScenario(again), text);
  }
}

// A YAML merge key reaches us as a field named "<<": say what it is.
TEST(ScenarioYaml, AMergeKeyIsNamedAsSuch) {
  std::string text = Replace(kGood, "  - {class: leecher, count: 10, upload: 1Mbit/s, "
                                    "download: 8Mbit/s,\n",
                             "  - {<<: {count: 10}, class: leecher, upload: 1Mbit/s, "
                             "download: 8Mbit/s,\n");
  EXPECT_EQ(ErrorOf(text),
            "t.yaml:12: field 'peers.1.<<': YAML merge keys (<<) are not supported: write "
            "the fields out, or vary them with --set");
}

TEST(ScenarioYaml, UnknownFieldNamesFileLineAndField) {
  EXPECT_EQ(ErrorOf(Replace(kGood, "unchoke_slots: 4", "unchoke_count: 4")),
            "t.yaml:7: field 'protocol.unchoke_count': unknown field (known here: "
            "piece_selection, random_first_pieces, endgame, choker, seed_choke, "
            "unchoke_slots, rechoke_interval, optimistic_interval, max_connections, "
            "min_connections, request_pipeline, request_queue_time, max_request_length, "
            "max_queued_requests, uploads_in_flight, request_timeout, "
            "keepalive_interval, inactivity_timeout, idle_timeout, unused_unchoke_timeout, "
            "upload_stall_timeout, housekeeping_interval, "
            "min_reannounce_interval, dial_attempts, redial_backoff, ban_strikes, "
            "strict_tft_allowance, "
            "propshare_reserve, super_seeding)");
}

// `count: 1,000` inside {...} is `count: 1` and a field `000`: said so,
// not "field 'peers.1.000': unknown field (known here: ...)".
TEST(ScenarioYaml, ANumberWithAThousandsSeparatorIsNamed) {
  EXPECT_EQ(ErrorOf(Replace(kGood, "count: 10,", "count: 1,000,")),
            "t.yaml:12: field 'peers.1.count': 1,000 reads as 1 and a field named '000': "
            "inside {...} a comma separates fields; write 1000");
}

// A name one slip away from a known one is named instead of the list.
TEST(ScenarioYaml, AnUnknownFieldNearAKnownOneSuggestsIt) {
  EXPECT_EQ(ErrorOf(Replace(kGood, "unchoke_slots: 4", "unchoke_slotz: 4")),
            "t.yaml:7: field 'protocol.unchoke_slotz': unknown field 'unchoke_slotz' (did you "
            "mean 'unchoke_slots'?)");
  // Two letters swapped are two edits.
  EXPECT_EQ(ErrorOf(kGood, {"protocol.peice_selection=random"}),
            "t.yaml: --set protocol.peice_selection=random: field 'protocol.peice_selection': "
            "unknown field 'peice_selection' (did you mean 'piece_selection'?)");
  // Case, and a name cut short or run on.
  EXPECT_EQ(ErrorOf(kGood, {"protocol.Choker=round_robin"}),
            "t.yaml: --set protocol.Choker=round_robin: field 'protocol.Choker': unknown field "
            "'Choker' (did you mean 'choker'?)");
  EXPECT_EQ(ErrorOf(kGood, {"protocol.rechoke=10s"}),
            "t.yaml: --set protocol.rechoke=10s: field 'protocol.rechoke': unknown field "
            "'rechoke' (did you mean 'rechoke_interval'?)");
  EXPECT_EQ(ErrorOf(kGood, {"protocol.endgame_mode=true"}),
            "t.yaml: --set protocol.endgame_mode=true: field 'protocol.endgame_mode': unknown "
            "field 'endgame_mode' (did you mean 'endgame'?)");
  EXPECT_EQ(ErrorOf(Replace(kGood, "seed: 7", "sed: 7")),
            "t.yaml:3: field 'sed': unknown field 'sed' (did you mean 'seed'?)");
  // A misspelt section too.
  EXPECT_EQ(ErrorOf(kGood, {"protocl.choker=round_robin"}),
            "t.yaml: --set protocl.choker=round_robin: field 'protocl': unknown field 'protocl' "
            "(did you mean 'protocol'?)");
  // Equally near two names (max_ and min_connections), or near none: the list.
  EXPECT_NE(ErrorOf(kGood, {"protocol.mix_connections=5"})
                .find("field 'protocol.mix_connections': unknown field (known here: "
                      "piece_selection, "),
            std::string::npos)
      << ErrorOf(kGood, {"protocol.mix_connections=5"});
  EXPECT_NE(ErrorOf(kGood, {"protocol.max=5"}).find("unknown field (known here: "),
            std::string::npos);
  // A short key is not "corrected" into another word (2 edits from "at").
  EXPECT_EQ(ErrorOf(kGood, {"peers.0.arrival={to: 1s}"}),
            "t.yaml: --set peers.0.arrival={to: 1s}: field 'peers.0.arrival.to': unknown field "
            "(known here: at, uniform, poisson, decaying)");
}

TEST(ScenarioYaml, MissingUnit) {
  EXPECT_EQ(ErrorOf(Replace(kGood, "upload: 1Mbit/s", "upload: 1")),
            "t.yaml:12: field 'peers.1.upload': missing unit in '1' (write e.g. "
            "10Mbit/s, 1MiB/s)");
}

TEST(ScenarioYaml, NegativeRate) {
  EXPECT_EQ(ErrorOf(Replace(kGood, "download: 8Mbit/s", "download: -8Mbit/s")),
            "t.yaml:12: field 'peers.1.download': must not be negative (got '-8Mbit/s')");
}

// An empty file (or comments only) is said to be empty, not "field '(top
// level)': expected a mapping of fields"; a file that is something else
// than a mapping still gets that.
TEST(ScenarioYaml, AnEmptyFileIsSaidToBeEmpty) {
  const std::string empty =
      "t.yaml: the file is empty; a scenario is a mapping of fields such as name, file and "
      "peers (docs/scenarios.md)";
  EXPECT_EQ(ErrorOf(""), empty);
  EXPECT_EQ(ErrorOf("\n  \n# only a comment\n"), empty);
  EXPECT_EQ(ErrorOf("", {"name=x"}), empty);
  EXPECT_EQ(ErrorOf("- a\n- b\n"), "t.yaml:1: field '(top level)': expected a mapping of fields");
}

// `--set =5` names the --set, as the other override errors do.
TEST(ScenarioYaml, AnOverrideWithoutAFieldNamesTheSet) {
  EXPECT_EQ(ErrorOf(kGood, {"=5"}),
            "t.yaml: --set =5: no field before '='; an override must look like "
            "field.path=value");
}

TEST(ScenarioYaml, BadYaml) {
  std::string e = ErrorOf(Replace(kGood, "seed: 7", "seed: [7"));
  EXPECT_EQ(e.rfind("t.yaml:", 0), 0u) << e;
  EXPECT_NE(e.find("bad YAML"), std::string::npos) << e;
}

// yaml-cpp's words for a block out of line are about its parser ("illegal
// map value"); the message adds what to look at.
TEST(ScenarioYaml, BadYamlSaysWhatToCheck) {
  const char* kBlock = "name: a\npeers:\n  - class: seed\n    count: 1\n";
  EXPECT_EQ(ErrorOf(Replace(kBlock, "    count", "     count")),
            "t.yaml:4: bad YAML: illegal map value (check the indentation of this line and the "
            "one before: YAML indents with spaces, and the fields of one mapping start in the "
            "same column)");
  EXPECT_EQ(ErrorOf(Replace(kGood, "tracker: {", "  tracker: {")),
            "t.yaml:8: bad YAML: end of map not found (check the indentation of this line and the "
            "one before: YAML indents with spaces, and the fields of one mapping start in the "
            "same column)");
  // A tab in the indentation is named, on the line reported or the one before.
  EXPECT_EQ(ErrorOf(Replace(kBlock, "    count", "\tcount")),
            "t.yaml:4: bad YAML: illegal tab when looking for indentation (line 4 contains a tab; "
            "YAML indentation must use spaces)");
  EXPECT_EQ(ErrorOf(Replace(kBlock, "  - class", "\t- class")),
            "t.yaml:3: bad YAML: illegal block entry (line 3 contains a tab; YAML indentation "
            "must use spaces)");
  // A tab after the indentation is allowed, and not blamed.
  MustParse(Replace(kGood, "sample_interval: 2s", "sample_interval:\t2s"));
  // An open bracket.
  EXPECT_EQ(ErrorOf(Replace(kGood, "max_time: 1h}", "max_time: 1h")),
            "t.yaml:5: bad YAML: end of map flow not found (a '{' before this point is not "
            "closed, or two of its entries lack a comma between them)");
}

TEST(ScenarioYaml, ValidateErrorsPointAtTheField) {
  EXPECT_EQ(ErrorOf(Replace(kGood, "piece_size: 256KiB", "piece_size: 100KiB")),
            "t.yaml:5: field 'file.piece_size': must be a multiple of file.block_size");
  EXPECT_EQ(ErrorOf(Replace(kGood, "start: complete,", "start: empty,")),
            "t.yaml:9: field 'peers': no class starts complete: nobody has the file");
  EXPECT_EQ(ErrorOf(Replace(kGood, "count: 10, upload: 1Mbit/s, download: 8Mbit/s,",
                            "count: 10, upload: 1Mbit/s, download: 8Mbit/s, start: complete,")),
            "t.yaml:9: field 'peers': every class starts complete: nobody downloads the file");
  EXPECT_EQ(ErrorOf(kGood, {"peers.0.connectable=false", "peers.1.connectable=false"}),
            "t.yaml: --set peers.0.connectable=false --set peers.1.connectable=false: field "
            "'peers': no class is connectable: no peer could accept a connection");
  MustParse(kGood, {"peers.1.connectable=false"});
  EXPECT_EQ(ErrorOf(kGood, {"peers.1.connectable=maybe"}),
            "t.yaml: --set peers.1.connectable=maybe: field 'peers.1.connectable': expected true "
            "or false, got 'maybe'");
}

// A class can be switched off with count 0 (`--set peers.2.count=0`, or a
// sweep over it), which was refused ("must be at least 1"). What the other
// classes must provide is then counted over the classes with peers.
TEST(ScenarioYaml, AClassOfCountZeroHasNoPeers) {
  const std::string three =
      std::string(kGood).insert(std::string(kGood).rfind("sample_interval"),
                                "  - {class: rider, count: 5, upload: 1Mbit/s, "
                                "download: 8Mbit/s, free_rider: true}\n");
  Scenario s = MustParse(three, {"peers.2.count=0"});
  ASSERT_EQ(s.peers.size(), 3u);
  EXPECT_EQ(s.peers[2].count, 0u);
  EXPECT_EQ(s.TotalPeers(), 11u);
  EXPECT_NE(EmitScenario(s).find("count: 0"), std::string::npos);
  EXPECT_EQ(ErrorOf(kGood, {"peers.0.count=0"}),
            "t.yaml: --set peers.0.count=0: field 'peers': no class starts complete: nobody "
            "has the file (a class of count 0 has no peers)");
  EXPECT_EQ(ErrorOf(kGood, {"peers.1.count=0"}),
            "t.yaml: --set peers.1.count=0: field 'peers': every class starts complete: "
            "nobody downloads the file (a class of count 0 has no peers)");
  // Only the empty class would accept connections.
  EXPECT_EQ(ErrorOf(three, {"peers.0.connectable=false", "peers.2.connectable=false",
                            "peers.1.count=0"}),
            "t.yaml: --set peers.0.connectable=false --set peers.2.connectable=false --set "
            "peers.1.count=0: field 'peers': no class is connectable: no peer could accept a "
            "connection (a class of count 0 has no peers)");
  EXPECT_EQ(ErrorOf(kGood, {"peers.1.count=-1"}),
            "t.yaml: --set peers.1.count=-1: field 'peers.1.count': must not be negative (got "
            "'-1')");
}

TEST(ScenarioYaml, ASecondDocumentIsRefusedNotIgnored) {
  // kGood's 14 lines, then '---' and the second document from line 16.
  EXPECT_EQ(ErrorOf(std::string(kGood) + "---\nname: other\n"),
            "t.yaml:16: a second YAML document (after '---'); a scenario file holds one");
  // A lone document may still be framed by --- and ...
  MustParse("---\n" + std::string(kGood) + "...\n");
}

TEST(ScenarioYaml, SampleIntervalKeepsTheTimelineFinite) {
  EXPECT_EQ(ErrorOf(kGood, {"sample_interval=500us"}),
            "t.yaml: --set sample_interval=500us: field 'sample_interval': must be at least 1ms");
  // A run that lasts max_time gets a row per interval: 3h / 1 ms is 10.8 M.
  EXPECT_EQ(ErrorOf(kGood, {"stop.all_complete=false", "sample_interval=1ms", "stop.max_time=3h"}),
            "t.yaml: --set sample_interval=1ms --set stop.max_time=3h: field 'sample_interval': "
            "too small for stop.max_time: "
            "a run that lasts max_time writes 10800000 rows of timeline.csv (at most 10000000)");
  MustParse(kGood, {"stop.all_complete=false", "sample_interval=1ms", "stop.max_time=2h"});
  // So does one meant to stop when all are done in which some leecher
  // never completes: all_complete does not bound the rows.
  EXPECT_EQ(ErrorOf(kGood, {"sample_interval=1ms", "stop.max_time=1000h"}),
            "t.yaml: --set sample_interval=1ms --set stop.max_time=1000h: field 'sample_interval': "
            "too small for stop.max_time: a run that lasts max_time writes 3600000000 rows of timeline.csv (at most 10000000)");
  MustParse(kGood, {"sample_interval=1ms", "stop.max_time=2h"});
}

// A scenario that leaves sections out still takes overrides inside them.
const char* kSparse = R"(name: sparse
peers:
  - {class: seed, count: 1, upload: 10Mbit/s, download: 100Mbit/s, start: complete}
  - {class: leecher, count: 3, upload: 1Mbit/s, download: 8Mbit/s}
)";

TEST(ScenarioYaml, AClassWithoutTheFieldIsPointedAtByItsOwnLine) {
  // kGood's classes are flow maps under `peers:` (line 9); the seed's starts
  // on line 10, and the error names that line, not the list's.
  EXPECT_EQ(ErrorOf(Replace(kGood, "network: {latency: {constant: 25ms}}",
                            "network: {latency: {topology: {regions: [eu], links: [], "
                            "access: 5ms}}}")),
            "t.yaml:10: field 'peers.0.region': missing: topology latency needs a region for "
            "every class (network.latency.topology.regions: eu)");
}

TEST(ScenarioYaml, OverridesCreateMissingSections) {
  Scenario s = MustParse(kSparse, {"protocol.choker=round_robin", "tracker.numwant=7",
                                   "file.size=2MiB", "peers.1.protocol.choker=bittyrant"});
  EXPECT_EQ(s.protocol.choker, core::ChokerKind::kRoundRobin);
  EXPECT_EQ(s.tracker.numwant, 7u);
  EXPECT_EQ(s.file.size, 2 << 20);
  ASSERT_TRUE(s.peers[1].protocol);
  EXPECT_EQ(s.peers[1].protocol->choker, core::ChokerKind::kBitTyrant);
  EXPECT_EQ(s.PeerConfigFor(s.peers[0]).choker, core::ChokerKind::kRoundRobin);
  // A misspelt section is still an unknown field, not a puzzle.
  EXPECT_EQ(ErrorOf(kSparse, {"protocl.choker=round_robin"}).rfind(
                "t.yaml: --set protocl.choker=round_robin: field 'protocl': unknown field", 0),
            0u)
      << ErrorOf(kSparse, {"protocl.choker=round_robin"});
  // Setting inside a plain value is still refused.
  EXPECT_EQ(ErrorOf(kGood, {"seed.x=1"}),
            "t.yaml: --set seed.x=1: field 'seed.x': cannot set a field inside a single "
            "value");
}

TEST(ScenarioYaml, ProtocolErrorsNameTheSetting) {
  EXPECT_EQ(ErrorOf(Replace(kGood, "unchoke_slots: 4", "unchoke_slots: 0")),
            "t.yaml:7: field 'protocol.unchoke_slots': unchoke_slots must be at least 1");
  EXPECT_EQ(ErrorOf(kGood, {"peers.1.protocol.request_pipeline=0"}),
            "t.yaml: --set peers.1.protocol.request_pipeline=0: field "
            "'peers.1.protocol.request_pipeline': request_pipeline must be at least 1");
}

TEST(ScenarioYaml, AnErrorNamingASiblingSettingBlamesTheOverride) {
  EXPECT_EQ(ErrorOf(kGood, {"protocol.request_pipeline=300"}),
            "t.yaml: --set protocol.request_pipeline=300: field "
            "'protocol.max_queued_requests': max_queued_requests must be at least "
            "request_pipeline");
}

TEST(ScenarioYaml, MinConnectionsFollowsALoweredCap) {
  Scenario s = MustParse(kGood, {"protocol.max_connections=10"});
  EXPECT_EQ(s.protocol.max_connections, 10u);
  EXPECT_EQ(s.protocol.min_connections, 10u);
  // Given explicitly, a minimum above the cap is still an error.
  EXPECT_EQ(ErrorOf(kGood, {"protocol={max_connections: 10, min_connections: 12}"}),
            "t.yaml: --set protocol={max_connections: 10, min_connections: 12}: field "
            "'protocol.min_connections': min_connections must not exceed max_connections");
}

TEST(ScenarioYaml, OverrideErrorsNameTheOverride) {
  EXPECT_EQ(ErrorOf(kGood, {"protocol.choker=best"}),
            "t.yaml: --set protocol.choker=best: field 'protocol.choker': unknown value "
            "'best' (expected one of: tit_for_tat, strict_tit_for_tat, round_robin, "
            "unchoke_all, propshare, bittyrant, mainline_tit_for_tat)");
  EXPECT_EQ(ErrorOf(kGood, {"peers.5.count=1"}),
            "t.yaml: --set peers.5.count=1: field 'peers.5': no class 5: peers is a list of 2 "
            "classes: 0 = seed, 1 = leecher");
  // Other lists have no names.
  EXPECT_EQ(ErrorOf(kGood, {"peers.1.arrival.uniform.2=1s"}),
            "t.yaml: --set peers.1.arrival.uniform.2=1s: field 'peers.1.arrival.uniform.2': no "
            "such list element (the list has 2)");
}

// The refusal of an unknown policy name lists the names as it did when the
// lists were written by hand (users' scripts and docs/scenarios.md quote
// them). A policy added since is appended (the name tables follow the
// enums, whose new values go last), so only the start is pinned.
TEST(ScenarioYaml, AnUnknownPolicyNameListsTheChoices) {
  const std::pair<std::string, std::string> cases[] = {
      {"protocol.piece_selection=rarest",
       "t.yaml: --set protocol.piece_selection=rarest: field 'protocol.piece_selection': "
       "unknown value 'rarest' (expected one of: rarest_first, random, sequential"},
      {"protocol.seed_choke=fastest",
       "t.yaml: --set protocol.seed_choke=fastest: field 'protocol.seed_choke': unknown "
       "value 'fastest' (expected one of: fastest_upload, round_robin"},
      {"peers.1.protocol={choker: best}",
       "t.yaml: --set peers.1.protocol={choker: best}: field 'peers.1.protocol.choker': "
       "unknown value 'best' (expected one of: tit_for_tat, strict_tit_for_tat, "
       "round_robin, unchoke_all, propshare, bittyrant"}};
  for (const auto& [set, start] : cases) {
    const std::string error = ErrorOf(kGood, {set});
    EXPECT_EQ(error.substr(0, start.size()), start);
    EXPECT_TRUE(error.ends_with(")")) << error;
  }
}

// Those lists are the core's own name tables: a policy added to
// core/peer_config.cc is offered by the message at once, and every name
// offered is one the reader takes.
TEST(ScenarioYaml, ThePolicyNamesListedAreTheCoresNames) {
  struct Field {
    std::string name;
    std::span<const std::string_view> names;
    std::string_view (*resolved)(const core::PeerConfig&);  // the name read back
  };
  const Field fields[] = {
      {"piece_selection", core::PieceSelectionNames(),
       [](const core::PeerConfig& p) { return core::Name(p.piece_selection); }},
      {"choker", core::ChokerKindNames(),
       [](const core::PeerConfig& p) { return core::Name(p.choker); }},
      {"seed_choke", core::SeedChokeNames(),
       [](const core::PeerConfig& p) { return core::Name(p.seed_choke); }}};
  for (const Field& field : fields) {
    SCOPED_TRACE(field.name);
    std::string list;
    for (std::string_view name : field.names) {
      if (!list.empty()) list += ", ";
      list += name;
      const Scenario s = MustParse(kGood, {"protocol." + field.name + "=" + std::string(name)});
      EXPECT_EQ(field.resolved(s.protocol), name);
    }
    const std::string set = "protocol." + field.name + "=no_such_policy";
    EXPECT_EQ(ErrorOf(kGood, {set}),
              "t.yaml: --set " + set + ": field 'protocol." + field.name +
                  "': unknown value 'no_such_policy' (expected one of: " + list + ")");
  }
}

// peers.leecher.count is peers.1.count when class 1 is named leecher.
TEST(ScenarioYaml, AnOverrideNamesAClassByItsName) {
  Scenario s = MustParse(kGood, {"peers.leecher.count=5", "peers.seed.protocol.choker=round_robin",
                                 "peers.leecher.arrival.uniform.1=20s"});
  EXPECT_EQ(s.peers[1].count, 5u);
  EXPECT_EQ(s.peers[1].arrival.to, core::Duration::Seconds(20));
  ASSERT_TRUE(s.peers[0].protocol);
  EXPECT_EQ(s.peers[0].protocol->choker, core::ChokerKind::kRoundRobin);
  EXPECT_FALSE(s.peers[1].protocol);
  // The whole class, and a class renamed by an earlier override.
  s = MustParse(kGood, {"peers.1.class=fast", "peers.fast.count=3"});
  EXPECT_EQ(s.peers[1].name, "fast");
  EXPECT_EQ(s.peers[1].count, 3u);
  s = MustParse(kGood, {"peers.leecher={class: l, count: 2, upload: 1Mbit/s, download: 2Mbit/s}"});
  EXPECT_EQ(s.peers[1].name, "l");
  // Errors name the field by its index and the override as given.
  EXPECT_EQ(ErrorOf(kGood, {"peers.leecher.count=x"}),
            "t.yaml: --set peers.leecher.count=x: field 'peers.1.count': expected a whole "
            "number, got 'x'");
  EXPECT_EQ(ErrorOf(kGood, {"peers.leecher.count=0"}),
            "t.yaml: --set peers.leecher.count=0: field 'peers': every class starts complete: "
            "nobody downloads the file (a class of count 0 has no peers)");
  EXPECT_EQ(ErrorOf(kGood, {"peers.leecher.count.x=1"}),
            "t.yaml: --set peers.leecher.count.x=1: field 'peers.1.count.x': cannot set a field "
            "inside a single value");
  // By index and by name is one field set twice.
  EXPECT_EQ(ErrorOf(kGood, {"peers.1.count=5", "peers.leecher.count=7"}),
            "t.yaml: --set peers.1.count=5 --set peers.leecher.count=7: field 'peers.1.count': "
            "set twice; give it once");
  // A name no class has: the classes, and the near one.
  EXPECT_EQ(ErrorOf(kGood, {"peers.leechr.count=5"}),
            "t.yaml: --set peers.leechr.count=5: field 'peers.leechr': no class named 'leechr' "
            "(did you mean 'leecher'?): peers is a list of 2 classes: 0 = seed, 1 = leecher");
  EXPECT_EQ(ErrorOf(kGood, {"peers.riders.count=5"}),
            "t.yaml: --set peers.riders.count=5: field 'peers.riders': no class named 'riders': "
            "peers is a list of 2 classes: 0 = seed, 1 = leecher");
  // A one-letter name is not taken for another, and a control character
  // in a name (refused later) keeps the message on one line.
  EXPECT_EQ(ErrorOf(Replace(kGood, "class: leecher", "class: l"), {"peers.x.count=5"}),
            "t.yaml: --set peers.x.count=5: field 'peers.x': no class named 'x': peers is a "
            "list of 2 classes: 0 = seed, 1 = l");
  EXPECT_EQ(ErrorOf(Replace(kGood, "class: leecher", "class: \"le\\nech\""), {"peers.x.count=5"}),
            "t.yaml: --set peers.x.count=5: field 'peers.x': no class named 'x': peers is a "
            "list of 2 classes: 0 = seed, 1 = le\\x0aech");
  // Two classes of one name (refused anyway): by index only.
  EXPECT_EQ(ErrorOf(Replace(kGood, "class: leecher", "class: seed"), {"peers.seed.count=5"}),
            "t.yaml: --set peers.seed.count=5: field 'peers.seed': more than one class is named "
            "'seed' (0, 1): give the index (class names must be unique)");
}

// Unquoted in a shell, --set peers.0.leave={at: 3s} arrives as the words
// "peers.0.leave={at:" and "3s}".
TEST(ScenarioYaml, ABracketedValueCutShortSaysToQuoteIt) {
  EXPECT_EQ(ErrorOf(kGood, {"peers.0.leave={at:", "3s}"}),
            "t.yaml: --set peers.0.leave={at:: field 'peers.0.leave': bad value: unknown token "
            "(a value with { } or [ ] must be one shell word: quote the whole --set argument, "
            "e.g. --set 'peers.0.leave={at: 3s}')");
  EXPECT_EQ(ErrorOf(kGood, {"network.latency.uniform=[1ms,"}),
            "t.yaml: --set network.latency.uniform=[1ms,: field 'network.latency.uniform': bad "
            "value: end of sequence flow not found (a value with { } or [ ] must be one shell "
            "word: quote the whole --set argument, e.g. --set 'peers.0.leave={at: 3s}')");
  // Named like the override's field (peers.1 for peers.01 or peers.leecher).
  EXPECT_EQ(ErrorOf(kGood, {"peers.leecher.leave={at:"}).rfind(
                "t.yaml: --set peers.leecher.leave={at:: field 'peers.1.leave': bad value: ", 0),
            0u)
      << ErrorOf(kGood, {"peers.leecher.leave={at:"});
}

// A peer joining after its class's leave time used to join and leave at
// once; when that is every peer of the class, the file is wrong.
TEST(ScenarioYaml, ALeaveTimeBeforeEveryArrivalIsRefused) {
  EXPECT_EQ(ErrorOf(kGood, {"peers.0.arrival={at: 50s}", "peers.0.leave={at: 30s}"}),
            "t.yaml: --set peers.0.arrival={at: 50s} --set peers.0.leave={at: 30s}: field "
            "'peers.0.leave.at': not after the "
            "class's first arrival (50s): every peer would leave as it joins");
  EXPECT_EQ(ErrorOf(kGood, {"peers.1.leave={at: 0s}"}),
            "t.yaml: --set peers.1.leave={at: 0s}: field 'peers.1.leave.at': not after the "
            "class's first arrival (0s): every peer would leave as it joins");
  EXPECT_EQ(ErrorOf(kGood, {"peers.1.arrival={poisson: {rate: 1/s, start: 1min}}",
                            "peers.1.leave={at: 1min}"}),
            "t.yaml: --set peers.1.arrival={poisson: {rate: 1/s, start: 1min}} --set "
            "peers.1.leave={at: 1min}: field 'peers.1.leave.at': not after the "
            "class's first arrival (1min): every peer would leave as it joins");
  // Some peers of a window still arrive before the leave time.
  MustParse(kGood, {"peers.1.leave={at: 5s}"});
  MustParse(kGood, {"peers.0.arrival={at: 50s}", "peers.0.leave={at: 50.001s}"});
}

TEST(ScenarioYaml, BracketsInAnOverridePathSayHowToWriteIt) {
  EXPECT_EQ(ErrorOf(kGood, {"peers[1].count=5"}),
            "t.yaml: --set peers[1].count=5: field 'peers[1].count': list elements take a "
            "dot, not brackets: write peers.1.count");
}

// The file itself is wrong; an override of a neighbouring setting must not
// take the blame for it. (max_queued_requests is left at its default, so
// the request_pipeline written in the file is blamed.)
TEST(ScenarioYaml, AnErrorAlreadyInTheFileBlamesTheFile) {
  const std::string bad = Replace(kGood, "unchoke_slots: 4", "unchoke_slots: 4, request_pipeline: 300");
  EXPECT_EQ(ErrorOf(bad, {"protocol.choker=round_robin"}),
            "t.yaml:7: field 'protocol.request_pipeline': max_queued_requests must be at "
            "least request_pipeline");
}

TEST(ScenarioYaml, AKeyGivenTwiceIsAnError) {
  EXPECT_EQ(ErrorOf(Replace(kGood, "description: two peers", "name: other")),
            "t.yaml:2: field 'name': given twice (first on line 1)");
  EXPECT_EQ(ErrorOf(Replace(kGood, "count: 10,", "count: 10, count: 20,")),
            "t.yaml:12: field 'peers.1.count': given twice (first on line 12)");
}

TEST(ScenarioYaml, NumbersMustBeFinite) {
  EXPECT_EQ(ErrorOf(kGood, {"peers.1.failure={probability: nan, after: 1s}"}),
            "t.yaml: --set peers.1.failure={probability: nan, after: 1s}: field "
            "'peers.1.failure.probability': expected a finite number, got 'nan'");
  EXPECT_EQ(ErrorOf(kGood, {"protocol.propshare_reserve=inf"}),
            "t.yaml: --set protocol.propshare_reserve=inf: field "
            "'protocol.propshare_reserve': expected a finite number, got 'inf'");
  // A quantity's nan or inf is not a number missing its unit ("nanms").
  EXPECT_EQ(ErrorOf(kGood, {"stop.max_time=nan"}),
            "t.yaml: --set stop.max_time=nan: field 'stop.max_time': cannot read 'nan' "
            "(write e.g. 25ms, 10s, 30min, 4h)");
  EXPECT_EQ(ErrorOf(kGood, {"peers.1.upload=inf"}),
            "t.yaml: --set peers.1.upload=inf: field 'peers.1.upload': cannot read 'inf' "
            "(write e.g. 10Mbit/s, 1MiB/s)");
}

// Sizes and counts beyond what the types behind them hold are refused,
// not wrapped (a 5 GiB piece used to loop forever on a wrapped offset).
TEST(ScenarioYaml, SizesAndCountsStayWithinTheirTypes) {
  EXPECT_EQ(ErrorOf(kGood, {"file={size: 5GiB, piece_size: 5GiB, block_size: 16KiB}"}),
            "t.yaml: --set file={size: 5GiB, piece_size: 5GiB, block_size: 16KiB}: field "
            "'file.piece_size': at most 2GiB");
  EXPECT_EQ(ErrorOf(kGood, {"peers.1.count=4294967295"}),
            "t.yaml: --set peers.1.count=4294967295: field 'peers.1.count': too large (at "
            "most 1000000)");
  EXPECT_EQ(ErrorOf(kGood, {"peers.0.count=600000", "peers.1.count=600000"}),
            "t.yaml: --set peers.0.count=600000 --set peers.1.count=600000: field 'peers': too "
            "many peers (1200000; at most "
            "1000000 in all)");
  EXPECT_EQ(ErrorOf(kGood, {"protocol.max_request_length=4194320KiB"}),
            "t.yaml: --set protocol.max_request_length=4194320KiB: field "
            "'protocol.max_request_length': too large (at most 4GiB - 1B)");
}

TEST(ScenarioYaml, AtMostTenMillionPiecesCountingAShortLastOne) {
  MustParse(kGood, {"file={size: 10000000KiB, piece_size: 1KiB, block_size: 1KiB}"});
  EXPECT_EQ(ErrorOf(kGood, {"file={size: 10240000001B, piece_size: 1KiB, block_size: 1KiB}"}),
            "t.yaml: --set file={size: 10240000001B, piece_size: 1KiB, block_size: 1KiB}: "
            "field 'file.size': too many pieces: 10240000001B in pieces of 1KiB "
            "(file.piece_size) makes 10000001 (at most 10 million; use a smaller file or larger "
            "pieces)");
}

// Each peer's piece picker keeps two bytes per block of the file: at most
// 2^28 blocks (core/torrent_limits.h), the bound `swarm` keeps too.
TEST(ScenarioYaml, AtMostTwoTo28Blocks) {
  MustParse(kGood, {"file={size: 4096GiB, piece_size: 1GiB, block_size: 16KiB}"});
  EXPECT_EQ(ErrorOf(kGood, {"file={size: 4096GiB, piece_size: 1GiB, block_size: 8KiB}"}),
            "t.yaml: --set file={size: 4096GiB, piece_size: 1GiB, block_size: 8KiB}: "
            "field 'file.size': too many blocks: 4096GiB in blocks of 8KiB (file.block_size) "
            "makes 536870912 (at most 268435456; use a smaller file or larger blocks)");
}

TEST(ScenarioYaml, ClassNamesAreSafeInCsv) {
  EXPECT_EQ(ErrorOf(kGood, {"peers.1.class=\"fast, cable\""}),
            "t.yaml: --set peers.1.class=\"fast, cable\": field 'peers.1.class': use letters, "
            "digits, '_', '-' and '.' only (got 'fast, cable')");
  EXPECT_EQ(MustParse(kGood, {"peers.1.class=dsl-2.0_eu"}).peers[1].name, "dsl-2.0_eu");
}

TEST(ScenarioYaml, AFailureNeedsItsTime) {
  EXPECT_EQ(ErrorOf(kGood, {"peers.1.failure={probability: 1}"}),
            "t.yaml: --set peers.1.failure={probability: 1}: field 'peers.1.failure.after': "
            "missing: when after joining a failing peer vanishes (e.g. after: 10min)");
}

// {after: 10min} alone used to mean probability 0: nobody failed.
TEST(ScenarioYaml, AFailureNeedsItsProbability) {
  EXPECT_EQ(ErrorOf(kGood, {"peers.1.failure={after: 10min}"}),
            "t.yaml: --set peers.1.failure={after: 10min}: field "
            "'peers.1.failure.probability': missing: the chance that a peer fails (e.g. 0.2)");
  MustParse(kGood, {"peers.1.failure={probability: 0}"});
}

TEST(ScenarioYaml, RegionsWithoutAPathAreRefused) {
  const std::string topo =
      "network.latency={topology: {regions: [eu, na, asia], access: 5ms, links: "
      "[{from: eu, to: asia, delay: 80ms}]}}";
  EXPECT_EQ(ErrorOf(kGood, {topo, "peers.0.region=eu", "peers.1.region=na"}),
            "t.yaml: --set " + topo +
                " --set peers.1.region=na: field 'peers.1.region': "
                "region 'na' has no path "
            "of links to region 'eu' (of class 'seed')");
  MustParse(kGood, {topo, "peers.0.region=eu", "peers.1.region=asia"});
}

// Each delay is at most 1e12 s; a path through several such links used to
// overflow the simulator's clock (a failed CHECK in the middle of the run).
TEST(ScenarioYaml, TopologyPathsStayWithinTheLongestDelay) {
  const std::string topo =
      "network.latency={topology: {regions: [eu, na, asia], access: 0s, links: "
      "[{from: eu, to: na, delay: 500000000000s}, {from: na, to: asia, delay: X}]}}";
  std::string fits = topo;
  fits.replace(fits.find('X'), 1, "500000000000s");
  MustParse(kGood, {fits, "peers.0.region=eu", "peers.1.region=asia"});
  std::string over = topo;
  over.replace(over.find('X'), 1, "500000000001s");
  EXPECT_EQ(ErrorOf(kGood, {over, "peers.0.region=eu", "peers.1.region=asia"}),
            "t.yaml: --set " + over +
                ": field 'network.latency.topology.links': the link delays and both access "
                "delays add up to over 1e12 s, the longest delay a path may have");
}

// A connection carries both directions with one delay, so a matrix giving
// a pair two different delays would make it depend on who dialed; and a
// misspelt class would be ignored.
TEST(ScenarioYaml, LatencyMatrixNamesClassesAndGivesOneDelayPerPair) {
  const std::string half = Replace(
      kGood, "{constant: 25ms}",
      "{matrix: {seed: {seed: 5ms, leecher: 30ms}, leecher: {leecher: 7ms}}}");
  MustParse(half);
  MustParse(half, {"network.latency.matrix.leecher.seed=30ms"});
  EXPECT_EQ(ErrorOf(half, {"network.latency.matrix.leecher.seed=80ms"}),
            "t.yaml: --set network.latency.matrix.leecher.seed=80ms: field "
            "'network.latency.matrix.seed.leecher': 30ms differs from matrix.leecher.seed "
            "(80ms): the delay between two classes is the same both ways (give one of the two)");
  EXPECT_EQ(ErrorOf(half, {"network.latency.matrix.leechr={leechr: 1ms}"}),
            "t.yaml: --set network.latency.matrix.leechr={leechr: 1ms}: field "
            "'network.latency.matrix.leechr': no peer class 'leechr'");
  EXPECT_EQ(ErrorOf(Replace(half, "leecher: 30ms}", "leecher: 30ms, leechr: 1ms}")),
            "t.yaml:6: field 'network.latency.matrix.seed.leechr': no peer class 'leechr'");
}

// The file alone is valid, and the overrides make a field none of them
// names wrong: they, not a line of the file, take the blame.
TEST(ScenarioYaml, AnErrorOnlyTheOverridesCauseBlamesThem) {
  const std::string topo = "network.latency={topology: {regions: [eu]}}";
  EXPECT_EQ(ErrorOf(kGood, {topo}),
            "t.yaml: --set " + topo +
                ": field 'peers.0.region': missing: topology latency needs a region for every "
                "class (network.latency.topology.regions: eu)");
  // An override that has nothing to do with it is not named.
  EXPECT_EQ(ErrorOf(kGood, {"protocol.choker=round_robin", topo}),
            "t.yaml: --set " + topo +
                ": field 'peers.0.region': missing: topology latency needs a region for every "
                "class (network.latency.topology.regions: eu)");
}

// Two overrides that are each fine make the error together: both are
// named, also when one of them names the field (the audit's two cases).
TEST(ScenarioYaml, AnErrorTwoOverridesCauseTogetherNamesBoth) {
  EXPECT_EQ(ErrorOf(kGood, {"peers.0.count=999000", "peers.1.count=1001"}),
            "t.yaml: --set peers.0.count=999000 --set peers.1.count=1001: field 'peers': too "
            "many peers (1000001; at most 1000000 in all)");
  EXPECT_EQ(ErrorOf(kGood, {"stop.max_time=1000h", "sample_interval=100ms"}),
            "t.yaml: --set stop.max_time=1000h --set sample_interval=100ms: field "
            "'sample_interval': too small for stop.max_time: a run that lasts max_time writes "
            "36000000 rows of timeline.csv (at most 10000000)");
  // Each alone is enough: both named too.
  EXPECT_EQ(ErrorOf(kGood, {"peers.0.count=1000000", "peers.1.count=1000000"}),
            "t.yaml: --set peers.0.count=1000000 --set peers.1.count=1000000: field 'peers': "
            "too many peers (2000000; at most 1000000 in all)");
  // The one that does not matter is left out.
  EXPECT_EQ(ErrorOf(kGood, {"stop.max_time=1000h", "protocol.choker=round_robin",
                            "sample_interval=100ms"}),
            "t.yaml: --set stop.max_time=1000h --set sample_interval=100ms: field "
            "'sample_interval': too small for stop.max_time: a run that lasts max_time writes "
            "36000000 rows of timeline.csv (at most 10000000)");
}

// The same field set twice on the command line is refused, as a key given
// twice in the file is: the later one would win without a word.
TEST(ScenarioYaml, AnOverrideGivenTwiceIsAnError) {
  EXPECT_EQ(ErrorOf(kGood, {"peers.1.count=5", "protocol.choker=round_robin", "peers.1.count=7"}),
            "t.yaml: --set peers.1.count=5 --set peers.1.count=7: field 'peers.1.count': set "
            "twice; give it once");
  EXPECT_EQ(ErrorOf(kGood, {"seed=1", "seed=1"}),
            "t.yaml: --set seed=1 --set seed=1: field 'seed': set twice; give it once");
  // A list index is the same element however it is spelled.
  EXPECT_EQ(ErrorOf(kGood, {"peers.1.count=5", "peers.01.count=7"}),
            "t.yaml: --set peers.1.count=5 --set peers.01.count=7: field 'peers.1.count': set "
            "twice; give it once");
  // A section set after a field inside it would drop that field's setting.
  EXPECT_EQ(ErrorOf(kGood, {"protocol.unchoke_slots=3", "protocol={choker: round_robin}"}),
            "t.yaml: --set protocol.unchoke_slots=3 --set protocol={choker: round_robin}: field "
            "'protocol.unchoke_slots': set twice; give it once");
  EXPECT_EQ(ErrorOf(kGood, {"peers.0.count=2", "peers.00={class: s, count: 1}"}),
            "t.yaml: --set peers.0.count=2 --set peers.00={class: s, count: 1}: field "
            "'peers.0.count': set twice; give it once");
  // A section, then a field inside it, are two settings applied in order.
  EXPECT_EQ(MustParse(kGood, {"protocol={choker: round_robin}", "protocol.unchoke_slots=3"})
                .protocol.unchoke_slots,
            3u);
  // Neighbours are not the same field.
  const Scenario s = MustParse(kGood, {"peers.1.count=5", "peers.1.upload=2Mbit/s", "peers.0.count=2"});
  EXPECT_EQ(s.peers[1].count, 5u);
  EXPECT_EQ(s.peers[0].count, 2u);
}

// A value beyond what its field can hold is too large, not unreadable.
TEST(ScenarioYaml, AQuantityTooLargeSaysSo) {
  EXPECT_EQ(ErrorOf(kGood, {"file.size=99999999999999999999999GiB"}),
            "t.yaml: --set file.size=99999999999999999999999GiB: field 'file.size': "
            "'99999999999999999999999GiB' is too large (at most 9000000000000000000B, some "
            "7.8 EiB)");
  EXPECT_EQ(ErrorOf(kGood, {"stop.max_time=100000000000d"}),
            "t.yaml: --set stop.max_time=100000000000d: field 'stop.max_time': "
            "'100000000000d' is too large (at most 1000000000000s, some 31,700 years)");
  const std::string huge = std::string(400, '9') + "Mbit/s";
  EXPECT_EQ(ErrorOf(kGood, {"peers.1.upload=" + huge}),
            "t.yaml: --set peers.1.upload=" + huge + ": field 'peers.1.upload': '" + huge +
                "' is too large (at most 1000Gbit/s)");
  // Just within the limits.
  MustParse(kGood, {"stop.max_time=1000000000000s", "sample_interval=1000000s"});
  // Misspellings and fractions of a byte are still unreadable.
  EXPECT_EQ(ErrorOf(kGood, {"file.size=99999999999999999999999gib"}),
            "t.yaml: --set file.size=99999999999999999999999gib: field 'file.size': cannot "
            "read '99999999999999999999999gib' (write e.g. 256KiB, 100MiB)");
  // A size with a decimal point beyond 2^53 bytes names that rule, not
  // "cannot read" (10000000.5GiB, ~1.07e16 B, is within 9e18 bytes, but
  // not exact as a double). No unit beyond GiB exists: 10.5PiB stays unread.
  EXPECT_EQ(ErrorOf(kGood, {"file.size=10000000.5GiB"}),
            "t.yaml: --set file.size=10000000.5GiB: field 'file.size': '10000000.5GiB' is too "
            "large for a number with a decimal point (below 2^53 bytes, 8 PiB; write a larger "
            "size as a whole number, e.g. in a smaller unit)");
  EXPECT_NE(ErrorOf(kGood, {"file.size=9007199254740992.0B"}).find("decimal point (below 2^53"),
            std::string::npos);
  EXPECT_NE(ErrorOf(kGood, {"file.size=10.5PiB"}).find("cannot read '10.5PiB'"),
            std::string::npos);
  EXPECT_EQ(ErrorOf(kGood, {"file.size=0.5B"}),
            "t.yaml: --set file.size=0.5B: field 'file.size': cannot read '0.5B' (write e.g. "
            "256KiB, 100MiB)");
}

// A file too large for 10 million pieces is the file's size's fault; a
// piece size cannot make up for it beyond 2GiB.
TEST(ScenarioYaml, TooManyPiecesNamesTheFileSize) {
  EXPECT_EQ(ErrorOf(kGood, {"file.size=100000000GiB"}),
            "t.yaml: --set file.size=100000000GiB: field 'file.size': too many pieces: "
            "100000000GiB in pieces of 256KiB (file.piece_size) makes 409600000000 (at most 10 "
            "million; use a smaller file or larger pieces)");
}

// An unknown region is named, with the regions there are.
TEST(ScenarioYaml, AnUnknownRegionIsNamedWithTheKnownOnes) {
  const std::string topo =
      "network.latency={topology: {regions: [eu, na], links: [{from: eu, to: na, delay: "
      "40ms}]}}";
  EXPECT_EQ(ErrorOf(kGood, {topo, "peers.0.region=eu", "peers.1.region=as"}),
            "t.yaml: --set " + topo +
                " --set peers.1.region=as: field 'peers.1.region': unknown region 'as' "
                "(network.latency.topology.regions: eu, na)");
  // Given in the file, the topology is not an override's doing.
  const std::string in_file = Replace(
      kGood, "{constant: 25ms}",
      "{topology: {regions: [eu, na], links: [{from: eu, to: na, delay: 40ms}]}}");
  EXPECT_EQ(ErrorOf(Replace(Replace(in_file, "start: complete,", "start: complete, region: eu,"),
                            "count: 10,", "count: 10, region: as,")),
            "t.yaml:12: field 'peers.1.region': unknown region 'as' "
            "(network.latency.topology.regions: eu, na)");
}

// The resolved scenario a run writes must reproduce it: rates and
// frequencies read back as the very same numbers.
TEST(ScenarioYaml, EmittedRatesReadBackExactly) {
  Scenario s = MustParse(kGood, {"peers.1.upload=1.23456789012Mbit/s",
                                 "peers.1.arrival={poisson: {rate: 7/min}}"});
  Scenario again = MustParse(EmitScenario(s));
  EXPECT_EQ(again.peers[1].upload.bytes_per_second(), s.peers[1].upload.bytes_per_second());
  EXPECT_EQ(again.peers[1].arrival.rate_per_s, s.peers[1].arrival.rate_per_s);
  EXPECT_EQ(EmitScenario(again), EmitScenario(s));
}

// Every text of a scenario is UTF-8: it goes into summary.json,
// scenario.yaml, the CSV files and the plots, all read as UTF-8.
TEST(ScenarioYaml, TextMustBeUtf8) {
  EXPECT_EQ(ErrorOf(Replace(kGood, "two peers", "caf\xe9")),
            "t.yaml:2: field 'description': not valid UTF-8 at byte 4 (0xe9)");
  EXPECT_EQ(ErrorOf(Replace(kGood, "name: tiny", "name: \xff\xfe")),
            "t.yaml:1: field 'name': not valid UTF-8 at byte 1 (0xff)");
  EXPECT_EQ(ErrorOf(kGood, {"file.name=a\xc0\xaf" "b"}),  // an overlong '/'
            "t.yaml: --set file.name=a\\xc0\\xafb: not valid UTF-8 at byte 12 (0xc0)");
  EXPECT_EQ(ErrorOf(Replace(kGood, "{constant: 25ms}",
                            "{topology: {regions: [eu, \"n\xed\xa0\x80\"], links: []}}")),
            "t.yaml:6: field 'network.latency.topology.regions.1': not valid UTF-8 at byte 2 "
            "(0xed)");
  EXPECT_EQ(ErrorOf(Replace(kGood, "description: two peers", "descr\xe2\x82: two peers")),
            "t.yaml:2: field 'descr\\xe2\\x82': name not valid UTF-8 at byte 6 (0xe2)");
  EXPECT_EQ(ErrorOf(Replace(kGood, "class: leecher", "class: \"l\xf4\x90\x80\x80\"")),
            "t.yaml:12: field 'peers.1.class': not valid UTF-8 at byte 2 (0xf4)");
  // Well-formed text of any script is fine; so are control characters,
  // written escaped.
  Scenario s = MustParse(Replace(kGood, "two peers", "\"caf\xc3\xa9 \xf0\x9f\x90\x9d\\x01\\t\""));
  EXPECT_EQ(s.description, "caf\xc3\xa9 \xf0\x9f\x90\x9d\x01\t");
  EXPECT_EQ(MustParse(EmitScenario(s)).description, s.description);
}

TEST(ScenarioYaml, SummaryJsonEscapesControlCharacters) {
  Scenario s = MustParse(kGood);
  s.overrides = {std::string("description=a\x01\x1f\"\\\n\x7f\xc3\xa9")};
  RunResult none;
  const std::string json = SummaryJson(s, none, Summarize(s, none));
  EXPECT_NE(json.find("\"overrides\": [\"description=a\\u0001\\u001f\\\"\\\\\\n\x7f\xc3\xa9\"]"),
            std::string::npos)
      << json;
}

// The name makes the default result folders results/NAME-seedN and
// results/NAME-sweep: it may not lead out of results/ or into a subfolder,
// nor hold a control character; spaces and non-ASCII letters are fine (older
// scenarios and result folders use them).
TEST(ScenarioYaml, TheNameIsOneSafeFolderName) {
  EXPECT_EQ(ErrorOf(Replace(kGood, "name: tiny", "name: ../../evil")),
            "t.yaml:1: field 'name': must not contain '/' (got '../../evil')");
  EXPECT_EQ(ErrorOf(kGood, {"name=a/b"}),
            "t.yaml: --set name=a/b: field 'name': must not contain '/' (got 'a/b')");
  EXPECT_EQ(ErrorOf(kGood, {"name=.x"}),
            "t.yaml: --set name=.x: field 'name': must not start with '.' (got '.x')");
  EXPECT_EQ(ErrorOf(kGood, {"name=.."}),
            "t.yaml: --set name=..: field 'name': must not start with '.' (got '..')");
  EXPECT_EQ(ErrorOf(kGood, {"name=\"\""}),
            "t.yaml: --set name=\"\": field 'name': must not be empty");
  EXPECT_EQ(ErrorOf(Replace(kGood, "name: tiny", "name: \"a\\tb\"")),
            "t.yaml:1: field 'name': must not contain control characters (byte 0x09 at 2)");
  EXPECT_EQ(ErrorOf(Replace(kGood, "name: tiny", "name: \"a\\0b\"")),
            "t.yaml:1: field 'name': must not contain control characters (byte 0x00 at 2)");
  EXPECT_EQ(ErrorOf(kGood, {"name=" + std::string(201, 'n')}),
            "t.yaml: --set name=" + std::string(201, 'n') +
                ": field 'name': too long (201 characters; at most 200)");
  EXPECT_EQ(MustParse(kGood, {"name=" + std::string(200, 'n')}).name, std::string(200, 'n'));
  EXPECT_EQ(MustParse(kGood, {"name=v1.2_flash-crowd"}).name, "v1.2_flash-crowd");
  EXPECT_EQ(MustParse(Replace(kGood, "name: tiny", "name: \"base run\"")).name, "base run");
  EXPECT_EQ(MustParse(Replace(kGood, "name: tiny", "name: caf\xc3\xa9")).name, "caf\xc3\xa9");
}

// A whole number too large for its field says so, with the largest, and
// so does a rate beyond 1000Gbit/s and a size beyond 9000000000000000000B.
TEST(ScenarioYaml, ValuesBeyondTheirFieldSayTooLarge) {
  EXPECT_EQ(ErrorOf(kGood, {"peers.1.count=99999999999999999999"}),
            "t.yaml: --set peers.1.count=99999999999999999999: field 'peers.1.count': too large "
            "(at most 1000000)");
  EXPECT_EQ(ErrorOf(kGood, {"seed=99999999999999999999"}),
            "t.yaml: --set seed=99999999999999999999: field 'seed': too large (at most "
            "18446744073709551615)");
  EXPECT_EQ(ErrorOf(kGood, {"protocol.unchoke_slots=99999999999999999999"}),
            "t.yaml: --set protocol.unchoke_slots=99999999999999999999: field "
            "'protocol.unchoke_slots': too large (at most 4294967295)");
  EXPECT_EQ(ErrorOf(kGood, {"peers.1.upload=99999999999999999999Gbit/s"}),
            "t.yaml: --set peers.1.upload=99999999999999999999Gbit/s: field 'peers.1.upload': "
            "'99999999999999999999Gbit/s' is too large (at most 1000Gbit/s)");
  EXPECT_EQ(ErrorOf(kGood, {"peers.1.download=1000.5Gbit/s"}),
            "t.yaml: --set peers.1.download=1000.5Gbit/s: field 'peers.1.download': "
            "'1000.5Gbit/s' is too large (at most 1000Gbit/s)");
  EXPECT_EQ(MustParse(kGood, {"peers.1.download=1000Gbit/s"}).peers[1].download.bits_per_second(),
            1e12);
  EXPECT_EQ(ErrorOf(kGood, {"file.size=9000000000000000001B"}),
            "t.yaml: --set file.size=9000000000000000001B: field 'file.size': "
            "'9000000000000000001B' is too large (at most 9000000000000000000B, some 7.8 EiB)");
}

// -0 is 0, and is written back as 0.
TEST(ScenarioYaml, MinusZeroIsZero) {
  Scenario s = MustParse(kGood, {"protocol.propshare_reserve=-0",
                                 "peers.1.failure={probability: -0.0}"});
  EXPECT_FALSE(std::signbit(s.protocol.propshare_reserve));
  EXPECT_FALSE(std::signbit(s.peers[1].failure.probability));
  EXPECT_EQ(EmitScenario(s).find("-0"), std::string::npos) << EmitScenario(s);
}

// The grammar docs/scenarios.md gives: YAML 1.1's yes/no/on/off, a space
// before a unit; a decimal point needs a digit on each side.
TEST(ScenarioYaml, DocumentedSpellings) {
  Scenario s = MustParse(kGood, {"protocol.endgame=no", "protocol.super_seeding=on",
                                 "stop.all_complete=yes", "peers.1.connectable=off",
                                 "file.size=2 MiB", "stop.max_time=0.5h"});
  EXPECT_FALSE(s.protocol.endgame);
  EXPECT_TRUE(s.protocol.super_seeding);
  EXPECT_TRUE(s.stop.all_complete);
  EXPECT_FALSE(s.peers[1].connectable);
  EXPECT_EQ(s.file.size, 2 * core::kMiB);
  EXPECT_EQ(s.stop.max_time, core::Duration::Seconds(1800));
  EXPECT_EQ(ErrorOf(kGood, {"stop.max_time=.5h"}),
            "t.yaml: --set stop.max_time=.5h: field 'stop.max_time': cannot read '.5h' (write "
            "e.g. 25ms, 10s, 30min, 4h)");
  EXPECT_EQ(ErrorOf(kGood, {"stop.max_time=1.h"}),
            "t.yaml: --set stop.max_time=1.h: field 'stop.max_time': cannot read '1.h' (write "
            "e.g. 25ms, 10s, 30min, 4h)");
}

// A Validate() error on a field the file leaves at its default is put on
// the setting that conflicts with that default, at its line, as a problem
// of that setting (it used to name the absent field, with no line).
TEST(ScenarioYaml, ADefaultInConflictBlamesTheSettingWritten) {
  const std::string no_tracker =
      Replace(kGood, "tracker: {numwant: 50, announce_interval: 30min}\n", "");
  EXPECT_EQ(ErrorOf(Replace(no_tracker, "unchoke_slots: 4", "min_reannounce_interval: 2h")),
            "t.yaml:7: field 'protocol.min_reannounce_interval': 2h is longer than "
            "tracker.announce_interval (30min, its default): a peer must accept the interval "
            "its tracker gives; set tracker.announce_interval to at least 2h or lower this");
  EXPECT_EQ(ErrorOf(Replace(no_tracker, "count: 10,",
                            "count: 10, protocol: {min_reannounce_interval: 2h},")),
            "t.yaml:11: field 'peers.1.protocol.min_reannounce_interval': 2h (class 'leecher') "
            "is longer than tracker.announce_interval (30min, its default): a peer must accept "
            "the interval its tracker gives; set tracker.announce_interval to at least 2h or "
            "lower this");
  const std::string no_file =
      Replace(kGood, "file: {size: 1MiB, piece_size: 256KiB, block_size: 16KiB}\n", "");
  EXPECT_EQ(ErrorOf(Replace(no_file, "unchoke_slots: 4", "max_request_length: 8KiB")),
            "t.yaml:6: field 'protocol.max_request_length': 8KiB is below file.block_size "
            "(16KiB, its default): a peer would refuse every request for a block");
  EXPECT_EQ(ErrorOf(Replace(Replace(kGood, "sample_interval: 2s\n", ""), "max_time: 1h",
                            "max_time: 100000000s")),
            "t.yaml:4: field 'stop.max_time': too long for sample_interval (1s, its default): "
            "a run that lasts max_time writes 100000000 rows of timeline.csv (at most "
            "10000000); give a larger sample_interval");
  // A setting checked against another, left at its default.
  EXPECT_EQ(ErrorOf(Replace(kGood, "unchoke_slots: 4", "request_pipeline: 300")),
            "t.yaml:7: field 'protocol.request_pipeline': max_queued_requests must be at least "
            "request_pipeline");
  // Given in the file, the field named is the one blamed, as before.
  EXPECT_EQ(ErrorOf(Replace(kGood, "unchoke_slots: 4", "max_request_length: 8KiB")),
            "t.yaml:5: field 'file.block_size': block_size must be between 1 KiB and "
            "max_request_length");
}

// numwant above max_numwant is refused: the tracker would cap it, and a
// run with numwant 500 was byte for byte the one with 200. Blamed on
// numwant when the file gives it, on max_numwant when numwant is left at
// its default.
TEST(ScenarioYaml, NumwantAboveMaxNumwantIsRefused) {
  EXPECT_EQ(ErrorOf(kGood, {"tracker.numwant=500"}),
            "t.yaml: --set tracker.numwant=500: field 'tracker.numwant': 500 is above "
            "tracker.max_numwant (200): the tracker answers at most max_numwant peers, so the "
            "run would be the one with numwant 200; raise tracker.max_numwant or lower this");
  EXPECT_EQ(ErrorOf(Replace(kGood, "numwant: 50,", "numwant: 201,")),
            "t.yaml:8: field 'tracker.numwant': 201 is above tracker.max_numwant (200): the "
            "tracker answers at most max_numwant peers, so the run would be the one with "
            "numwant 200; raise tracker.max_numwant or lower this");
  EXPECT_EQ(ErrorOf(Replace(kGood, "numwant: 50,", "max_numwant: 10,")),
            "t.yaml:8: field 'tracker.max_numwant': 10 is below tracker.numwant (50, its "
            "default): the tracker would answer fewer peers than every announce asks for; "
            "raise this or lower tracker.numwant");
  EXPECT_EQ(ErrorOf(kGood, {"tracker.numwant=500", "tracker.max_numwant=500"}), "(no error)");
  EXPECT_EQ(ErrorOf(kGood, {"tracker.numwant=200"}), "(no error)");
}

// A class that lowers max_request_length below the file's block size is
// to blame, not the block size the other classes take.
TEST(ScenarioYaml, AClassMaxRequestLengthBelowTheBlockSizeIsTheClasss) {
  EXPECT_EQ(ErrorOf(Replace(kGood, "count: 10,", "count: 10, protocol: {max_request_length: 8KiB},")),
            "t.yaml:12: field 'peers.1.protocol.max_request_length': 8KiB (class 'leecher') is "
            "below file.block_size (16KiB): a peer would refuse every request for a block");
}

// A latency matrix is read by hand (its keys are class names), yet a
// repeated key is refused as anywhere else, and a row's errors have its line.
TEST(ScenarioYaml, LatencyMatrixKeysAreGivenOnceAndHaveLines) {
  EXPECT_EQ(ErrorOf(Replace(kGood, "{constant: 25ms}",
                            "{matrix: {seed: {seed: 10ms, leecher: 20ms, leecher: 30ms}, "
                            "leecher: {leecher: 5ms}}}")),
            "t.yaml:6: field 'network.latency.matrix.seed.leecher': given twice (first on line "
            "6)");
  const std::string rows = Replace(kGood, "network: {latency: {constant: 25ms}}",
                                   "network:\n  latency:\n    matrix:\n"
                                   "      seed: {seed: 10ms, leecher: 20ms}\n"
                                   "      leecher: {leecher: 5ms}\n"
                                   "      seed: {seed: 1ms}");
  EXPECT_EQ(ErrorOf(rows), "t.yaml:11: field 'network.latency.matrix.seed': given twice (first "
                           "on line 9)");
  EXPECT_EQ(ErrorOf(Replace(rows, "      seed: {seed: 1ms}", "      sed: {seed: 1ms}")),
            "t.yaml:11: field 'network.latency.matrix.sed': no peer class 'sed'");
}

// Input the reader used to take without a word, or refuse with a message
// that did not say why.
TEST(ScenarioYaml, TagsListKeysDeepNestingAndStrayRegionsAreRefused) {
  EXPECT_EQ(ErrorOf(Replace(kGood, "max_time: 1h", "max_time: !foo 1h")),
            "t.yaml:4: field 'stop.max_time': YAML tags (!foo) are not supported: write the "
            "value alone");
  EXPECT_EQ(ErrorOf(Replace(kGood, "max_time: 1h", "!!str max_time: 1h")),
            "t.yaml:4: field 'stop.max_time': YAML tags (tag:yaml.org,2002:str) are not "
            "supported: write the name alone");
  EXPECT_EQ(ErrorOf(std::string(kGood) + "? [a, b]\n: 3\n"),
            "t.yaml:15: field '(top level)': a key must be a single name, not a list or a "
            "mapping");
  EXPECT_EQ(ErrorOf(std::string(kGood) + "deep: " + std::string(3000, '[') + "\n"),
            "t.yaml:16: bad YAML: lists or mappings nested too deeply inside one another "
            "(beyond the YAML reader's limit)");
  // Only a topology latency uses regions.
  EXPECT_EQ(ErrorOf(Replace(kGood, "count: 10,", "count: 10, region: eu,")),
            "t.yaml:12: field 'peers.1.region': only a topology latency "
            "(network.latency.topology) places classes in regions; with this network.latency "
            "the region would be ignored");
  EXPECT_EQ(ErrorOf(kGood, {"peers.1.region=eu"}),
            "t.yaml: --set peers.1.region=eu: field 'peers.1.region': only a topology latency "
            "(network.latency.topology) places classes in regions; with this network.latency "
            "the region would be ignored");
  // A latency set from the command line may leave the file's regions
  // unused (docs/scenarios.md, `region`).
  const std::string topo = Replace(
      Replace(kGood, "{constant: 25ms}",
              "{topology: {regions: [eu], links: []}}"),
      "count: 10,", "count: 10, region: eu,");
  MustParse(Replace(topo, "start: complete,", "start: complete, region: eu,"),
            {"network.latency={constant: 5ms}"});
}

}  // namespace
}  // namespace swarm::sim
