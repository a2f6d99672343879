// Mini-swarm tests: real core::Peers and a core::Tracker exchanging messages
// through the in-memory harness.
#include <gtest/gtest.h>

#include <string_view>
#include <vector>

#include "core/peer_config.h"
#include "tests/core/swarm_harness.h"

namespace swarm::core {
namespace {

using testing::SwarmHarness;

TorrentInfo SmallFile() {
  // 2 MiB in 32 pieces of 64 KiB (4 blocks each), last piece short.
  return TorrentInfo::Synthetic("small.bin", 2 * kMiB - 5000, 64 * kKiB);
}

TEST(SwarmTest, TwoPeersSeedToLeecher) {
  SwarmHarness h(SmallFile(), {});
  h.AddPeer(/*seed=*/true);
  h.AddPeer(/*seed=*/false, Time() + Duration::Seconds(1));
  h.RunUntil([&] { return h.AllComplete(); });
  ASSERT_TRUE(h.AllComplete()) << h.trace().substr(0, 4000);
  EXPECT_EQ(h.peer(1).stats().downloaded, SmallFile().length());
  EXPECT_EQ(h.peer(0).stats().uploaded, SmallFile().length());
  EXPECT_EQ(h.peer(1).stats().wasted, 0);
  EXPECT_EQ(h.completed_at.count(1), 1u);
  EXPECT_EQ(h.completed_at.count(0), 0u);  // started as a seed
}

class MiniSwarmTest : public ::testing::TestWithParam<uint64_t> {};

TEST_P(MiniSwarmTest, OneSeedEightLeechersAllComplete) {
  SwarmHarness::Options opt;
  opt.seed = GetParam();
  SwarmHarness h(SmallFile(), opt);
  h.AddPeer(true);
  for (int i = 0; i < 8; ++i) h.AddPeer(false, Time() + Duration::Millis(300 * i));
  const size_t steps = h.RunUntil([&] { return h.AllComplete(); });
  ASSERT_TRUE(h.AllComplete()) << "seed " << GetParam() << " after " << steps << " steps";
  const uint32_t pieces = SmallFile().piece_count();
  for (size_t p = 1; p < h.size(); ++p) {
    for (uint32_t k = 0; k < pieces; ++k) {
      EXPECT_EQ((h.verifications[{p, k}]), 1) << "peer " << p << " piece " << k;
    }
    EXPECT_EQ(h.peer(p).stats().downloaded, SmallFile().length());
  }
  // Leechers traded among themselves: the seed did not upload everything.
  Bytes from_leechers = 0;
  for (size_t p = 1; p < h.size(); ++p) from_leechers += h.peer(p).stats().uploaded;
  EXPECT_GT(from_leechers, 0);
  // Byte conservation: everything uploaded was downloaded or wasted, once
  // the blocks in flight have landed.
  const Time end = h.now() + Duration::Seconds(5);
  h.RunUntil([&] { return h.now() >= end; });
  for (const auto& [who, d] : h.disconnects) {
    EXPECT_FALSE(IsProtocolViolation(d.reason)) << DisconnectReasonName(d.reason);
  }
  Bytes up = 0, down = 0;
  for (size_t p = 0; p < h.size(); ++p) {
    up += h.peer(p).stats().uploaded;
    down += h.peer(p).stats().downloaded + h.peer(p).stats().wasted;
  }
  EXPECT_EQ(up, down + h.lost_in_flight);
}

INSTANTIATE_TEST_SUITE_P(Seeds, MiniSwarmTest, ::testing::Values(1, 2, 3, 42));

TEST(SwarmTest, SameSeedSameTraceDifferentSeedDiffers) {
  auto run = [](uint64_t seed) {
    SwarmHarness::Options opt;
    opt.seed = seed;
    SwarmHarness h(SmallFile(), opt);
    h.AddPeer(true);
    for (int i = 0; i < 8; ++i) h.AddPeer(false, Time() + Duration::Millis(100 * i));
    h.RunUntil([&] { return h.AllComplete(); });
    return h.trace();
  };
  const std::string a = run(7), b = run(7), c = run(8);
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(SwarmTest, CorruptingPeerIsBannedAndDownloadStillCompletes) {
  SwarmHarness h(SmallFile(), {});
  h.AddPeer(true);               // honest seed
  h.AddPeer(true);               // seed that corrupts every block it sends
  h.CorruptPiecesFrom(1);
  for (int i = 0; i < 3; ++i) h.AddPeer(false, Time() + Duration::Millis(10));
  h.RunUntil([&] { return h.AllComplete(); });
  ASSERT_TRUE(h.AllComplete());
  bool banned_somewhere = false;
  for (size_t p = 2; p < h.size(); ++p) {
    banned_somewhere |= h.peer(p).is_banned(PeerId(1));
    EXPECT_FALSE(h.peer(p).is_banned(PeerId(0)));
  }
  EXPECT_TRUE(banned_somewhere);
  bool saw_hash_failure = false;
  for (const auto& [who, d] : h.disconnects) {
    saw_hash_failure |= d.reason == DisconnectReason::kHashFailure;
  }
  EXPECT_TRUE(saw_hash_failure);
}


// Every strategy must still deliver the file to everyone.
class ChokerSwarmTest : public ::testing::TestWithParam<ChokerKind> {};

TEST_P(ChokerSwarmTest, AllComplete) {
  SwarmHarness::Options opt;
  opt.config.choker = GetParam();
  opt.config.upload_capacity = opt.upload;
  SwarmHarness h(SmallFile(), opt);
  h.AddPeer(true);
  for (int i = 0; i < 8; ++i) h.AddPeer(false, Time() + Duration::Millis(100 * i));
  h.RunUntil([&] { return h.AllComplete(); });
  EXPECT_TRUE(h.AllComplete()) << Name(GetParam());
}

// Every choker the core has a name for, so a new one is tested here too.
std::vector<ChokerKind> AllChokers() {
  std::vector<ChokerKind> all;
  for (std::string_view name : ChokerKindNames()) all.push_back(*ParseChokerKind(name));
  return all;
}

INSTANTIATE_TEST_SUITE_P(Kinds, ChokerSwarmTest, ::testing::ValuesIn(AllChokers()),
                         [](const auto& info) { return std::string(Name(info.param)); });

// Every piece-selection policy must deliver the file to everyone too, from
// the first piece on (no random first pieces).
class PieceSelectionSwarmTest : public ::testing::TestWithParam<PieceSelection> {};

TEST_P(PieceSelectionSwarmTest, AllComplete) {
  SwarmHarness::Options opt;
  opt.config.piece_selection = GetParam();
  opt.config.random_first_pieces = 0;
  SwarmHarness h(SmallFile(), opt);
  h.AddPeer(true);
  for (int i = 0; i < 8; ++i) h.AddPeer(false, Time() + Duration::Millis(100 * i));
  h.RunUntil([&] { return h.AllComplete(); });
  EXPECT_TRUE(h.AllComplete()) << Name(GetParam());
}

std::vector<PieceSelection> AllPieceSelections() {
  std::vector<PieceSelection> all;
  for (std::string_view name : PieceSelectionNames()) all.push_back(*ParsePieceSelection(name));
  return all;
}

INSTANTIATE_TEST_SUITE_P(Kinds, PieceSelectionSwarmTest, ::testing::ValuesIn(AllPieceSelections()),
                         [](const auto& info) { return std::string(Name(info.param)); });

TEST(SwarmTest, FreeRiderStillFinishesThroughOthers) {
  SwarmHarness h(SmallFile(), {});
  h.AddPeer(true);
  PeerConfig rider;
  rider.free_rider = true;
  for (int i = 0; i < 4; ++i) h.AddPeer(false, Time());
  const size_t r = h.AddPeer(false, Time(), rider);
  h.RunUntil([&] { return h.AllComplete(); });
  ASSERT_TRUE(h.AllComplete());
  EXPECT_EQ(h.peer(r).stats().uploaded, 0);
}

// BEP 16: a super-seed uploads little more than one copy before the first
// leecher completes; a normal seed sends many pieces more than once.
TEST(SwarmTest, SuperSeedingSendsFewerDuplicatePieces) {
  auto seed_upload_at_first_completion = [](bool super) {
    SwarmHarness::Options opt;
    SwarmHarness h(SmallFile(), opt);
    PeerConfig seed_cfg;
    seed_cfg.super_seeding = super;
    h.AddPeer(true, Time(), seed_cfg);
    for (int i = 0; i < 8; ++i) h.AddPeer(false, Time());
    h.RunUntil([&] { return !h.completed_at.empty(); });
    EXPECT_FALSE(h.completed_at.empty());
    return double(h.peer(0).stats().uploaded) / SmallFile().length();
  };
  const double normal = seed_upload_at_first_completion(false);
  const double super = seed_upload_at_first_completion(true);
  EXPECT_LT(super, normal);
  EXPECT_LE(super, 1.2);
}

TEST(SwarmTest, SuperSeedSwarmCompletes) {
  SwarmHarness h(SmallFile(), {});
  PeerConfig seed_cfg;
  seed_cfg.super_seeding = true;
  h.AddPeer(true, Time(), seed_cfg);
  for (int i = 0; i < 8; ++i) h.AddPeer(false, Time());
  h.RunUntil([&] { return h.AllComplete(); });
  EXPECT_TRUE(h.AllComplete());
}

// BEP 16 with a single leecher: the super-seed reveals the next piece once
// the leecher announces the last one, so the leecher must announce pieces
// to the very neighbour that revealed them. It used to finish a few pieces
// and then wait for good.
TEST(SwarmTest, ASuperSeedAloneWithOneLeecherCompletesIt) {
  SwarmHarness h(SmallFile(), {});
  PeerConfig seed_cfg;
  seed_cfg.super_seeding = true;
  h.AddPeer(true, Time(), seed_cfg);
  h.AddPeer(false, Time() + Duration::Seconds(1));
  const Time limit = Time() + Duration::Seconds(600);
  h.RunUntil([&] { return h.AllComplete() || h.now() > limit; });
  EXPECT_TRUE(h.AllComplete()) << h.peer(1).have().ToString();
}

// Two leechers with nothing yet and no seed: neither is interested in the
// other, and nobody needs the connection's slot, so it stays open. Both
// ends must keep it alive: Housekeeping used to skip the keep-alive of an
// idle connection, and each end dropped the other as inactive.
TEST(SwarmTest, AnIdleConnectionIsKeptAliveByBothEnds) {
  SwarmHarness h(SmallFile(), {});
  h.AddPeer(false);
  h.AddPeer(false, Time() + Duration::Seconds(1));
  const PeerConfig cfg;
  ASSERT_GT(cfg.idle_timeout, Duration::Zero());
  // Idle from the start: past idle_timeout, and past inactivity_timeout
  // after that several times over.
  const Time limit = Time() + cfg.idle_timeout + Duration::Seconds(1200);
  h.RunUntil([&] { return h.now() > limit; });
  EXPECT_EQ(h.peer(0).connection_count(), 1u);
  EXPECT_EQ(h.peer(1).connection_count(), 1u);
  for (const auto& [who, d] : h.disconnects) {
    ADD_FAILURE() << "p" << who << " dropped c" << d.conn.value() << " as "
                  << DisconnectReasonName(d.reason);
  }
  EXPECT_NE(h.trace().find("keep_alive"), std::string::npos);
}

}  // namespace
}  // namespace swarm::core
