#include "core/tracker.h"

#include <set>

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
  EXPECT_EQ(*tracker_.NextTimeout(), Time() + TrackerConfig{}.peer_timeout);
  tracker_.OnTimeout(*tracker_.NextTimeout());
  EXPECT_EQ(tracker_.Scrape(file_.info_hash())->leechers, 1u);  // peer 2 left
  EXPECT_EQ(*tracker_.NextTimeout(), later + TrackerConfig{}.peer_timeout);
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
  EXPECT_EQ(tracker_.NextTimeout(), At(40) + TrackerConfig{}.peer_timeout);
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
  const Time expiry = At(0) + TrackerConfig{}.peer_timeout;
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

}  // namespace
}  // namespace swarm::core
