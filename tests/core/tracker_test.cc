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

}  // namespace
}  // namespace swarm::core
