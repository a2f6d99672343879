#include "core/tracker.h"

#include <cstdint>
#include <optional>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace swarm::core {
namespace {

AnnounceRequest Req(const TorrentInfo& t, uint64_t id, AnnounceEvent ev,
                    Bytes left, uint32_t numwant = 50) {
  AnnounceRequest r;
  r.info_hash = t.info_hash();
  r.peer = PeerAddress{PeerId(id), "127.0.0.1:" + std::to_string(6000 + id)};
  r.event = ev;
  r.left = left;
  r.numwant = numwant;
  return r;
}

class TrackerTest : public ::testing::Test {
 protected:
  TrackerTest()
      : tracker_(TrackerConfig{}, Rng(1)),
        file_(TorrentInfo::Synthetic("movie.mkv", 10 * kMiB, 256 * kKiB)) {}
  Tracker tracker_;
  TorrentInfo file_;
};

TEST_F(TrackerTest, PublishAndList) {
  EXPECT_EQ(tracker_.Publish(Time(), file_), PublishResult::kPublished);
  EXPECT_EQ(tracker_.Publish(Time(), file_), PublishResult::kAlreadyPublished);
  tracker_.Announce(Time(), Req(file_, 1, AnnounceEvent::kStarted, 0));
  TorrentInfo other = TorrentInfo::Synthetic("movie.mkv", kMiB, 256 * kKiB);
  EXPECT_EQ(tracker_.Publish(Time(), other), PublishResult::kNameTaken);
  EXPECT_EQ(tracker_.Publish(Time(), TorrentInfo::Synthetic("../etc", kMiB, kKiB)),
            PublishResult::kInvalid);
  EXPECT_EQ(tracker_.Publish(Time(), TorrentInfo::Synthetic("a.txt", kMiB, kKiB)),
            PublishResult::kPublished);
  auto files = tracker_.ListFiles();
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].name, "a.txt");
  EXPECT_EQ(files[1].name, "movie.mkv");
  EXPECT_EQ(files[1].piece_count, 40u);
  EXPECT_EQ(tracker_.FindByName("movie.mkv")->info_hash(), file_.info_hash());
  EXPECT_EQ(tracker_.FindByName("nope"), nullptr);
}

// A name is held while its swarm has peers; once the last one has left, a
// different file (e.g. an edited one) may be published under it.
TEST_F(TrackerTest, AnAbandonedNameCanBeReused) {
  tracker_.Publish(Time(), file_);
  tracker_.Announce(Time(), Req(file_, 1, AnnounceEvent::kStarted, 0));
  TorrentInfo edited = TorrentInfo::Synthetic("movie.mkv", 11 * kMiB, 256 * kKiB);
  EXPECT_EQ(tracker_.Publish(Time(), edited), PublishResult::kNameTaken);
  tracker_.Announce(Time(), Req(file_, 1, AnnounceEvent::kStopped, 0));
  // Held for a minute after publishing even without peers (its seed may
  // not have announced yet)...
  EXPECT_EQ(tracker_.Publish(Time() + Duration::Seconds(59), edited), PublishResult::kNameTaken);
  // ... then free.
  EXPECT_EQ(tracker_.Publish(Time() + Duration::Seconds(60), edited), PublishResult::kPublished);
  EXPECT_EQ(tracker_.FindByName("movie.mkv")->info_hash(), edited.info_hash());
  EXPECT_EQ(tracker_.ListFiles().size(), 1u);
  EXPECT_FALSE(tracker_.Announce(Time(), Req(file_, 2, AnnounceEvent::kStarted, 0))
                   .failure_reason.empty());
}

TEST_F(TrackerTest, UnknownTorrentFails) {
  auto r = tracker_.Announce(Time(), Req(file_, 1, AnnounceEvent::kStarted, 0));
  EXPECT_FALSE(r.failure_reason.empty());
}

TEST_F(TrackerTest, AnnounceReturnsOthersNeverSelfAndCounts) {
  tracker_.Publish(Time(), file_);
  tracker_.Announce(Time(), Req(file_, 1, AnnounceEvent::kStarted, 0));
  for (uint64_t id = 2; id <= 10; ++id) {
    tracker_.Announce(Time(), Req(file_, id, AnnounceEvent::kStarted, 100));
  }
  auto r = tracker_.Announce(Time(), Req(file_, 5, AnnounceEvent::kNone, 100, 4));
  EXPECT_TRUE(r.failure_reason.empty());
  EXPECT_EQ(r.peers.size(), 4u);
  std::set<uint64_t> ids;
  for (const auto& p : r.peers) {
    EXPECT_NE(p.id, PeerId(5));
    ids.insert(p.id.value());
  }
  EXPECT_EQ(ids.size(), 4u);  // distinct
  EXPECT_EQ(r.seeds, 1u);
  EXPECT_EQ(r.leechers, 9u);
  auto all = tracker_.Announce(Time(), Req(file_, 5, AnnounceEvent::kNone, 100, 500));
  EXPECT_EQ(all.peers.size(), 9u);
}

TEST_F(TrackerTest, CompletedMakesSeedStoppedRemoves) {
  tracker_.Publish(Time(), file_);
  tracker_.Announce(Time(), Req(file_, 1, AnnounceEvent::kStarted, 100));
  tracker_.Announce(Time(), Req(file_, 1, AnnounceEvent::kCompleted, 0));
  EXPECT_EQ(tracker_.Scrape(file_.info_hash())->seeds, 1u);
  tracker_.Announce(Time(), Req(file_, 1, AnnounceEvent::kStopped, 0));
  EXPECT_EQ(tracker_.Scrape(file_.info_hash())->seeds, 0u);
  EXPECT_EQ(tracker_.Scrape(file_.info_hash())->leechers, 0u);
}

TEST_F(TrackerTest, PeersExpireAfterMissedInterval) {
  tracker_.Publish(Time(), file_);
  tracker_.Announce(Time(), Req(file_, 1, AnnounceEvent::kStarted, 100));
  const Time later = Time() + Duration::Seconds(1000);
  tracker_.Announce(later, Req(file_, 2, AnnounceEvent::kStarted, 100));
  ASSERT_TRUE(tracker_.NextTimeout().has_value());
  // Silent for longer than peer_timeout: forgotten at the tick after it.
  const Duration tick = Duration::Micros(1);
  EXPECT_EQ(*tracker_.NextTimeout(), Time() + TrackerConfig{}.peer_timeout + tick);
  tracker_.OnTimeout(*tracker_.NextTimeout());
  EXPECT_EQ(tracker_.Scrape(file_.info_hash())->leechers, 1u);  // peer 2 left
  EXPECT_EQ(*tracker_.NextTimeout(), later + TrackerConfig{}.peer_timeout + tick);
}

// peer_timeout may equal announce_interval. A peer announcing on time is
// then silent for exactly peer_timeout when its next announce arrives, and
// peers that joined together announce at the same instant: one whose
// announce is handled just before the seed's must still be told of the
// seed. (Forgotten at that instant, a swarm's seeds were missing from
// every answer; random swarm 6489 --extended.) A tick later, with no
// announce, the seed is gone.
TEST_F(TrackerTest, APeerSilentForExactlyPeerTimeoutIsStillListed) {
  TrackerConfig c;
  c.announce_interval = Duration::Seconds(60);
  c.peer_timeout = Duration::Seconds(60);
  Tracker tracker(c, Rng(1));
  tracker.Publish(Time(), file_);
  tracker.Announce(Time(), Req(file_, 1, AnnounceEvent::kStarted, 0));  // the seed
  tracker.Announce(Time(), Req(file_, 2, AnnounceEvent::kStarted, 100));
  const Time on_time = Time() + c.announce_interval;
  while (tracker.NextTimeout() && *tracker.NextTimeout() <= on_time) {
    tracker.OnTimeout(*tracker.NextTimeout());
  }
  const AnnounceResponse r = tracker.Announce(on_time, Req(file_, 2, AnnounceEvent::kNone, 100));
  ASSERT_EQ(r.peers.size(), 1u);
  EXPECT_EQ(r.peers[0].id, PeerId(1));
  EXPECT_EQ(r.seeds, 1u);
  ASSERT_TRUE(tracker.NextTimeout().has_value());
  EXPECT_EQ(*tracker.NextTimeout(), on_time + Duration::Micros(1));
  tracker.OnTimeout(*tracker.NextTimeout());
  EXPECT_EQ(tracker.Scrape(file_.info_hash())->seeds, 0u);
  EXPECT_EQ(tracker.Scrape(file_.info_hash())->leechers, 1u);
}

// With forget_file_after set (as `swarm tracker` does), a file stays listed
// while its swarm has peers and for that long after the last one left; then
// it is forgotten and its name is free.
class ForgettingTrackerTest : public ::testing::Test {
 protected:
  static TrackerConfig Forgetting() {
    TrackerConfig c;
    c.forget_file_after = Duration::Seconds(60);
    return c;
  }
  ForgettingTrackerTest()
      : tracker_(Forgetting(), Rng(1)),
        file_(TorrentInfo::Synthetic("movie.mkv", 10 * kMiB, 256 * kKiB)) {}
  static Time At(int64_t seconds) { return Time() + Duration::Seconds(seconds); }
  // Drives the tracker's timeouts as a driver does, up to `until`.
  // A deadline that does not move on after OnTimeout is a bug: bounded.
  void RunUntil(Time until) {
    for (int step = 0; tracker_.NextTimeout() && *tracker_.NextTimeout() <= until; ++step) {
      ASSERT_LT(step, 100) << "the next timeout stays at " << tracker_.NextTimeout()->micros();
      tracker_.OnTimeout(*tracker_.NextTimeout());
    }
  }
  Tracker tracker_;
  TorrentInfo file_;
};

TEST_F(ForgettingTrackerTest, FileForgottenAMinuteAfterItsLastPeerStopped) {
  tracker_.Publish(At(0), file_);
  tracker_.Announce(At(0), Req(file_, 1, AnnounceEvent::kStarted, 0));
  tracker_.Announce(At(5), Req(file_, 2, AnnounceEvent::kStarted, 100));
  tracker_.Announce(At(10), Req(file_, 1, AnnounceEvent::kStopped, 0));
  tracker_.Announce(At(20), Req(file_, 2, AnnounceEvent::kStopped, 100));
  RunUntil(At(80) - Duration::Micros(1));
  ASSERT_EQ(tracker_.ListFiles().size(), 1u);  // listed with 0 seeds, 0 leechers
  EXPECT_EQ(tracker_.ListFiles()[0].seeds + tracker_.ListFiles()[0].leechers, 0u);
  EXPECT_EQ(tracker_.NextTimeout(), At(80));
  RunUntil(At(80));
  EXPECT_TRUE(tracker_.ListFiles().empty());
  EXPECT_FALSE(tracker_.NextTimeout().has_value());
  EXPECT_EQ(tracker_.FindByName("movie.mkv"), nullptr);
  EXPECT_FALSE(tracker_.Scrape(file_.info_hash()).has_value());
  EXPECT_FALSE(tracker_.Announce(At(81), Req(file_, 3, AnnounceEvent::kStarted, 100))
                   .failure_reason.empty());
  // Sharing it again brings it back.
  EXPECT_EQ(tracker_.Publish(At(82), file_), PublishResult::kPublished);
  EXPECT_EQ(tracker_.ListFiles().size(), 1u);
}

TEST_F(ForgettingTrackerTest, APeerReturningInTimeKeepsTheFile) {
  tracker_.Publish(At(0), file_);
  tracker_.Announce(At(0), Req(file_, 1, AnnounceEvent::kStarted, 0));
  tracker_.Announce(At(10), Req(file_, 1, AnnounceEvent::kStopped, 0));
  tracker_.Announce(At(40), Req(file_, 1, AnnounceEvent::kStarted, 0));
  RunUntil(At(70));
  ASSERT_EQ(tracker_.ListFiles().size(), 1u);
  EXPECT_EQ(tracker_.ListFiles()[0].seeds, 1u);
  // Its next deadline is the peer's own expiry, not the old forgetting.
  EXPECT_EQ(tracker_.NextTimeout(), At(40) + TrackerConfig{}.peer_timeout + Duration::Micros(1));
}

TEST_F(ForgettingTrackerTest, PublishedFileNoPeerJoinedIsForgotten) {
  tracker_.Publish(At(0), file_);
  EXPECT_EQ(tracker_.NextTimeout(), At(60));
  RunUntil(At(60) - Duration::Micros(1));
  EXPECT_EQ(tracker_.ListFiles().size(), 1u);
  RunUntil(At(60));
  EXPECT_TRUE(tracker_.ListFiles().empty());
  EXPECT_FALSE(tracker_.NextTimeout().has_value());
}

// A peer that vanished without a stopped announce expires first; the file
// goes a minute after that.
TEST_F(ForgettingTrackerTest, FileForgottenAMinuteAfterItsLastPeerExpired) {
  tracker_.Publish(At(0), file_);
  tracker_.Announce(At(0), Req(file_, 1, AnnounceEvent::kStarted, 0));
  const Time expiry = At(0) + TrackerConfig{}.peer_timeout + Duration::Micros(1);
  RunUntil(expiry);
  ASSERT_EQ(tracker_.ListFiles().size(), 1u);
  EXPECT_EQ(tracker_.ListFiles()[0].seeds, 0u);
  EXPECT_EQ(tracker_.NextTimeout(), expiry + Duration::Seconds(60));
  RunUntil(expiry + Duration::Seconds(60) - Duration::Micros(1));
  EXPECT_EQ(tracker_.ListFiles().size(), 1u);
  RunUntil(expiry + Duration::Seconds(60));
  EXPECT_TRUE(tracker_.ListFiles().empty());
}

// Only the abandoned file goes; one with peers stays.
TEST_F(ForgettingTrackerTest, OtherFilesAreKept) {
  TorrentInfo other = TorrentInfo::Synthetic("a.txt", kMiB, 256 * kKiB);
  tracker_.Publish(At(0), file_);
  tracker_.Publish(At(0), other);
  tracker_.Announce(At(1), Req(other, 1, AnnounceEvent::kStarted, 0));
  RunUntil(At(60));
  ASSERT_EQ(tracker_.ListFiles().size(), 1u);
  EXPECT_EQ(tracker_.ListFiles()[0].name, "a.txt");
}

// The default (the simulator's) keeps a file with no peers for good: a late
// arrival must still find it.
TEST_F(TrackerTest, ByDefaultAFileIsNeverForgotten) {
  tracker_.Publish(Time(), file_);
  tracker_.Announce(Time(), Req(file_, 1, AnnounceEvent::kStarted, 0));
  tracker_.Announce(Time(), Req(file_, 1, AnnounceEvent::kStopped, 0));
  tracker_.OnTimeout(Time() + Duration::Seconds(100000));
  EXPECT_EQ(tracker_.ListFiles().size(), 1u);
  EXPECT_TRUE(tracker_.Announce(Time() + Duration::Seconds(100000),
                                Req(file_, 2, AnnounceEvent::kStarted, 100))
                  .failure_reason.empty());
}

TEST(TrackerConfigTest, ForgetFileAfterMustBePositive) {
  TrackerConfig c;
  c.forget_file_after = Duration::Zero();
  EXPECT_TRUE(c.Validate().has_value());
  c.forget_file_after = Duration::Seconds(1);
  EXPECT_FALSE(c.Validate().has_value());
}

TEST_F(TrackerTest, SameSeedSameAnswers) {
  Tracker a(TrackerConfig{}, Rng(9)), b(TrackerConfig{}, Rng(9));
  for (Tracker* t : {&a, &b}) {
    t->Publish(Time(), file_);
    for (uint64_t id = 1; id <= 30; ++id)
      t->Announce(Time(), Req(file_, id, AnnounceEvent::kStarted, 100));
  }
  auto ra = a.Announce(Time(), Req(file_, 31, AnnounceEvent::kStarted, 100, 10));
  auto rb = b.Announce(Time(), Req(file_, 31, AnnounceEvent::kStarted, 100, 10));
  EXPECT_EQ(ra.peers, rb.peers);
}

// Bounds for a tracker facing the network: a client cannot make it hold
// files, piece hashes or peers without end. Abandoned files (no peers,
// published over a minute ago) make room; live ones never do.
TEST(TrackerLimitsTest, PublishOverTheFileBoundEvictsAnAbandonedFileOrIsRefused) {
  TrackerConfig config;
  config.max_files = 2;
  Tracker tracker(config, Rng(1));
  const TorrentInfo a = TorrentInfo::Synthetic("a", kMiB, 256 * kKiB);
  const TorrentInfo b = TorrentInfo::Synthetic("b", kMiB, 256 * kKiB);
  const TorrentInfo c = TorrentInfo::Synthetic("c", kMiB, 256 * kKiB);
  EXPECT_EQ(tracker.Publish(Time(), a), PublishResult::kPublished);
  EXPECT_EQ(tracker.Publish(Time(), b), PublishResult::kPublished);
  tracker.Announce(Time(), Req(b, 1, AnnounceEvent::kStarted, 0));
  // a is held for a minute after publishing: nothing to evict yet.
  EXPECT_EQ(tracker.Publish(Time() + Duration::Seconds(30), c), PublishResult::kFull);
  EXPECT_EQ(tracker.Publish(Time() + Duration::Seconds(61), c), PublishResult::kPublished);
  std::vector<std::string> names;
  for (const FileEntry& e : tracker.ListFiles()) names.push_back(e.name);
  EXPECT_EQ(names, (std::vector<std::string>{"b", "c"}));
}

TEST(TrackerLimitsTest, PublishOverThePieceBoundIsRefused) {
  TrackerConfig config;
  config.max_total_pieces = 6;
  Tracker tracker(config, Rng(1));
  const TorrentInfo four = TorrentInfo::Synthetic("four", kMiB, 256 * kKiB);
  EXPECT_EQ(tracker.Publish(Time(), four), PublishResult::kPublished);
  tracker.Announce(Time(), Req(four, 1, AnnounceEvent::kStarted, 0));
  EXPECT_EQ(tracker.Publish(Time(), TorrentInfo::Synthetic("x", 3 * 256 * kKiB, 256 * kKiB)),
            PublishResult::kFull);
  EXPECT_EQ(tracker.Publish(Time(), TorrentInfo::Synthetic("y", 2 * 256 * kKiB, 256 * kKiB)),
            PublishResult::kPublished);
}

TEST(TrackerLimitsTest, ANewPeerOverThePeerBoundGetsAFailure) {
  TrackerConfig config;
  config.max_peers = 2;
  Tracker tracker(config, Rng(1));
  const TorrentInfo f = TorrentInfo::Synthetic("f", kMiB, 256 * kKiB);
  ASSERT_EQ(tracker.Publish(Time(), f), PublishResult::kPublished);
  EXPECT_TRUE(tracker.Announce(Time(), Req(f, 1, AnnounceEvent::kStarted, 0)).failure_reason.empty());
  EXPECT_TRUE(tracker.Announce(Time(), Req(f, 2, AnnounceEvent::kStarted, kMiB)).failure_reason.empty());
  EXPECT_FALSE(tracker.Announce(Time(), Req(f, 3, AnnounceEvent::kStarted, kMiB)).failure_reason.empty());
  // Peers already known go on; one leaving makes room.
  EXPECT_TRUE(tracker.Announce(Time(), Req(f, 2, AnnounceEvent::kNone, kMiB)).failure_reason.empty());
  tracker.Announce(Time(), Req(f, 2, AnnounceEvent::kStopped, kMiB));
  const AnnounceResponse r = tracker.Announce(Time(), Req(f, 3, AnnounceEvent::kStarted, kMiB));
  EXPECT_TRUE(r.failure_reason.empty());
  EXPECT_EQ(r.seeds, 1u);
  EXPECT_EQ(r.leechers, 1u);
}


// The answers pinned down: peers drawn for a fixed seed through joins,
// stops, expiries, a return after expiry and numwant over the swarm's
// size. The expected transcript was recorded with the first, plainly O(N)
// tracker (a linear scan per announce); a faster tracker must draw the same
// numbers in the same order and so give the same answers, or every
// simulation result would change. (Re-recorded when a peer silent for
// exactly peer_timeout came to be still listed: only the lines from 160 s
// on, where peer 11 reaches that instant, changed.)
class TrackerTranscriptTest : public ::testing::Test {
 protected:
  static TrackerConfig Config() {
    TrackerConfig c;
    c.announce_interval = Duration::Seconds(100);
    c.peer_timeout = Duration::Seconds(150);
    return c;
  }
  static Time At(int64_t seconds) { return Time() + Duration::Seconds(seconds); }
  void Announce(int64_t t, uint64_t id, AnnounceEvent ev, Bytes left, uint32_t numwant) {
    const AnnounceResponse r = tracker_.Announce(At(t), Req(file_, id, ev, left, numwant));
    out_ << t << " " << AnnounceEventName(ev) << " " << id << ":";
    for (const PeerAddress& p : r.peers) out_ << " " << p.id.value();
    out_ << " | " << r.seeds << "s " << r.leechers << "l\n";
  }
  // Fires the tracker's timeouts up to `until`; each line gives the time in
  // whole seconds (an expiry falls a tick, 1 us, after its second).
  void Expire(int64_t until) {
    while (tracker_.NextTimeout() && *tracker_.NextTimeout() <= At(until)) {
      const Time t = *tracker_.NextTimeout();
      tracker_.OnTimeout(t);
      const FileEntry e = *tracker_.Scrape(file_.info_hash());
      const std::optional<Time> next = tracker_.NextTimeout();
      out_ << "expire " << t.micros() / 1'000'000 << ": " << e.seeds << "s " << e.leechers
           << "l next " << (next ? next->micros() / 1'000'000 : -1) << "\n";
    }
  }
  Tracker tracker_{Config(), Rng(2024)};
  TorrentInfo file_ = TorrentInfo::Synthetic("movie.mkv", 10 * kMiB, 256 * kKiB);
  std::ostringstream out_;
};

TEST_F(TrackerTranscriptTest, SameAnswersAsTheLinearTracker) {
  tracker_.Publish(At(0), file_);
  for (uint64_t id = 1; id <= 12; ++id) {
    Announce(int64_t(id) - 1, id, AnnounceEvent::kStarted, id % 4 == 0 ? 0 : 100, 5);
  }
  Announce(20, 3, AnnounceEvent::kStopped, 100, 5);
  Announce(20, 7, AnnounceEvent::kStopped, 100, 5);
  Announce(20, 99, AnnounceEvent::kStopped, 100, 5);  // never joined
  Announce(21, 5, AnnounceEvent::kNone, 100, 6);
  Announce(22, 20, AnnounceEvent::kStarted, 100, 100);  // numwant over the swarm's size
  for (uint64_t id : {2, 4, 6}) Announce(100, id, AnnounceEvent::kNone, 100, 3);
  Expire(160);  // 1, 8, 9 and 10 expire, one at a time
  // Back after expiry: last in order. 11, silent for exactly peer_timeout
  // (since 10), is still listed; it goes a tick later, in Expire(400).
  Announce(160, 1, AnnounceEvent::kStarted, 100, 100);
  Announce(161, 2, AnnounceEvent::kCompleted, 0, 4);
  Announce(162, 12, AnnounceEvent::kNone, 0, 100);
  Expire(400);  // everyone
  Announce(401, 3, AnnounceEvent::kStarted, 100, 100);
  EXPECT_EQ(out_.str(), R"(0 started 1: | 0s 1l
1 started 2: 1 | 0s 2l
2 started 3: 2 1 | 0s 3l
3 started 4: 1 3 2 | 1s 3l
4 started 5: 2 1 4 3 | 1s 4l
5 started 6: 4 5 2 1 3 | 1s 5l
6 started 7: 2 1 5 6 3 | 1s 6l
7 started 8: 5 3 2 1 6 | 2s 6l
8 started 9: 1 5 4 6 7 | 2s 7l
9 started 10: 9 6 3 4 1 | 2s 8l
10 started 11: 9 2 8 5 10 | 2s 9l
11 started 12: 10 7 4 6 2 | 3s 9l
20 stopped 3: | 3s 8l
20 stopped 7: | 3s 7l
20 stopped 99: | 3s 7l
21 none 5: 6 10 8 12 2 4 | 3s 7l
22 started 20: 6 2 10 11 9 5 4 12 8 1 | 3s 8l
100 none 2: 1 9 20 | 3s 8l
100 none 4: 20 10 6 | 2s 9l
100 none 6: 20 12 8 | 2s 9l
expire 150: 2s 8l next 157
expire 157: 1s 8l next 158
expire 158: 1s 7l next 159
expire 159: 1s 6l next 160
160 started 1: 2 5 12 11 4 20 6 | 1s 7l
161 completed 2: 12 5 11 1 | 2s 6l
162 none 12: 4 6 20 5 1 11 2 | 2s 6l
expire 160: 2s 5l next 171
expire 171: 2s 4l next 172
expire 172: 2s 3l next 250
expire 250: 2s 1l next 310
expire 310: 2s 0l next 311
expire 311: 1s 0l next 312
expire 312: 0s 0l next -1
401 started 3: | 0s 1l
)");
}

// Longer and denser: thousands of peers joining, re-announcing, completing,
// stopping and expiring in one swarm, checked through a hash of every answer
// (peer ids in order, counts, failures) and every deadline. Recorded with
// the linear tracker as above, and re-recorded when a peer silent for
// exactly peer_timeout came to be still listed (every deadline moved by a
// tick, and announces fall on the millisecond grid, so some meet an expiry
// instant); one config as the simulator's (no bounds, a file never
// forgotten), one as `swarm tracker`'s (forgetting, a peer bound).
uint64_t Fnv(uint64_t h, uint64_t v) {
  for (int i = 0; i < 8; ++i) h = (h ^ ((v >> (8 * i)) & 0xff)) * 0x100000001b3ull;
  return h;
}

uint64_t ChurnHash(const TrackerConfig& config, uint64_t seed) {
  Tracker tracker(config, Rng(seed));
  Rng r(seed + 1);
  const TorrentInfo file = TorrentInfo::Synthetic("f", 10 * kMiB, 256 * kKiB);
  tracker.Publish(Time(), file);
  uint64_t h = 0xcbf29ce484222325ull;
  Time now;
  for (int step = 0; step < 40'000; ++step) {
    now = now + Duration::Millis(int64_t(r.Below(400)));
    while (tracker.NextTimeout() && *tracker.NextTimeout() <= now) {
      tracker.OnTimeout(*tracker.NextTimeout());
      h = Fnv(h, uint64_t(tracker.NextTimeout() ? tracker.NextTimeout()->micros() : -1));
    }
    const uint64_t id = r.Below(3000);
    const uint64_t roll = r.Below(100);
    const AnnounceEvent ev = roll < 15   ? AnnounceEvent::kStopped
                             : roll < 20 ? AnnounceEvent::kCompleted
                             : roll < 50 ? AnnounceEvent::kStarted
                                         : AnnounceEvent::kNone;
    // Two draws, so two statements: the order in which a call's arguments
    // are evaluated is unspecified (GCC went right to left when the hashes
    // were recorded, Clang goes left to right).
    const uint32_t numwant = uint32_t(r.Below(300));
    const Bytes left = r.Below(3) == 0 ? 0 : 100;
    const AnnounceResponse resp = tracker.Announce(now, Req(file, id, ev, left, numwant));
    h = Fnv(h, resp.failure_reason.empty() ? 0 : 1);
    for (const PeerAddress& p : resp.peers) h = Fnv(h, p.id.value());
    h = Fnv(h, resp.seeds);
    h = Fnv(h, resp.leechers);
    h = Fnv(h, uint64_t(tracker.NextTimeout() ? tracker.NextTimeout()->micros() : -1));
  }
  return h;
}

TEST(TrackerChurnTest, SameAnswersAsTheLinearTracker) {
  TrackerConfig sim;
  sim.announce_interval = Duration::Seconds(600);
  sim.peer_timeout = Duration::Seconds(700);
  EXPECT_EQ(ChurnHash(sim, 5), 495404432106333902ull);
  TrackerConfig real = sim;
  real.forget_file_after = Duration::Seconds(30);
  real.max_peers = 1500;
  real.max_numwant = 80;
  EXPECT_EQ(ChurnHash(real, 6), 4197862639570662554ull);
}

}  // namespace
}  // namespace swarm::core
