// Randomised hostile clients against core::Tracker: publishes (clashing,
// unsafe and oversized names), announces with every event, absurd numwant,
// changing endpoints, unknown info-hashes and peer ids shared between
// swarms, and long silences; every timer fired as a punctual driver does.
// The test keeps its own model of who is in which swarm and checks, after
// every call:
//   - an answer never lists the announcer, never a peer twice, only live
//     peers at their latest address, exactly min(others, numwant,
//     max_numwant) of them, and seed/leecher counts that match;
//   - files and peers stay within the configured bounds;
//   - NextTimeout() is never later than the earliest peer expiry or file
//     forgetting the model expects, and moves past `now` after OnTimeout;
//   - a file goes away only when the rules allow (no peers, past its hold).
// Each case prints its seed on failure.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/tracker.h"

namespace swarm::core {
namespace {

// A peer is forgotten once silent for longer than peer_timeout: at the
// first tick after it.
constexpr Duration kTick = Duration::Micros(1);

struct ModelPeer {
  std::string endpoint;
  bool seed = false;
  Time last_seen;
};
struct ModelSwarm {
  std::string name;
  uint32_t pieces = 0;
  Time published_at;
  Time empty_since;
  std::map<uint64_t, ModelPeer> peers;
};

class TrackerFuzz {
 public:
  explicit TrackerFuzz(uint64_t seed)
      : r_(seed * 3 + 1), seed_(seed), config_(Config(Rng(seed))), tracker_(config_, Rng(seed)) {
    const char* names[] = {"a", "b", "c", "movie.mkv", "../x", "", "d/e", "f"};
    for (int i = 0; i < 12; ++i) {
      const std::string name = names[r_.Below(8)];
      const Bytes piece = 256 * kKiB;
      // One draw per statement: the operands of `-` may be evaluated in
      // either order (GCC's, left to right, is kept).
      const Bytes pieces = Bytes(1 + r_.Below(12));
      const Bytes short_by = Bytes(r_.Below(1000));
      files_.push_back(TorrentInfo::Synthetic(name, piece * pieces - short_by, piece));
    }
  }

  void Run(int steps) {
    for (step_ = 0; step_ < steps; ++step_) {
      Advance();
      if (::testing::Test::HasFatalFailure()) return;
      if (r_.Below(10) == 0) {
        Publish();
      } else {
        Announce();
      }
      if (::testing::Test::HasFatalFailure()) return;
      CheckBounds();
      if (::testing::Test::HasFatalFailure()) return;
    }
  }

 private:
  static TrackerConfig Config(Rng r) {
    TrackerConfig c;
    c.announce_interval = Duration::Seconds(10 + int64_t(r.Below(100)));
    c.peer_timeout = c.announce_interval + Duration::Seconds(int64_t(r.Below(50)));
    c.max_numwant = 1 + uint32_t(r.Below(10));
    if (r.Bernoulli(0.6)) c.forget_file_after = Duration::Seconds(1 + int64_t(r.Below(120)));
    if (r.Bernoulli(0.5)) {
      c.max_files = 1 + uint32_t(r.Below(4));
      c.max_total_pieces = 5 + r.Below(30);
      c.max_peers = 1 + r.Below(20);
    }
    return c;
  }

  std::string Where() const {
    return "seed " + std::to_string(seed_) + " step " + std::to_string(step_) + " t=" +
           std::to_string(now_.micros()) + "us";
  }

  // Earliest moment the model expects the tracker to act on its own.
  std::optional<Time> ModelDeadline() const {
    std::optional<Time> t;
    auto at = [&](Time x) {
      if (!t || x < *t) t = x;
    };
    for (const auto& [hash, s] : swarms_) {
      for (const auto& [id, p] : s.peers) at(p.last_seen + config_.peer_timeout + kTick);
      if (s.peers.empty() && config_.forget_file_after) {
        at(s.empty_since + *config_.forget_file_after);
      }
    }
    return t;
  }

  void Advance() {
    const Duration jump = r_.Bernoulli(0.05) ? Duration::Seconds(int64_t(r_.Below(300)))
                                             : Duration::Millis(int64_t(r_.Below(5000)));
    const Time target = now_ + jump;
    for (int fired = 0;; ++fired) {
      const std::optional<Time> next = tracker_.NextTimeout();
      const std::optional<Time> due = ModelDeadline();
      if (due && *due <= target) {
        ASSERT_TRUE(next && *next <= *due)
            << "the tracker would sleep past " << due->micros() << "us; " << Where();
      }
      if (!next || *next > target) break;
      ASSERT_LT(fired, 1000) << "timer keeps firing; " << Where();
      now_ = std::max(now_, *next);
      tracker_.OnTimeout(now_);
      ExpireModel();
      const std::optional<Time> after = tracker_.NextTimeout();
      ASSERT_TRUE(!after || *after > now_) << "deadline not moved by OnTimeout; " << Where();
      CompareFiles();
      if (::testing::Test::HasFatalFailure()) return;
    }
    now_ = target;
  }

  // What OnTimeout(now_) must do, by the rules in tracker.h.
  void ExpireModel() {
    for (auto it = swarms_.begin(); it != swarms_.end();) {
      ModelSwarm& s = it->second;
      const bool had = !s.peers.empty();
      std::erase_if(s.peers, [&](const auto& e) {
        return now_ - e.second.last_seen > config_.peer_timeout;
      });
      if (had && s.peers.empty()) s.empty_since = now_;
      if (s.peers.empty() && config_.forget_file_after &&
          now_ >= s.empty_since + *config_.forget_file_after) {
        it = swarms_.erase(it);
      } else {
        ++it;
      }
    }
  }

  void CompareFiles() {
    const std::vector<FileEntry> list = tracker_.ListFiles();
    ASSERT_EQ(list.size(), swarms_.size()) << Where();
    std::set<std::string> names;
    for (size_t i = 0; i < list.size(); ++i) {
      if (i > 0) {
        ASSERT_LE(list[i - 1].name, list[i].name) << Where();
      }
      ASSERT_TRUE(names.insert(list[i].name).second) << "name listed twice; " << Where();
      auto it = swarms_.find(list[i].info_hash);
      ASSERT_NE(it, swarms_.end()) << "unexpected file " << list[i].name << "; " << Where();
      uint32_t seeds = 0, leechers = 0;
      for (const auto& [id, p] : it->second.peers) (p.seed ? seeds : leechers)++;
      ASSERT_EQ(list[i].seeds, seeds) << list[i].name << "; " << Where();
      ASSERT_EQ(list[i].leechers, leechers) << list[i].name << "; " << Where();
    }
  }

  void Publish() {
    const TorrentInfo& f = files_[r_.Below(files_.size())];
    const PublishResult got = tracker_.Publish(now_, f);
    const bool safe = !f.name().empty() && f.name() != ".." &&
                      f.name().find('/') == std::string::npos;
    if (!safe) {
      ASSERT_EQ(got, PublishResult::kInvalid) << Where();
      return CompareFiles();
    }
    // Files the tracker dropped to make room (or to free the name) must
    // have been abandoned: no peers, published over a minute ago.
    std::set<InfoHash> listed;
    for (const FileEntry& e : tracker_.ListFiles()) listed.insert(e.info_hash);
    for (auto it = swarms_.begin(); it != swarms_.end();) {
      if (listed.count(it->first)) {
        ++it;
        continue;
      }
      ASSERT_TRUE(it->second.peers.empty()) << "evicted a live swarm; " << Where();
      ASSERT_GE(now_ - it->second.published_at, Duration::Seconds(60)) << Where();
      it = swarms_.erase(it);
    }
    switch (got) {
      case PublishResult::kPublished:
        ASSERT_TRUE(listed.count(f.info_hash())) << Where();
        swarms_[f.info_hash()] = ModelSwarm{f.name(), f.piece_count(), now_, now_, {}};
        break;
      case PublishResult::kAlreadyPublished:
        ASSERT_TRUE(swarms_.count(f.info_hash())) << Where();
        break;
      case PublishResult::kNameTaken: {
        bool held = false;
        for (const auto& [h, s] : swarms_) {
          held |= s.name == f.name() &&
                  (!s.peers.empty() || now_ - s.published_at < Duration::Seconds(60));
        }
        ASSERT_TRUE(held) << "name refused though free: " << f.name() << "; " << Where();
        break;
      }
      case PublishResult::kFull:
        ASSERT_TRUE(config_.max_files || config_.max_total_pieces) << Where();
        break;
      case PublishResult::kInvalid:
        FAIL() << "a safe name refused: " << f.name() << "; " << Where();
    }
    CompareFiles();
  }

  void Announce() {
    AnnounceRequest q;
    const bool known = !swarms_.empty() && r_.Bernoulli(0.9);
    if (known) {
      auto it = swarms_.begin();
      std::advance(it, r_.Below(swarms_.size()));
      q.info_hash = it->first;
    } else {
      q.info_hash = files_[r_.Below(files_.size())].info_hash();
      q.info_hash[r_.Below(32)] ^= uint8_t(r_.Bernoulli(0.5));  // maybe unknown
    }
    const uint64_t id = 1 + r_.Below(25);
    q.peer = PeerAddress{PeerId(id), "h" + std::to_string(r_.Below(3)) + ":" + std::to_string(id)};
    q.event = static_cast<AnnounceEvent>(r_.Below(4));
    q.left = r_.Bernoulli(0.3) ? 0 : Bytes(r_.Below(1 << 20));
    const uint32_t numwants[] = {0, 1, 5, 50, UINT32_MAX};
    q.numwant = numwants[r_.Below(5)];
    const AnnounceResponse a = tracker_.Announce(now_, q);

    auto sit = swarms_.find(q.info_hash);
    if (sit == swarms_.end()) {
      ASSERT_FALSE(a.failure_reason.empty()) << Where();
      ASSERT_TRUE(a.peers.empty()) << Where();
      return;
    }
    ModelSwarm& s = sit->second;
    if (q.event == AnnounceEvent::kStopped) {
      ASSERT_TRUE(a.failure_reason.empty()) << Where();
      if (s.peers.erase(id) && s.peers.empty()) s.empty_since = now_;
      ASSERT_TRUE(a.peers.empty()) << "peers for a leaving peer; " << Where();
    } else if (!s.peers.count(id) && config_.max_peers && TotalPeers() >= config_.max_peers) {
      ASSERT_FALSE(a.failure_reason.empty()) << "over max_peers; " << Where();
      return;
    } else {
      ASSERT_TRUE(a.failure_reason.empty()) << a.failure_reason << "; " << Where();
      s.peers[id] = ModelPeer{q.peer.endpoint, q.left == 0, now_};
      const size_t others = s.peers.size() - 1;
      ASSERT_EQ(a.peers.size(),
                std::min<size_t>({others, size_t(q.numwant), size_t(config_.max_numwant)}))
          << Where();
    }
    std::set<uint64_t> seen;
    for (const PeerAddress& p : a.peers) {
      ASSERT_NE(p.id.value(), id) << "the announcer listed; " << Where();
      ASSERT_TRUE(seen.insert(p.id.value()).second) << "a peer listed twice; " << Where();
      auto m = s.peers.find(p.id.value());
      ASSERT_NE(m, s.peers.end()) << "a peer not in the swarm; " << Where();
      ASSERT_EQ(p.endpoint, m->second.endpoint) << "a stale address; " << Where();
    }
    uint32_t seeds = 0, leechers = 0;
    for (const auto& [pid, p] : s.peers) (p.seed ? seeds : leechers)++;
    ASSERT_EQ(a.seeds, seeds) << Where();
    ASSERT_EQ(a.leechers, leechers) << Where();
  }

  uint64_t TotalPeers() const {
    uint64_t n = 0;
    for (const auto& [h, s] : swarms_) n += s.peers.size();
    return n;
  }

  void CheckBounds() {
    if (config_.max_peers) {
      ASSERT_LE(TotalPeers(), config_.max_peers) << Where();
    }
    if (config_.max_files) {
      ASSERT_LE(swarms_.size(), config_.max_files) << Where();
    }
    if (config_.max_total_pieces) {
      uint64_t pieces = 0;
      for (const auto& [h, s] : swarms_) pieces += s.pieces;
      ASSERT_LE(pieces, config_.max_total_pieces) << Where();
    }
  }

  Rng r_;
  uint64_t seed_;
  int step_ = 0;
  TrackerConfig config_;
  Tracker tracker_;
  std::vector<TorrentInfo> files_;
  std::map<InfoHash, ModelSwarm> swarms_;
  Time now_;
};

class TrackerFuzzTest : public ::testing::TestWithParam<uint64_t> {};

TEST_P(TrackerFuzzTest, KeepsItsRulesWhateverClientsSend) { TrackerFuzz(GetParam()).Run(3000); }

INSTANTIATE_TEST_SUITE_P(Seeds, TrackerFuzzTest, ::testing::Range<uint64_t>(1, 41));

}  // namespace
}  // namespace swarm::core
