#include "core/choker.h"

#include <algorithm>
#include <map>

#include <gtest/gtest.h>

namespace swarm::core {
namespace {

ChokeCandidate Cand(uint64_t id, double down_kbps, double up_kbps = 0,
                    bool interested = true) {
  ChokeCandidate c;
  c.conn = ConnectionId(id);
  c.interested = interested;
  c.download_rate = Rate::BytesPerSecond(down_kbps * 1000);
  c.upload_rate = Rate::BytesPerSecond(up_kbps * 1000);
  return c;
}

bool Has(const ChokeDecision& d, uint64_t id) {
  return std::find(d.unchoke.begin(), d.unchoke.end(), ConnectionId(id)) != d.unchoke.end();
}

TEST(ChokerTest, TitForTatUnchokesBestReciprocatorsPlusOptimistic) {
  PeerConfig cfg;  // 4 slots: 3 regular + 1 optimistic
  Choker choker(cfg);
  Rng rng(1);
  std::vector<ChokeCandidate> c = {Cand(1, 10), Cand(2, 50), Cand(3, 5), Cand(4, 40),
                                   Cand(5, 30), Cand(6, 0, 0, false)};
  ChokeDecision d = choker.Rechoke(c, /*seed=*/false, RechokeKind::kOptimistic, rng);
  EXPECT_TRUE(Has(d, 2) && Has(d, 4) && Has(d, 5));
  ASSERT_TRUE(d.optimistic.has_value());
  EXPECT_TRUE(*d.optimistic == ConnectionId(1) || *d.optimistic == ConnectionId(3));
  EXPECT_EQ(d.unchoke.size(), 4u);
  EXPECT_FALSE(Has(d, 6));  // not interested
}

// tit_for_tat fills its 3 regular slots whatever the peers gave, drawing
// among those that gave nothing; mainline_tit_for_tat gives them only to
// peers that gave something, and while none has, to one peer drawn from
// the rest (2 unchoked in all with the optimistic one, as mainline 4.x).
TEST(ChokerTest, MainlineTitForTatKeepsRegularSlotsForPeersThatGave) {
  PeerConfig tft;
  PeerConfig mainline;
  mainline.choker = ChokerKind::kMainlineTitForTat;
  Rng rng(1);
  const std::vector<ChokeCandidate> one_gives = {Cand(1, 0), Cand(2, 20), Cand(3, 0),
                                                 Cand(4, 0), Cand(5, 0)};
  EXPECT_EQ(Choker(tft).Rechoke(one_gives, false, RechokeKind::kOptimistic, rng).unchoke.size(),
            4u);
  {
    Choker choker(mainline);
    const ChokeDecision& d = choker.Rechoke(one_gives, false, RechokeKind::kOptimistic, rng);
    EXPECT_TRUE(Has(d, 2));
    ASSERT_TRUE(d.optimistic.has_value());
    EXPECT_NE(*d.optimistic, ConnectionId(2));
    EXPECT_EQ(d.unchoke.size(), 2u) << "a zero-rate peer got a regular slot";
  }
  const std::vector<ChokeCandidate> none_gives = {Cand(1, 0), Cand(2, 0), Cand(3, 0),
                                                  Cand(4, 0), Cand(5, 0)};
  std::map<uint64_t, int> regular;
  for (int i = 0; i < 40; ++i) {
    Choker choker(mainline);
    const ChokeDecision& d = choker.Rechoke(none_gives, false, RechokeKind::kOptimistic, rng);
    ASSERT_EQ(d.unchoke.size(), 2u);
    for (ConnectionId id : d.unchoke) {
      if (id != *d.optimistic) regular[id.value()]++;
    }
  }
  EXPECT_EQ(regular.size(), 5u);  // the one regular slot is drawn, not fixed
  // A seed ranks by its upload rate as under tit_for_tat.
  Choker seed(mainline);
  EXPECT_EQ(seed.Rechoke(none_gives, true, RechokeKind::kOptimistic, rng).unchoke.size(), 4u);
}

TEST(ChokerTest, SnubbedPeersLoseRegularSlots) {
  Choker choker(PeerConfig{});
  Rng rng(1);
  std::vector<ChokeCandidate> c = {Cand(1, 100), Cand(2, 50), Cand(3, 40), Cand(4, 30)};
  c[0].snubbed = true;
  ChokeDecision d = choker.Rechoke(c, false, RechokeKind::kOptimistic, rng);
  EXPECT_TRUE(Has(d, 2) && Has(d, 3) && Has(d, 4));
  EXPECT_EQ(d.optimistic, ConnectionId(1));  // only the optimistic slot is left
}

TEST(ChokerTest, OptimisticSlotIsKeptUntilRotation) {
  Choker choker(PeerConfig{});
  Rng rng(3);
  std::vector<ChokeCandidate> c = {Cand(1, 90), Cand(2, 80), Cand(3, 70), Cand(4, 0),
                                   Cand(5, 0), Cand(6, 0)};
  c[4].optimistic = true;
  c[4].unchoked = true;
  ChokeDecision d = choker.Rechoke(c, false, RechokeKind::kRound, rng);
  EXPECT_EQ(d.optimistic, ConnectionId(5));
  // Over many rotations every choked peer gets its turn.
  std::map<uint64_t, int> turns;
  for (int i = 0; i < 60; ++i) turns[choker.Rechoke(c, false, RechokeKind::kOptimistic, rng).optimistic->value()]++;
  EXPECT_EQ(turns.size(), 3u);
}

TEST(ChokerTest, NewPeersAreFavouredForOptimisticUnchoke) {
  Choker choker(PeerConfig{});
  Rng rng(9);
  std::vector<ChokeCandidate> c = {Cand(1, 90), Cand(2, 80), Cand(3, 70), Cand(4, 0),
                                   Cand(5, 0)};
  c[4].is_new = true;
  int new_wins = 0;
  for (int i = 0; i < 4000; ++i) new_wins += choker.Rechoke(c, false, RechokeKind::kOptimistic, rng).optimistic == ConnectionId(5);
  EXPECT_NEAR(new_wins / 4000.0, 0.75, 0.03);  // weight 3 against 1
}

TEST(ChokerTest, SeedRanksByUploadRate) {
  Choker choker(PeerConfig{});
  Rng rng(1);
  std::vector<ChokeCandidate> c = {Cand(1, 0, 5), Cand(2, 0, 500), Cand(3, 0, 300),
                                   Cand(4, 0, 400), Cand(5, 0, 1)};
  ChokeDecision d = choker.Rechoke(c, /*seed=*/true, RechokeKind::kOptimistic, rng);
  EXPECT_TRUE(Has(d, 2) && Has(d, 3) && Has(d, 4));
}

TEST(ChokerTest, RoundRobinRotatesThroughEveryone) {
  PeerConfig cfg;
  cfg.choker = ChokerKind::kRoundRobin;
  cfg.unchoke_slots = 2;
  Choker choker(cfg);
  Rng rng(1);
  std::vector<ChokeCandidate> c = {Cand(1, 99), Cand(2, 0), Cand(3, 0), Cand(4, 0, 0, false),
                                   Cand(5, 0)};
  auto d1 = choker.Rechoke(c, false, RechokeKind::kOptimistic, rng);
  auto d2 = choker.Rechoke(c, false, RechokeKind::kOptimistic, rng);
  EXPECT_EQ(d1.unchoke, (std::vector<ConnectionId>{ConnectionId(1), ConnectionId(2)}));
  EXPECT_EQ(d2.unchoke, (std::vector<ConnectionId>{ConnectionId(3), ConnectionId(5)}));
  auto d3 = choker.Rechoke(c, false, RechokeKind::kOptimistic, rng);
  EXPECT_EQ(d3.unchoke, (std::vector<ConnectionId>{ConnectionId(1), ConnectionId(2)}));
}

TEST(ChokerTest, UnchokeAllAndFreeRider) {
  PeerConfig all;
  all.choker = ChokerKind::kUnchokeAll;
  Rng rng(1);
  std::vector<ChokeCandidate> c = {Cand(1, 0), Cand(2, 0), Cand(3, 0, 0, false), Cand(4, 0),
                                   Cand(5, 0), Cand(6, 0)};
  EXPECT_EQ(Choker(all).Rechoke(c, false, RechokeKind::kOptimistic, rng).unchoke.size(), 5u);
  PeerConfig rider;
  rider.free_rider = true;
  EXPECT_TRUE(Choker(rider).Rechoke(c, false, RechokeKind::kOptimistic, rng).unchoke.empty());
}


TEST(ChokerTest, PropShareWeightsByContribution) {
  PeerConfig cfg;
  cfg.choker = ChokerKind::kPropShare;
  Choker choker(cfg);
  Rng rng(1);
  std::vector<ChokeCandidate> c = {Cand(1, 30), Cand(2, 10), Cand(3, 0), Cand(4, 0)};
  ChokeDecision d = choker.Rechoke(c, false, RechokeKind::kOptimistic, rng);
  ASSERT_EQ(d.unchoke.size(), 3u);  // both contributors + one optimistic
  ASSERT_EQ(d.weight.size(), 3u);
  EXPECT_EQ(d.unchoke[0], ConnectionId(1));
  EXPECT_EQ(d.unchoke[1], ConnectionId(2));
  EXPECT_DOUBLE_EQ(d.weight[0] / d.weight[1], 3.0);
  // The optimistic share is the reserve: 10% of the 40 kB/s received.
  EXPECT_NEAR(d.weight[2], 4000, 1e-6);
  EXPECT_TRUE(*d.optimistic == ConnectionId(3) || *d.optimistic == ConnectionId(4));
}

TEST(ChokerTest, BitTyrantSpendsCapacityOnBestRatios) {
  PeerConfig cfg;
  cfg.choker = ChokerKind::kBitTyrant;
  cfg.upload_capacity = Rate::BytesPerSecond(100000);  // 4 slots: 25 kB/s each
  Choker choker(cfg);
  Rng rng(1);
  // Peers 1-3 reciprocate with different rates; 4-6 only announce pieces.
  std::vector<ChokeCandidate> c = {Cand(1, 50), Cand(2, 40), Cand(3, 5), Cand(4, 0),
                                   Cand(5, 0), Cand(6, 0)};
  for (int i = 0; i < 3; ++i) c[i].unchoking_us = true;
  c[3].announce_rate = Rate::BytesPerSecond(400000);
  ChokeDecision d = choker.Rechoke(c, false, RechokeKind::kOptimistic, rng);
  // Best expected download per upload first, until 100 kB/s is spent.
  // Peer 4 is expected to give 400/4 = 100 kB/s for 25: ratio 4, then 1
  // (ratio 2), 2 (1.6) and 3 (0.2); 5 and 6 promise nothing.
  ASSERT_EQ(d.unchoke.size(), 4u);
  EXPECT_EQ(d.unchoke, (std::vector<ConnectionId>{ConnectionId(4), ConnectionId(1),
                                                  ConnectionId(2), ConnectionId(3)}));
  EXPECT_EQ(d.weight[0], 25000);
  // A peer we unchoked that does not reciprocate costs 20% more next round.
  c[3].unchoked = true;
  ChokeDecision d2 = choker.Rechoke(c, false, RechokeKind::kOptimistic, rng);
  auto it = std::find(d2.unchoke.begin(), d2.unchoke.end(), ConnectionId(4));
  ASSERT_NE(it, d2.unchoke.end());
  EXPECT_DOUBLE_EQ(d2.weight[it - d2.unchoke.begin()], 30000);
}

// BitTyrant's estimates move once per round. A rechoke between rounds (a
// slot fell free, a peer became interested) must not count as one: a peer
// that does not reciprocate would otherwise cost 20% more at every such
// event, so the estimates would drift with how often peers come and go.
TEST(ChokerTest, BitTyrantLearnsOnlyAtTheEndOfARound) {
  PeerConfig cfg;
  cfg.choker = ChokerKind::kBitTyrant;
  cfg.upload_capacity = Rate::BytesPerSecond(100000);  // 4 slots: 25 kB/s each
  Choker choker(cfg);
  Rng rng(1);
  std::vector<ChokeCandidate> c = {Cand(1, 50), Cand(2, 0)};
  c[0].unchoking_us = true;
  c[1].announce_rate = Rate::BytesPerSecond(400000);
  c[1].unchoked = true;  // served, but gives nothing back
  auto weight_of = [](const ChokeDecision& d, uint64_t id) {
    auto it = std::find(d.unchoke.begin(), d.unchoke.end(), ConnectionId(id));
    return it == d.unchoke.end() ? 0.0 : d.weight[it - d.unchoke.begin()];
  };
  EXPECT_DOUBLE_EQ(weight_of(choker.Rechoke(c, false, RechokeKind::kRound, rng), 2), 30000);
  for (int i = 0; i < 3; ++i) {
    EXPECT_DOUBLE_EQ(weight_of(choker.Rechoke(c, false, RechokeKind::kSlotFreed, rng), 2),
                     30000);
  }
  EXPECT_DOUBLE_EQ(weight_of(choker.Rechoke(c, false, RechokeKind::kRound, rng), 2), 36000);
}

TEST(ChokerTest, BitTyrantWithoutCapacityFallsBackToTitForTat) {
  PeerConfig cfg;
  cfg.choker = ChokerKind::kBitTyrant;
  Choker choker(cfg);
  Rng rng(1);
  std::vector<ChokeCandidate> c = {Cand(1, 50), Cand(2, 40), Cand(3, 5), Cand(4, 0)};
  ChokeDecision d = choker.Rechoke(c, false, RechokeKind::kOptimistic, rng);
  EXPECT_TRUE(d.weight.empty());
  EXPECT_EQ(d.unchoke.size(), 4u);
}

}  // namespace
}  // namespace swarm::core
