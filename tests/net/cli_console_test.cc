// The `swarm` console plumbing: flag checks that name the flag, and log
// lines that cannot steer the terminal.
#include "net-real/cli/console.h"

#include <gtest/gtest.h>
#include <signal.h>

#include "proto/tracker.pb.h"

namespace swarm::net::cli {
namespace {

std::string ProblemWith(void (*change)(CommonOptions*)) {
  CommonOptions c;
  c.seed = 1;
  change(&c);
  DriverOptions o;
  return MakeDriverOptions(c, &o).value_or("");
}

TEST(MakeDriverOptionsTest, DefaultsAreAccepted) {
  EXPECT_EQ(ProblemWith([](CommonOptions*) {}), "");
}

// These used to come back as "peer configuration: request_pipeline must be
// at least 1" and the like: the core's field, not the flag the user typed.
TEST(MakeDriverOptionsTest, OutOfRangeCountsNameTheirFlag) {
  EXPECT_EQ(ProblemWith([](CommonOptions* c) { c->pipeline = 0; }),
            "--pipeline: expected 1..256, got 0");
  EXPECT_EQ(ProblemWith([](CommonOptions* c) { c->pipeline = 257; }),
            "--pipeline: expected 1..256, got 257");
  EXPECT_EQ(ProblemWith([](CommonOptions* c) { c->max_connections = 0; }),
            "--max-connections: expected 1..10000, got 0");
  EXPECT_EQ(ProblemWith([](CommonOptions* c) { c->max_connections = 10001; }),
            "--max-connections: expected 1..10000, got 10001");
  EXPECT_EQ(ProblemWith([](CommonOptions* c) { c->uploads_in_flight = 0; }),
            "--uploads-in-flight: expected 1..256, got 0");
  EXPECT_EQ(ProblemWith([](CommonOptions* c) { c->uploads_in_flight = 257; }),
            "--uploads-in-flight: expected 1..256, got 257");
}

// --request-queue-time turns the core's adaptive pipeline on; off unless
// given, and only a duration with its unit up to 30 s.
TEST(MakeDriverOptionsTest, RequestQueueTimeIsOffByDefaultAndChecked) {
  auto with = [](const std::string& value) {
    CommonOptions c;
    c.seed = 1;
    c.request_queue_time = value;
    DriverOptions o;
    const std::string problem = MakeDriverOptions(c, &o).value_or("");
    return std::make_pair(problem, o.peer.request_queue_time);
  };
  EXPECT_EQ(with("0s"), std::make_pair(std::string(), core::Duration::Zero()));
  EXPECT_EQ(with("3s"), std::make_pair(std::string(), core::Duration::Seconds(3)));
  EXPECT_EQ(with("1500ms"), std::make_pair(std::string(), core::Duration::Millis(1500)));
  EXPECT_EQ(with("30s").first, "");
  for (const std::string bad : {"3", "", "-1s", "31s", "1h", "soon"}) {
    EXPECT_EQ(with(bad).first, "--request-queue-time: expected a duration with its unit, 0s "
                               "(off) to 30s (e.g. 3s), got '" + bad + "'");
  }
}

// A rate that is too large used to be "cannot parse", like one without a
// unit; the message now gives the range and the form.
TEST(MakeDriverOptionsTest, ARateOutOfRangeSaysTheRange) {
  EXPECT_EQ(ProblemWith([](CommonOptions* c) { c->upload_limit = "9999999TiB/s"; }),
            "--upload-limit: expected a rate with its unit, 0 to 1000Gbit/s (e.g. 2MiB/s "
            "or 10Mbit/s), got '9999999TiB/s'");
}

// A block waits in our own upload queue before it goes (the core counts
// that too): under a low --upload-limit the stall timeout grows to twice
// what the queue of 4 slots x 4 uploads of 128 KiB (2 MiB) takes to drain.
TEST(MakeDriverOptionsTest, UploadStallTimeoutAllowsForOurOwnUploadLimit) {
  auto timeout_with = [](const std::string& limit) {
    CommonOptions c;
    c.seed = 1;
    c.upload_limit = limit;
    DriverOptions o;
    EXPECT_EQ(MakeDriverOptions(c, &o), std::nullopt);
    return o.peer.upload_stall_timeout;
  };
  EXPECT_EQ(timeout_with("0"), core::Duration::Seconds(60));
  EXPECT_EQ(timeout_with("1MiB/s"), core::Duration::Seconds(60));
  EXPECT_EQ(timeout_with("70KiB/s"), core::Duration::Seconds(60));  // 58.5 s
  EXPECT_EQ(timeout_with("64KiB/s"), core::Duration::Seconds(64));
  EXPECT_EQ(timeout_with("32KiB/s"), core::Duration::Seconds(128));
  EXPECT_EQ(timeout_with("1B/s"), core::Duration::Seconds(86400));
  // Our own blocks of 16 KiB: neighbours may still ask for 128 KiB ones
  // (max_request_length), and those are what wait in the queue.
  CommonOptions c;
  c.seed = 1;
  c.upload_limit = "32KiB/s";
  c.block_size = "16KiB";
  DriverOptions o;
  ASSERT_EQ(MakeDriverOptions(c, &o), std::nullopt);
  EXPECT_EQ(o.peer.upload_stall_timeout, core::Duration::Seconds(128));
}

// Rounded up: the line said 0:00:00 with 0.6 s of the download left.
TEST(EtaTest, RoundsUpAndShowsHours) {
  EXPECT_EQ(Eta(0.6), "0:00:01");
  EXPECT_EQ(Eta(0), "0:00:00");
  EXPECT_EQ(Eta(3599.2), "1:00:00");
  EXPECT_EQ(Eta(-1), "--:--");         // no rate yet
  EXPECT_EQ(Eta(100 * 3600), "--:--");  // too long to mean anything
}

// A tracker used to print protobuf's own line for every request whose name
// was not UTF-8 (a line per request: any client could fill its log).
TEST(LogTest, ProtobufsParseComplaintsAreDebugLines) {
  if (!RouteProtobufLogs()) GTEST_SKIP() << "this protobuf has no SetLogHandler";
  swarm::wire::TorrentMeta meta;
  meta.set_name("ok");
  std::string bytes = meta.SerializeAsString();
  bytes.back() = '\xff';  // the name's last byte: no longer UTF-8
  ASSERT_TRUE(ParseLevel("info"));
  ::testing::internal::CaptureStderr();
  EXPECT_FALSE(swarm::wire::TorrentMeta().ParseFromString(bytes));
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  ASSERT_TRUE(ParseLevel("debug"));
  ::testing::internal::CaptureStderr();
  EXPECT_FALSE(swarm::wire::TorrentMeta().ParseFromString(bytes));
  const std::string shown = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(shown.rfind("swarm: debug: protobuf (", 0), 0u) << shown;
  EXPECT_NE(shown.find("invalid UTF-8"), std::string::npos) << shown;
  ASSERT_TRUE(ParseLevel("info"));
}

TEST(LogTest, ControlCharactersInAMessageAreNotPassedToTheTerminal) {
  ASSERT_TRUE(ParseLevel("info"));
  ::testing::internal::CaptureStderr();
  Log(LogLevel::kError, "e\x1b[31mred.bin: not a shareable file name\nsecond\x07 line");
  const std::string shown = ::testing::internal::GetCapturedStderr();
  // The line break too: a tracker's failure reason could otherwise add a
  // line of its own that reads as ours.
  EXPECT_EQ(shown, "swarm: error: e?[31mred.bin: not a shareable file name?second? line\n");
}

TEST(WithRetriesTest, AHopelessFailureIsNotRetried) {
  int attempts = 0;
  ::testing::internal::CaptureStderr();
  RetryOutcome outcome = WithRetries(
      5,
      [&](std::string* error) {
        ++attempts;
        *error = "tracker t: not a swarm tracker";
        return false;
      },
      [] { return true; });
  const std::string shown = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(outcome, RetryOutcome::kGaveUp);
  EXPECT_EQ(attempts, 1);
  EXPECT_EQ(shown, "swarm: error: tracker t: not a swarm tracker; giving up\n");
}

// A closed terminal (SIGHUP) stops every subcommand as Ctrl-C does: it is
// taken by WaitForSignal, not left to kill the process (exit 129, no
// summary, no stopped announce). (Each test runs in its own process.)
TEST(StopSignalsTest, HangupIsTakenLikeCtrlC) {
  struct sigaction hup;
  ASSERT_EQ(sigaction(SIGHUP, nullptr, &hup), 0);
  if (hup.sa_handler == SIG_IGN) GTEST_SKIP() << "started with SIGHUP ignored (nohup)";
  BlockSignals();
  EXPECT_FALSE(WaitForSignal(std::chrono::milliseconds(0)));
  ASSERT_EQ(::raise(SIGHUP), 0);
  EXPECT_TRUE(WaitForSignal(std::chrono::milliseconds(0)));
  EXPECT_FALSE(WaitForSignal(std::chrono::milliseconds(0)));  // taken once
}

}  // namespace
}  // namespace swarm::net::cli

namespace swarm::net::cli {
namespace {

// A progress line longer than the terminal wrapped, and each redraw (which
// clears only the cursor's row) left a stale copy of its start above.
TEST(FitToWidthTest, CutsToOneLessThanTheWidth) {
  const std::string line =
      " 42.0%  1122/3072 pieces  down 310.2 MiB/s  up 120.5 MiB/s  peers 12  eta 0:00:03";
  ASSERT_EQ(line.size(), 81u);
  EXPECT_EQ(FitToWidth(line, 80), line.substr(0, 79));
  EXPECT_EQ(FitToWidth(line, 82), line);
  EXPECT_EQ(FitToWidth(line, 81), line.substr(0, 80));
  EXPECT_EQ(FitToWidth("abc", 1), "");
  EXPECT_EQ(FitToWidth("abc", 0), "");
  // Characters, not bytes: "é" is two bytes, one column, and never split.
  EXPECT_EQ(FitToWidth("\xc3\xa9t\xc3\xa9s", 4), "\xc3\xa9t\xc3\xa9");
  EXPECT_EQ(FitToWidth("\xc3\xa9t\xc3\xa9s", 3), "\xc3\xa9t");
}

TEST(TerminalWidthTest, IsPositive) { EXPECT_GT(TerminalWidth(), 0); }

// A listing of peers that are gone (killed, no stopped announce) looked
// like a slow swarm: the warning now says how many refused.
TEST(NothingReceivedWarningTest, NamesListedPeersThatCouldNotBeReached) {
  EXPECT_EQ(NothingReceivedWarning(30, 0, 0, 128, 0),
            "nothing received for 30 s (0 peers connected, 0/128 pieces); waiting for peers "
            "that have the rest");
  const std::string three = NothingReceivedWarning(30, 0, 0, 128, 3);
  EXPECT_NE(three.find("; 3 listed peers refused connections or did not answer"),
            std::string::npos)
      << three;
  EXPECT_NE(three.find("45 min"), std::string::npos) << three;
  EXPECT_NE(NothingReceivedWarning(30, 1, 5, 128, 1).find("; 1 listed peer refused"),
            std::string::npos);
}

}  // namespace
}  // namespace swarm::net::cli
