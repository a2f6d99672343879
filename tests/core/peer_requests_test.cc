// Where requests go when something changes under them: a refused dial, a
// timeout, the start of end-game, a cancel, a late block, a freed slot of a
// round-robin seed. Each test fails without the fix it is named after.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/peer.h"
#include "tests/core/printers.h"

namespace swarm::core {
namespace {

constexpr Bytes kPiece = 32 * kKiB;  // two 16 KiB blocks

BlockRef Blk(uint32_t piece, uint32_t index) {
  return BlockRef{PieceIndex(piece), index * 16384u, 16384u};
}

class PeerRequestsTest : public ::testing::Test {
 protected:
  const TorrentInfo torrent_ = TorrentInfo::Synthetic("t.bin", 8 * kPiece, kPiece);
  const ConnectionId c1_{1}, c2_{2}, c3_{3}, c4_{4};
  const PeerId self_{100}, a_{7}, b_{8}, c_{9}, d_{10};
  Time now_ = Time() + Duration::Seconds(1);

  static PeerConfig Sequential(uint32_t pipeline = 5) {
    PeerConfig c;
    c.piece_selection = PieceSelection::kSequential;
    c.random_first_pieces = 0;
    c.request_pipeline = pipeline;
    return c;
  }
  std::unique_ptr<Peer> Make(const Bitfield& have, const PeerConfig& config) {
    auto p = std::make_unique<Peer>(self_, torrent_, config, Rng(1));
    p->OnStart(now_, have);
    p->TakeActions();
    return p;
  }
  std::unique_ptr<Peer> Make(bool seed, const PeerConfig& config) {
    return Make(Bitfield(torrent_.piece_count(), seed), config);
  }
  // All pieces but 6 and 7.
  Bitfield AllBut6And7() const {
    Bitfield have(torrent_.piece_count(), true);
    have.Clear(6);
    have.Clear(7);
    return have;
  }
  // One step of a wait in which c1 and c2 stay alive and say nothing else:
  // to the next timeout, their keep-alives first; the actions are dropped.
  void QuietStep(Peer& p) {
    now_ = *p.NextTimeout();
    p.OnMessage(now_, c1_, KeepAlive{});
    p.OnMessage(now_, c2_, KeepAlive{});
    p.OnTimeout(now_);
    p.TakeActions();
  }
  void Handshaken(Peer& p, ConnectionId c, PeerId who) {
    p.OnConnected(now_, c, Direction::kInbound, std::nullopt);
    p.OnMessage(now_, c, Handshake{torrent_.info_hash(), who});
    p.TakeActions();
  }
  static BitfieldMessage Bits(const char* s) {
    return BitfieldMessage{Bitfield::FromString(s).ToWire()};
  }
  static std::vector<BlockRef> RequestsOn(const std::vector<Action>& acts, ConnectionId c) {
    std::vector<BlockRef> out;
    for (const Action& a : acts) {
      if (auto* s = std::get_if<SendMessage>(&a); s && s->conn == c) {
        if (auto* r = std::get_if<Request>(&s->message)) out.push_back(r->block);
      }
    }
    return out;
  }
  template <typename M>
  static int Count(const std::vector<Action>& acts, ConnectionId except = ConnectionId(0)) {
    int n = 0;
    for (const Action& a : acts) {
      if (auto* s = std::get_if<SendMessage>(&a);
          s && s->conn != except && std::holds_alternative<M>(s->message)) {
        ++n;
      }
    }
    return n;
  }
};

// A dialled peer that closes before its handshake (it was full) used to stay
// "known" for good, so the tracker could offer it again and again in vain.
TEST_F(PeerRequestsTest, PeerThatRefusedUsIsDialledAgainWhenOfferedAgain) {
  auto p = Make(false, Sequential());
  AnnounceResponse r;
  r.peers = {PeerAddress{a_, ""}};
  p->OnTrackerResponse(now_, r);
  EXPECT_EQ(p->TakeActions(), (std::vector<Action>{Connect{PeerAddress{a_, ""}}}));
  p->OnConnected(now_, c1_, Direction::kOutbound, a_);
  p->TakeActions();
  p->OnDisconnected(now_ + Duration::Millis(20), c1_);
  p->TakeActions();
  p->OnTrackerResponse(now_ + Duration::Seconds(120), r);
  EXPECT_EQ(p->TakeActions(), (std::vector<Action>{Connect{PeerAddress{a_, ""}}}));
}

// ... but a duplicate connection dropped in the handshake (both sides dialled)
// must not make it forget a peer the kept connection still reaches.
TEST_F(PeerRequestsTest, ADroppedDuplicateKeepsThePeerKnown) {
  PeerConfig cfg = Sequential();
  auto p = Make(false, cfg);
  AnnounceResponse r;
  r.peers = {PeerAddress{a_, ""}};
  p->OnTrackerResponse(now_, r);
  ASSERT_EQ(p->TakeActions(), (std::vector<Action>{Connect{PeerAddress{a_, ""}}}));
  Handshaken(*p, c2_, a_);  // its inbound connection is kept (a_ < self_)
  p->OnConnected(now_, c3_, Direction::kOutbound, a_);
  p->OnMessage(now_, c3_, Handshake{torrent_.info_hash(), a_});  // our dial: the duplicate
  p->TakeActions();
  ASSERT_EQ(p->connection_count(), 1u);
  p->OnTrackerResponse(now_ + Duration::Seconds(60), r);
  for (const Action& act : p->TakeActions()) {
    EXPECT_FALSE(std::holds_alternative<Connect>(act)) << "dials a peer it is connected to";
  }
}

// At a request timeout the given-up blocks used to be asked of the same
// unresponsive neighbour again at once (it came first in connection order).
// Now they go to one that answers, and the snubbing one gets one block.
TEST_F(PeerRequestsTest, TimedOutBlocksGoToAResponsiveNeighbour) {
  const PeerConfig cfg = Sequential(/*pipeline=*/2);
  auto p = Make(false, cfg);
  Handshaken(*p, c1_, a_);
  Handshaken(*p, c2_, b_);
  p->OnMessage(now_, c1_, Bits("11111111"));
  p->OnMessage(now_, c1_, Unchoke{});  // c1 gets piece 0
  p->OnMessage(now_, c2_, Bits("10000000"));
  p->OnMessage(now_, c2_, Unchoke{});  // c2 has only piece 0: nothing left to ask
  auto first = p->TakeActions();
  ASSERT_EQ(RequestsOn(first, c1_), (std::vector<BlockRef>{Blk(0, 0), Blk(0, 1)}));
  ASSERT_TRUE(RequestsOn(first, c2_).empty());
  // Both stay alive (keep-alives) but c1 never answers.
  std::vector<Action> at_timeout;
  Time t = now_;
  while (RequestsOn(at_timeout, c2_).empty() && t < now_ + cfg.request_timeout * 2) {
    t = *p->NextTimeout();
    p->OnMessage(t, c1_, KeepAlive{});
    p->OnMessage(t, c2_, KeepAlive{});
    p->OnTimeout(t);
    at_timeout = p->TakeActions();
  }
  EXPECT_EQ(RequestsOn(at_timeout, c2_), (std::vector<BlockRef>{Blk(0, 0), Blk(0, 1)}));
  const auto again = RequestsOn(at_timeout, c1_);
  ASSERT_LE(again.size(), 1u) << "a snubbing neighbour gets one request at a time";
  if (!again.empty()) {
    EXPECT_NE(again[0].piece, PieceIndex(0));
  }
  EXPECT_EQ(p->IdleConnections(), 0u);
}

// A neighbour that snubs us for over an hour makes us give up more
// requests than we remember by block (64). Its answer to one of them, held
// up on the way, used to be taken for an unrequested block and the
// neighbour was dropped. Now such a block is discarded while requests
// pushed out of the list lately are unanswered: one unknown block per
// request forgotten within the last stale epoch or two, and no more.
TEST_F(PeerRequestsTest, ALateAnswerAfterALongSnubIsNotUnrequested) {
  const PeerConfig cfg = Sequential();
  auto p = Make(false, cfg);
  Handshaken(*p, c1_, a_);
  p->OnMessage(now_, c1_, Bits("11111111"));
  p->OnMessage(now_, c1_, Unchoke{});
  ASSERT_EQ(RequestsOn(p->TakeActions(), c1_),
            (std::vector<BlockRef>{Blk(0, 0), Blk(0, 1), Blk(1, 0), Blk(1, 1), Blk(2, 0)}));
  // It stays alive (keep-alives) and never answers: every request timeout
  // gives up what is in flight (one block once it is snubbed) with a Cancel.
  std::vector<Time> cancelled_at;  // one per request given up
  while (cancelled_at.size() < 90) {
    now_ = *p->NextTimeout();
    p->OnMessage(now_, c1_, KeepAlive{});
    p->OnTimeout(now_);
    const auto acts = p->TakeActions();
    for (const Action& a : acts) {
      ASSERT_FALSE(std::holds_alternative<Disconnect>(a)) << ToString(a);
    }
    cancelled_at.insert(cancelled_at.end(), Count<Cancel>(acts), now_);
  }
  ASSERT_GT(now_ - (Time() + Duration::Seconds(1)), cfg.request_timeout * 80);
  // The snubbed connection asks for one block at a time, always 0/0 (the
  // first the picker has): 0/1 was given up once, in the first timeout,
  // and has long left the remembered stale requests.
  p->OnMessage(now_, c1_, Piece{Blk(0, 1)});
  for (const Action& a : p->TakeActions()) {
    EXPECT_FALSE(std::holds_alternative<Disconnect>(a)) << ToString(a);
    EXPECT_FALSE(std::holds_alternative<StoreBlock>(a)) << ToString(a);
  }
  EXPECT_EQ(p->stats().wasted, 16384);
  EXPECT_EQ(p->stats().protocol_disconnects, 0u);
  // Request k > 64 was pushed out of the list by request k. Those pushed
  // out within the last epoch are still excused; none pushed out two
  // epochs ago is (epoch boundaries fall on housekeeping rounds, so an
  // epoch may be a round longer).
  const Duration epoch = cfg.inactivity_timeout;
  const Duration longest = (epoch + cfg.housekeeping_interval) * 2;
  int surely = 0, at_most = 0;
  for (size_t k = 64; k < cancelled_at.size(); ++k) {
    surely += now_ - cancelled_at[k] < epoch;
    at_most += now_ - cancelled_at[k] < longest;
  }
  ASSERT_LT(at_most, static_cast<int>(cancelled_at.size()) - 64) << "nothing expired yet";
  // A neighbour cannot use that to push data: it may send one unknown
  // block per excused request (0/1 was one), then the next one is
  // unrequested.
  int taken = 1;
  for (; taken <= static_cast<int>(cancelled_at.size()); ++taken) {
    p->OnMessage(now_, c1_, Piece{Blk(7, 1)});
    const auto acts = p->TakeActions();
    if (acts.empty()) continue;
    EXPECT_EQ(acts, (std::vector<Action>{Disconnect{c1_, DisconnectReason::kUnrequestedBlock}}));
    break;
  }
  EXPECT_GE(taken, surely);
  EXPECT_LE(taken, at_most);
  EXPECT_EQ(p->stats().wasted, 16384 * Bytes(taken));
  EXPECT_TRUE(p->CheckInvariants());
}

// A neighbour can make us forget requests at will: each choke gives up a
// pipeline of them, and past the 64 remembered by block they are only
// counted. It used to keep that allowance for good and could spend it on
// unknown blocks whenever it liked. Now a forgotten request excuses an
// unknown block for two stale epochs (inactivity_timeout each) at most.
TEST_F(PeerRequestsTest, AllowanceBankedByChokesExpires) {
  const PeerConfig cfg = Sequential();
  auto p = Make(false, cfg);
  Handshaken(*p, c1_, a_);
  p->OnMessage(now_, c1_, Bits("11111111"));
  for (int i = 0; i < 20; ++i) {  // 100 requests given up, 36 forgotten
    p->OnMessage(now_, c1_, Unchoke{});
    p->OnMessage(now_, c1_, Choke{});
  }
  p->OnMessage(now_, c1_, Piece{Blk(7, 1)});  // excused, for now
  for (const Action& a : p->TakeActions()) {
    ASSERT_FALSE(std::holds_alternative<Disconnect>(a)) << ToString(a);
  }
  ASSERT_EQ(p->stats().wasted, 16384);
  // It keeps us choked and the connection alive until two epochs (and a
  // housekeeping round) have passed.
  const Time until = now_ + (cfg.inactivity_timeout + cfg.housekeeping_interval) * 2;
  while (now_ < until) {
    now_ = *p->NextTimeout();
    p->OnMessage(now_, c1_, KeepAlive{});
    p->OnTimeout(now_);
    for (const Action& a : p->TakeActions()) {
      ASSERT_FALSE(std::holds_alternative<Disconnect>(a)) << ToString(a);
    }
  }
  p->OnMessage(now_, c1_, Piece{Blk(7, 1)});
  EXPECT_EQ(p->TakeActions(),
            (std::vector<Action>{Disconnect{c1_, DisconnectReason::kUnrequestedBlock}}));
  EXPECT_EQ(p->stats().wasted, 16384);
}

// The expiry must not catch an honest late block. A block on its way when
// the neighbour choked us may arrive after its next Unchoke (in the
// simulator control messages never queue behind a block's flow; on real
// sockets they pass blocks held for the upload rate limit), so the count
// is not reset on Unchoke; and a request forgotten just before an epoch
// boundary still excuses its block just after it.
TEST_F(PeerRequestsTest, LateBlockAfterUnchokeAndEpochBoundaryIsExcused) {
  const PeerConfig cfg = Sequential(/*pipeline=*/1);
  auto p = Make(false, cfg);
  const Time start = now_;
  Handshaken(*p, c1_, a_);
  Handshaken(*p, c2_, b_);
  p->OnMessage(now_, c1_, Bits("11111111"));
  p->OnMessage(now_, c2_, Bits("11111111"));
  p->TakeActions();
  // Alive (keep-alives), both choking us, until just before the first
  // epoch boundary.
  while (*p->NextTimeout() < start + cfg.inactivity_timeout - Duration::Seconds(10)) {
    QuietStep(*p);
  }
  p->OnMessage(now_, c1_, Unchoke{});
  ASSERT_EQ(RequestsOn(p->TakeActions(), c1_), (std::vector<BlockRef>{Blk(0, 0)}));
  p->OnMessage(now_, c1_, Choke{});  // 0/0 given up, its block on the way
  p->OnMessage(now_, c2_, Unchoke{});
  ASSERT_EQ(RequestsOn(p->TakeActions(), c2_), (std::vector<BlockRef>{Blk(0, 0)}));
  p->OnMessage(now_, c2_, Piece{Blk(0, 0)});
  ASSERT_EQ(RequestsOn(p->TakeActions(), c2_), (std::vector<BlockRef>{Blk(0, 1)}));
  for (int i = 0; i < 64; ++i) {  // c1 gives 1/0 up 64 times: 0/0 is forgotten
    p->OnMessage(now_, c1_, Unchoke{});
    ASSERT_EQ(RequestsOn(p->TakeActions(), c1_), (std::vector<BlockRef>{Blk(1, 0)}));
    p->OnMessage(now_, c1_, Choke{});
  }
  p->TakeActions();
  const Time forgotten = now_;
  while (now_ < start + cfg.inactivity_timeout + Duration::Seconds(10)) QuietStep(*p);
  p->OnMessage(now_, c1_, Unchoke{});
  p->TakeActions();
  ASSERT_LT(now_ - forgotten, Duration::Seconds(30));
  p->OnMessage(now_, c1_, Piece{Blk(0, 0)});  // the answer to the first request
  for (const Action& a : p->TakeActions()) {
    EXPECT_FALSE(std::holds_alternative<Disconnect>(a)) << ToString(a);
    EXPECT_FALSE(std::holds_alternative<StoreBlock>(a)) << ToString(a);
  }
  EXPECT_EQ(p->stats().wasted, 16384);
  EXPECT_EQ(p->stats().protocol_disconnects, 0u);
  EXPECT_TRUE(p->CheckInvariants());
}

// The pick that takes the last unrequested block starts end-game; a
// connection with nothing in flight used to wait for a delivery it would
// never get before duplicating anything.
TEST_F(PeerRequestsTest, EndgameStartWakesConnectionsWithRoom) {
  auto p = Make(AllBut6And7(), Sequential(/*pipeline=*/3));
  Handshaken(*p, c1_, a_);
  Handshaken(*p, c2_, b_);
  p->OnMessage(now_, c1_, Bits("11111111"));
  p->OnMessage(now_, c1_, Unchoke{});  // c1: 6/0, 6/1, 7/0
  p->OnMessage(now_, c2_, Bits("11111110"));
  p->OnMessage(now_, c2_, Unchoke{});  // c2 has piece 6, all of it requested
  auto acts = p->TakeActions();
  ASSERT_EQ(RequestsOn(acts, c1_), (std::vector<BlockRef>{Blk(6, 0), Blk(6, 1), Blk(7, 0)}));
  ASSERT_TRUE(RequestsOn(acts, c2_).empty());
  p->OnMessage(now_, c1_, Piece{Blk(6, 0)});  // c1 asks for 7/1: end-game
  acts = p->TakeActions();
  EXPECT_EQ(RequestsOn(acts, c1_), (std::vector<BlockRef>{Blk(7, 1)}));
  EXPECT_EQ(RequestsOn(acts, c2_), (std::vector<BlockRef>{Blk(6, 1)}));
}

// In end-game a block arriving on one connection cancels its duplicates;
// the room each cancel makes is filled at once.
TEST_F(PeerRequestsTest, EndgameCancelRefillsTheCancelledConnection) {
  auto p = Make(AllBut6And7(), Sequential(/*pipeline=*/2));
  Handshaken(*p, c1_, a_);
  Handshaken(*p, c2_, b_);
  p->OnMessage(now_, c1_, Bits("11111111"));
  p->OnMessage(now_, c2_, Bits("11111111"));
  p->OnMessage(now_, c1_, Unchoke{});  // c1: 6/0 6/1
  p->OnMessage(now_, c2_, Unchoke{});  // c2: 7/0 7/1 -> end-game
  p->TakeActions();
  p->OnMessage(now_, c1_, Piece{Blk(6, 0)});  // c1 duplicates 7/0
  auto acts = p->TakeActions();
  ASSERT_EQ(RequestsOn(acts, c1_), (std::vector<BlockRef>{Blk(7, 0)}));
  p->OnMessage(now_, c1_, Piece{Blk(7, 0)});  // cancels c2's 7/0
  acts = p->TakeActions();
  EXPECT_EQ(Count<Cancel>(acts), 1);
  EXPECT_EQ(RequestsOn(acts, c2_), (std::vector<BlockRef>{Blk(6, 1)}));
}

// A choke gives a request up and it is asked elsewhere; when the choker's
// copy was already on its way and arrives after all, the other request is
// now useless and is cancelled instead of being downloaded a second time.
TEST_F(PeerRequestsTest, LateBlockCancelsItsRerequest) {
  auto p = Make(false, Sequential(/*pipeline=*/1));
  Handshaken(*p, c1_, a_);
  Handshaken(*p, c2_, b_);
  p->OnMessage(now_, c1_, Bits("11111111"));
  p->OnMessage(now_, c2_, Bits("11111111"));
  p->OnMessage(now_, c1_, Unchoke{});  // c1: 0/0
  p->OnMessage(now_, c2_, Unchoke{});  // c2: 0/1
  p->TakeActions();
  p->OnMessage(now_, c2_, Piece{Blk(0, 1)});  // c2: 1/0
  p->OnMessage(now_, c1_, Choke{});           // 0/0 given back
  p->TakeActions();
  p->OnMessage(now_, c2_, Piece{Blk(1, 0)});  // c2: 0/0
  auto acts = p->TakeActions();
  ASSERT_EQ(RequestsOn(acts, c2_), (std::vector<BlockRef>{Blk(0, 0)}));
  p->OnMessage(now_, c1_, Piece{Blk(0, 0)});  // c1's copy arrives late
  acts = p->TakeActions();
  EXPECT_NE(std::find(acts.begin(), acts.end(), Action(SendMessage{c2_, Cancel{Blk(0, 0)}})),
            acts.end());
  EXPECT_EQ(RequestsOn(acts, c2_), (std::vector<BlockRef>{Blk(1, 1)}));
  EXPECT_EQ(p->stats().wasted, 0u);
}

// A seed choking round-robin (seed_choke: round_robin) used to rechoke on
// every freed slot, advancing its cursor and choking peers it had just
// unchoked; the cursor moves once per interval, as for round_robin.
TEST_F(PeerRequestsTest, RoundRobinSeedKeepsItsUnchokesWhenASlotFrees) {
  PeerConfig cfg = Sequential();
  cfg.seed_choke = SeedChoke::kRoundRobin;
  cfg.unchoke_slots = 2;
  auto p = Make(true, cfg);
  for (auto [conn, who] : {std::pair{c1_, a_}, {c2_, b_}, {c3_, c_}, {c4_, d_}}) {
    Handshaken(*p, conn, who);
  }
  for (ConnectionId c : {c1_, c2_, c3_, c4_}) p->OnMessage(now_, c, Interested{});
  auto acts = p->TakeActions();
  std::vector<ConnectionId> unchoked;
  for (const Action& a : acts) {
    if (auto* s = std::get_if<SendMessage>(&a); s && std::holds_alternative<Unchoke>(s->message))
      unchoked.push_back(s->conn);
  }
  ASSERT_EQ(unchoked.size(), 2u);
  p->OnMessage(now_ + Duration::Millis(100), unchoked.back(), NotInterested{});
  acts = p->TakeActions();
  EXPECT_EQ(Count<Choke>(acts, unchoked.back()), 0) << "a peer still holding its slot was choked";
}

// unchoke_all has no slot limit: a peer that becomes interested is unchoked
// at once, not at the next rechoke (it used to wait once unchoke_slots
// peers were served).
TEST_F(PeerRequestsTest, UnchokeAllServesEveryAskerAtOnce) {
  PeerConfig cfg = Sequential();
  cfg.choker = ChokerKind::kUnchokeAll;
  cfg.unchoke_slots = 2;
  auto p = Make(true, cfg);
  const std::vector<std::pair<ConnectionId, PeerId>> peers = {
      {c1_, a_}, {c2_, b_}, {c3_, c_}, {c4_, d_}};
  for (auto [conn, who] : peers) Handshaken(*p, conn, who);
  for (auto [conn, who] : peers) p->OnMessage(now_, conn, Interested{});
  EXPECT_EQ(Count<Unchoke>(p->TakeActions()), 4);
}

// End-game can end again: a dropped connection gives back blocks nobody
// else was asked for. A block duplicated during end-game that then arrives
// must still be cancelled on the other connection: the duplicate used to
// stay outstanding there, and once its piece failed verification and was
// fetched anew, giving it up (a timeout) took the new request's place in
// the picker's count, so the block was asked for twice on one connection.
TEST_F(PeerRequestsTest, ADuplicateFromAnEndedEndGameIsCancelledOnArrival) {
  auto p = Make(AllBut6And7(), Sequential(/*pipeline=*/2));
  Handshaken(*p, c1_, a_);
  Handshaken(*p, c2_, b_);
  Handshaken(*p, c3_, c_);
  p->OnMessage(now_, c1_, Bits("00000010"));
  p->OnMessage(now_, c1_, Unchoke{});
  p->OnMessage(now_, c3_, Bits("00000001"));
  p->OnMessage(now_, c3_, Unchoke{});  // every block asked for: end-game
  p->OnMessage(now_, c2_, Bits("00000010"));
  p->OnMessage(now_, c2_, Unchoke{});
  ASSERT_EQ(RequestsOn(p->TakeActions(), c2_), (std::vector<BlockRef>{Blk(6, 0), Blk(6, 1)}));
  p->OnDisconnected(now_, c3_);  // 7/0 and 7/1 unrequested again
  p->TakeActions();
  p->OnMessage(now_, c1_, Piece{Blk(6, 0)});
  const auto acts = p->TakeActions();
  EXPECT_EQ(std::count(acts.begin(), acts.end(), Action(SendMessage{c2_, Cancel{Blk(6, 0)}})), 1);
}

}  // namespace
}  // namespace swarm::core

namespace swarm::core {
namespace {

// The fixed pipeline caps a connection at request_pipeline blocks per round
// trip. With request_queue_time a connection keeps as many requests in
// flight as its download rate delivers in that time (libtorrent's queue
// sizing), within [request_pipeline, max_queued_requests / 2]; off (0s, the
// default), it stays at request_pipeline.
TEST(AdaptivePipeline, DeepensWithTheObservedRate) {
  const TorrentInfo torrent =
      TorrentInfo::Synthetic("big.bin", 64 * 256 * kKiB, 256 * kKiB);
  // A seed answers each request in turn, one block a millisecond, for
  // 200 ms; then the requests in flight are counted.
  auto in_flight_after = [&](Duration queue_time) {
    PeerConfig cfg;
    cfg.piece_selection = PieceSelection::kSequential;
    cfg.random_first_pieces = 0;
    cfg.request_queue_time = queue_time;
    Peer p(PeerId(100), torrent, cfg, Rng(1));
    Time now = Time() + Duration::Seconds(1);
    p.OnStart(now, Bitfield(torrent.piece_count(), false));
    p.TakeActions();
    const ConnectionId c(1);
    p.OnConnected(now, c, Direction::kInbound, std::nullopt);
    p.OnMessage(now, c, Handshake{torrent.info_hash(), PeerId(7)});
    p.OnMessage(
        now, c,
        BitfieldMessage{Bitfield(torrent.piece_count(), true).ToWire()});
    p.OnMessage(now, c, Unchoke{});
    std::vector<BlockRef> asked;
    auto collect = [&] {
      for (const Action& a : p.TakeActions()) {
        if (auto* s = std::get_if<SendMessage>(&a); s && s->conn == c) {
          if (auto* r = std::get_if<Request>(&s->message))
            asked.push_back(r->block);
        }
      }
    };
    collect();
    size_t answered = 0;
    for (int i = 0; i < 200; ++i) {
      now = now + Duration::Millis(1);
      p.OnMessage(now, c, Piece{asked.at(answered++)});
      collect();
    }
    return asked.size() - answered;
  };
  EXPECT_EQ(in_flight_after(Duration::Zero()), 5u);
  // 200 blocks in the meter's 20-second window: 163,840 B/s, so 3 s hold
  // 30 blocks.
  EXPECT_EQ(in_flight_after(Duration::Seconds(3)), 30u);
  // Never below request_pipeline, never above half of max_queued_requests
  // (256 by default: stale requests may still be queued beside them).
  EXPECT_EQ(in_flight_after(Duration::Millis(100)), 5u);
  EXPECT_EQ(in_flight_after(Duration::Seconds(1000)), 128u);
  PeerConfig cfg;
  cfg.request_queue_time = Duration::Micros(-1);
  EXPECT_EQ(cfg.Validate(),
            "request_queue_time must not be negative (0s turns it off)");
}

}  // namespace
}  // namespace swarm::core
