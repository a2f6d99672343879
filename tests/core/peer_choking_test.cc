// How a Peer applies its choker between rechoke intervals, when an upload
// slot falls free or a new peer asks: who is unchoked at once and who keeps
// what it holds.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>

#include "core/peer.h"
#include "tests/core/printers.h"

namespace swarm::core {
namespace {

constexpr Bytes kPiece = 32 * kKiB;  // two 16 KiB blocks

class PeerChokingTest : public ::testing::Test {
 protected:
  const TorrentInfo torrent_ = TorrentInfo::Synthetic("t.bin", 8 * kPiece, kPiece);
  Time now_ = Time() + Duration::Seconds(1);

  static PeerConfig Sequential() {
    PeerConfig c;
    c.piece_selection = PieceSelection::kSequential;
    c.random_first_pieces = 0;
    c.request_pipeline = 1;
    return c;
  }
  std::unique_ptr<Peer> Make(const char* have, const PeerConfig& config, uint64_t seed = 1) {
    auto p = std::make_unique<Peer>(PeerId(1000), torrent_, config, Rng(seed));
    p->OnStart(now_, Bitfield::FromString(have));
    p->TakeActions();
    return p;
  }
  // Connection i reaches peer i (ids from 1).
  void Handshaken(Peer& p, uint64_t i) {
    p.OnConnected(now_, ConnectionId(i), Direction::kInbound, std::nullopt);
    p.OnMessage(now_, ConnectionId(i), Handshake{torrent_.info_hash(), PeerId(i)});
    p.TakeActions();
  }
  // Neighbour i (Handshaken) has the second half of the 8-piece torrent,
  // unchokes us and sends the first block we ask of it.
  void GaveUsABlock(Peer& p, uint64_t i) {
    const ConnectionId c(i);
    Handshaken(p, i);
    p.OnMessage(now_, c, Bits("00001111"));
    p.OnMessage(now_, c, Unchoke{});
    std::optional<BlockRef> asked;
    for (const Action& a : p.TakeActions()) {
      if (auto* s = std::get_if<SendMessage>(&a); s && s->conn == c) {
        if (auto* r = std::get_if<Request>(&s->message); r && !asked) asked = r->block;
      }
    }
    ASSERT_TRUE(asked.has_value()) << i;
    p.OnMessage(now_, c, Piece{*asked});
    p.TakeActions();
  }
  static BitfieldMessage Bits(const char* s) {
    return BitfieldMessage{Bitfield::FromString(s).ToWire()};
  }
  // The connections that were sent an M.
  template <typename M>
  static std::vector<ConnectionId> Sent(const std::vector<Action>& acts) {
    std::vector<ConnectionId> out;
    for (const Action& a : acts) {
      if (auto* s = std::get_if<SendMessage>(&a); s && std::holds_alternative<M>(s->message)) {
        out.push_back(s->conn);
      }
    }
    return out;
  }
};

// Tit-for-tat ranks by rate and breaks ties at random. At the rechoke
// interval that is the point (peers that gave nothing take turns); but when
// a slot falls free in between, a fresh draw among equally fast peers used
// to choke peers still holding their slots and unchoke others in their
// place. Filling a freed slot now leaves every holder that is still
// interested unchoked, over any RNG stream.
TEST_F(PeerChokingTest, FillingAFreedSlotKeepsEqualHoldersUnchoked) {
  PeerConfig cfg = Sequential();  // 4 slots: 3 regular + 1 optimistic
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE(seed);
    auto p = Make("11111111", cfg, seed);
    std::vector<ConnectionId> unchoked;
    // Eight interested leechers, none of which has given us anything.
    for (uint64_t i = 1; i <= 8; ++i) {
      Handshaken(*p, i);
      p->OnMessage(now_, ConnectionId(i), Interested{});
      for (ConnectionId c : Sent<Unchoke>(p->TakeActions())) unchoked.push_back(c);
    }
    ASSERT_EQ(unchoked.size(), 4u);
    ASSERT_EQ(p->unchoked_count(), 4u);
    // One holder after another loses interest and asks again later.
    Time t = now_;
    for (int round = 0; round < 6; ++round) {
      t = t + Duration::Millis(100);
      const ConnectionId leaving = unchoked[round % unchoked.size()];
      p->OnMessage(t, leaving, NotInterested{});
      const auto acts = p->TakeActions();
      for (ConnectionId c : Sent<Choke>(acts)) {
        EXPECT_EQ(c, leaving) << "round " << round << ": choked a holder still interested";
      }
      const auto fresh = Sent<Unchoke>(acts);
      ASSERT_EQ(fresh.size(), 1u) << "round " << round;
      std::replace(unchoked.begin(), unchoked.end(), leaving, fresh[0]);
      EXPECT_EQ(p->unchoked_count(), 4u);
      p->OnMessage(t, leaving, Interested{});  // slots full: waits
      EXPECT_TRUE(p->TakeActions().empty());
    }
  }
}

// A neighbour we drop ourselves while it holds an upload slot (it told us
// of its last piece before losing interest, or broke the protocol) frees
// that slot as one that leaves does: another interested peer is unchoked at
// once. It used to wait for the next rechoke, up to 10 s of a slot lost on
// every ban or duplicate (and, once every neighbour hears of every piece,
// on every completed leecher a seed drops).
TEST_F(PeerChokingTest, ASlotFreedByOurOwnDropIsFilledAtOnce) {
  const PeerConfig cfg = Sequential();  // 4 slots
  for (int how = 0; how < 2; ++how) {
    SCOPED_TRACE(how == 0 ? "completed" : "protocol violation");
    auto p = Make("11111111", cfg);
    std::vector<ConnectionId> unchoked;
    // Eight interested leechers, each lacking only piece 7.
    for (uint64_t i = 1; i <= 8; ++i) {
      Handshaken(*p, i);
      p->OnMessage(now_, ConnectionId(i), Bits("11111110"));
      p->OnMessage(now_, ConnectionId(i), Interested{});
      for (ConnectionId c : Sent<Unchoke>(p->TakeActions())) unchoked.push_back(c);
    }
    ASSERT_EQ(unchoked.size(), 4u);
    const ConnectionId holder = unchoked[0];
    if (how == 0) {
      p->OnMessage(now_, holder, Have{PieceIndex(7)});  // complete: not useful
    } else {
      p->OnMessage(now_, holder, Have{PieceIndex(99)});  // out of range
    }
    const auto acts = p->TakeActions();
    ASSERT_FALSE(acts.empty());
    ASSERT_TRUE(std::holds_alternative<Disconnect>(acts.front())) << ToString(acts.front());
    EXPECT_EQ(std::get<Disconnect>(acts.front()).conn, holder);
    const auto fresh = Sent<Unchoke>(acts);
    ASSERT_EQ(fresh.size(), 1u);
    EXPECT_EQ(std::count(unchoked.begin(), unchoked.end(), fresh[0]), 0);
    EXPECT_EQ(p->unchoked_count(), 4u);
  }
}

// propshare serves every interested peer that gave us something, whatever
// unchoke_slots says (the slots only bound the tit-for-tat start). A
// contributor that became interested once `unchoke_slots` peers were served
// used to wait for the next rechoke, up to 10 s, because filling free slots
// stopped at unchoke_slots for every choker.
TEST_F(PeerChokingTest, PropShareServesANewlyInterestedContributorAtOnce) {
  PeerConfig cfg = Sequential();
  cfg.choker = ChokerKind::kPropShare;
  cfg.unchoke_slots = 2;
  cfg.upload_capacity = Rate::BytesPerSecond(100000);
  auto p = Make("11110000", cfg);
  // Three neighbours with what we lack; each sends us the block we ask for.
  for (uint64_t i = 1; i <= 3; ++i) {
    GaveUsABlock(*p, i);
  }
  // They want our pieces too: all three gave, so all three are served.
  std::vector<ConnectionId> unchoked;
  for (uint64_t i = 1; i <= 3; ++i) {
    p->OnMessage(now_, ConnectionId(i), Interested{});
    for (ConnectionId c : Sent<Unchoke>(p->TakeActions())) unchoked.push_back(c);
  }
  EXPECT_EQ(unchoked, (std::vector<ConnectionId>{ConnectionId(1), ConnectionId(2),
                                                 ConnectionId(3)}));
  EXPECT_EQ(p->unchoked_count(), 3u);
}

// propshare (and bittyrant) hand a finished upload's turn to the next
// connection in line. Stopping drops every connection in turn, and the
// first dropped while its block was in flight used to hand its turn on:
// a SendBlock to a connection that the very next action closed.
TEST_F(PeerChokingTest, StoppingSendsNoBlockOnTheConnectionsItCloses) {
  PeerConfig cfg = Sequential();
  cfg.choker = ChokerKind::kPropShare;
  cfg.upload_capacity = Rate::BytesPerSecond(100000);
  auto p = Make("11110000", cfg);
  // Two neighbours that gave us a block each, so propshare serves both.
  for (uint64_t i = 1; i <= 2; ++i) {
    GaveUsABlock(*p, i);
    p->OnMessage(now_, ConnectionId(i), Interested{});
  }
  ASSERT_EQ(p->unchoked_count(), 2u);
  p->TakeActions();
  // One block in flight (uploads_in_flight is 1), to 1; 2's request waits.
  const BlockRef first{PieceIndex(0), 0, 16384}, second{PieceIndex(1), 0, 16384};
  p->OnMessage(now_, ConnectionId(1), Request{first});
  p->OnMessage(now_, ConnectionId(2), Request{second});
  ASSERT_EQ(p->TakeActions(), (std::vector<Action>{SendBlock{ConnectionId(1), first}}));
  p->OnStop(now_);
  EXPECT_EQ(p->TakeActions(),
            (std::vector<Action>{Announce{AnnounceEvent::kStopped, 0, 2 * 16 * kKiB, 4 * kPiece, 0},
                                 Disconnect{ConnectionId(1), DisconnectReason::kShutdown},
                                 Disconnect{ConnectionId(2), DisconnectReason::kShutdown}}));
}

// Round-robin serves `unchoke_slots` interested peers in turn. A peer that
// lost interest keeps its unchoke (nothing to send it anyway) and its slot
// goes to the next peer that asks; when the first became interested again
// (we got a piece it lacks) it used to hold a slot on top of them: more
// peers served than unchoke_slots until the next rechoke. It waits for its
// next turn now.
TEST_F(PeerChokingTest, RoundRobinServesNoMoreThanItsSlotsWhenInterestReturns) {
  PeerConfig cfg = Sequential();
  cfg.choker = ChokerKind::kRoundRobin;
  cfg.unchoke_slots = 2;
  auto p = Make("11110000", cfg);
  for (uint64_t i = 1; i <= 3; ++i) {
    Handshaken(*p, i);
    p->OnMessage(now_, ConnectionId(i), Bits("00000000"));
  }
  p->OnMessage(now_, ConnectionId(1), Interested{});
  p->OnMessage(now_, ConnectionId(2), Interested{});
  p->OnMessage(now_, ConnectionId(1), NotInterested{});
  p->OnMessage(now_, ConnectionId(3), Interested{});
  ASSERT_EQ(Sent<Unchoke>(p->TakeActions()),
            (std::vector<ConnectionId>{ConnectionId(1), ConnectionId(2), ConnectionId(3)}));
  p->OnMessage(now_, ConnectionId(1), Interested{});
  EXPECT_EQ(Sent<Choke>(p->TakeActions()), (std::vector<ConnectionId>{ConnectionId(1)}));
  EXPECT_EQ(p->unchoked_count(), 2u);
}

}  // namespace
}  // namespace swarm::core
