// PeerConfig::idle_timeout: a connection on which neither side has been
// interested for that long is dropped when its slot is wanted (we are full,
// or a candidate waits to be dialed), so that a neighbour sending nothing
// but keep-alives cannot hold one of our connection slots for good, while
// one merely waiting for a piece to spread is kept.
//
// Each test drives one Peer by hand: its remotes send a keep-alive every
// 100 s (well inside inactivity_timeout) and only the messages a test names,
// and time jumps to the next keep-alive or NextTimeout().
#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "core/peer.h"
#include "tests/core/printers.h"

namespace swarm::core {
namespace {

constexpr Bytes kPiece = 32 * kKiB;  // two 16 KiB blocks
constexpr Duration kKeepAliveEvery = Duration::Seconds(100);

BlockRef Blk(uint32_t piece, uint32_t index) {
  return BlockRef{PieceIndex(piece), index * 16384u, 16384u};
}

class PeerIdleTest : public ::testing::Test {
 protected:
  const TorrentInfo torrent_ = TorrentInfo::Synthetic("t.bin", 8 * kPiece, kPiece);
  const Time start_ = Time() + Duration::Seconds(1);
  Time now_ = start_;
  PeerConfig cfg_ = Config();
  std::unique_ptr<Peer> peer_;
  // Live connections and when their remote sends its next keep-alive.
  std::map<ConnectionId, Time> keepalive_at_;
  // Every Disconnect the peer asked for, with its time.
  std::vector<std::pair<Time, Disconnect>> drops_;
  // Every peer it dialed.
  std::vector<PeerId> dials_;

  static PeerConfig Config() {
    PeerConfig c;
    c.piece_selection = PieceSelection::kSequential;
    c.random_first_pieces = 0;
    c.max_connections = 2;
    c.min_connections = 2;
    return c;
  }
  void Start(bool seed) {
    peer_ = std::make_unique<Peer>(PeerId(100), torrent_, cfg_, Rng(1));
    peer_->OnStart(now_, seed);
    peer_->TakeActions();
  }
  // An inbound connection from `who`, handshaken; returns the peer's
  // actions on it (Handshake, maybe a Bitfield, or a Disconnect).
  std::vector<Action> Accept(ConnectionId c, PeerId who) {
    peer_->OnConnected(now_, c, Direction::kInbound, std::nullopt);
    std::vector<Action> acts = peer_->TakeActions();
    Record(acts);
    if (!Dropped(c)) {
      keepalive_at_[c] = now_ + kKeepAliveEvery;
      Deliver(c, Handshake{torrent_.info_hash(), who});
    }
    return acts;
  }
  void Deliver(ConnectionId c, const Message& m) {
    peer_->OnMessage(now_, c, m);
    Record(peer_->TakeActions());
  }
  void Record(const std::vector<Action>& acts) {
    for (const Action& a : acts) {
      if (const auto* d = std::get_if<Disconnect>(&a)) {
        drops_.emplace_back(now_, *d);
        keepalive_at_.erase(d->conn);
      }
      if (const auto* c = std::get_if<Connect>(&a)) dials_.push_back(c->address.id);
    }
  }
  // Advances time to `until`: remotes send keep-alives, timers fire.
  void RunUntil(Time until) {
    while (true) {
      Time next = until;
      if (auto t = peer_->NextTimeout()) next = std::min(next, *t);
      for (const auto& [c, t] : keepalive_at_) next = std::min(next, t);
      now_ = next;
      for (auto it = keepalive_at_.begin(); it != keepalive_at_.end();) {
        const ConnectionId c = it->first;
        const bool due = it->second == now_;
        if (due) it->second = now_ + kKeepAliveEvery;
        ++it;  // Deliver may erase c
        if (due) Deliver(c, KeepAlive{});
      }
      if (auto t = peer_->NextTimeout(); t && *t <= now_) {
        peer_->OnTimeout(now_);
        Record(peer_->TakeActions());
      }
      if (now_ == until) return;
    }
  }
  bool Dropped(ConnectionId c) const { return DropOf(c).has_value(); }
  static std::vector<PieceIndex> HavesOn(ConnectionId c, const std::vector<Action>& acts) {
    std::vector<PieceIndex> out;
    for (const Action& a : acts) {
      if (const auto* s = std::get_if<SendMessage>(&a); s && s->conn == c) {
        if (const auto* h = std::get_if<Have>(&s->message)) out.push_back(h->piece);
      }
    }
    return out;
  }
  std::optional<std::pair<Time, Disconnect>> DropOf(ConnectionId c) const {
    for (const auto& d : drops_) {
      if (d.second.conn == c) return d;
    }
    return std::nullopt;
  }
  // A peer whose connection slots are all taken by `n` connections.
  void FullAt(uint32_t n) {
    cfg_.max_connections = n;
    cfg_.min_connections = n;
  }
  // `c` was dropped as idle within one housekeeping interval of `deadline`.
  void ExpectIdleDropNear(ConnectionId c, Time deadline) {
    auto d = DropOf(c);
    ASSERT_TRUE(d.has_value()) << "connection " << c.value() << " was not dropped";
    EXPECT_EQ(d->second.reason, DisconnectReason::kIdle) << DisconnectReasonName(d->second.reason);
    EXPECT_GE(d->first, deadline);
    EXPECT_LT(d->first, deadline + cfg_.housekeeping_interval);
  }
};

// The reported lock-out: a seed full of neighbours that only send
// keep-alives refused every newcomer for as long as they stayed. Now, once
// idle for the timeout, one goes per housekeeping round while the seed is
// full: the one idle longest, so a newcomer gets in; the other stays while
// nobody needs its slot, and goes when the seed is full again.
TEST_F(PeerIdleTest, KeepAliveOnlyNeighboursAreDroppedAndANewcomerIsAccepted) {
  Start(/*seed=*/true);
  Accept(ConnectionId(1), PeerId(7));
  Accept(ConnectionId(2), PeerId(8));
  ASSERT_EQ(peer_->connection_count(), 2u);

  // Just before the timeout both slots are still held.
  RunUntil(start_ + cfg_.idle_timeout - Duration::Seconds(1));
  EXPECT_TRUE(drops_.empty());
  EXPECT_EQ(Accept(ConnectionId(3), PeerId(9)),
            (std::vector<Action>{
                Disconnect{ConnectionId(3), DisconnectReason::kTooManyConnections}}));

  RunUntil(start_ + cfg_.idle_timeout + cfg_.housekeeping_interval * 3);
  ExpectIdleDropNear(ConnectionId(1), start_ + cfg_.idle_timeout);
  EXPECT_FALSE(Dropped(ConnectionId(2))) << "dropped with a slot free";
  EXPECT_EQ(peer_->connection_count(), 1u);

  // A newcomer now gets in: the seed answers with its handshake.
  const Time joined = now_;
  EXPECT_EQ(Accept(ConnectionId(4), PeerId(10)),
            (std::vector<Action>{
                SendMessage{ConnectionId(4), Handshake{torrent_.info_hash(), PeerId(100)}}}));
  Deliver(ConnectionId(4), Interested{});
  EXPECT_FALSE(Dropped(ConnectionId(4)));
  // Full again: the other idle neighbour makes room at the next round.
  RunUntil(joined + cfg_.housekeeping_interval);
  ExpectIdleDropNear(ConnectionId(2), joined + cfg_.housekeeping_interval);
  EXPECT_FALSE(Dropped(ConnectionId(4)));
  EXPECT_EQ(peer_->connection_count(), 1u);
  EXPECT_TRUE(peer_->CheckInvariants());
}

// The same at the default limits: fifty keep-alive-only neighbours fill a
// seed, and after the timeout fifty newcomers take their places one round
// at a time, each squatter leaving in turn, oldest first.
TEST_F(PeerIdleTest, FiftySquattersGiveWayToNewcomersOnePerRound) {
  cfg_ = PeerConfig();
  ASSERT_EQ(cfg_.max_connections, 50u);
  Start(/*seed=*/true);
  for (uint32_t i = 1; i <= 50; ++i) Accept(ConnectionId(i), PeerId(1000 + i));
  ASSERT_EQ(peer_->connection_count(), 50u);
  RunUntil(start_ + cfg_.idle_timeout - Duration::Seconds(1));
  EXPECT_TRUE(drops_.empty());
  EXPECT_EQ(Accept(ConnectionId(100), PeerId(2000)),
            (std::vector<Action>{
                Disconnect{ConnectionId(100), DisconnectReason::kTooManyConnections}}));

  for (uint32_t k = 0; k < 50; ++k) {
    const Time round = start_ + cfg_.idle_timeout + cfg_.housekeeping_interval * k;
    RunUntil(round);
    ExpectIdleDropNear(ConnectionId(k + 1), round);
    const ConnectionId newcomer(101 + k);
    Accept(newcomer, PeerId(2001 + k));
    ASSERT_FALSE(Dropped(newcomer)) << "newcomer " << k << " refused";
    Deliver(newcomer, Interested{});
  }
  EXPECT_EQ(drops_.size(), 51u);  // the refused one and the fifty squatters
  EXPECT_EQ(peer_->connection_count(), 50u);
  RunUntil(now_ + cfg_.idle_timeout * 3);  // the newcomers stay
  EXPECT_EQ(drops_.size(), 51u);
  EXPECT_TRUE(peer_->CheckInvariants());
}

// Interest either way keeps a connection, however long nothing moves on it:
// a neighbour waiting for a seed's slot, or one we wait on that keeps us
// choked.
TEST_F(PeerIdleTest, AnInterestedConnectionIsNeverDroppedAsIdle) {
  FullAt(1);  // its slot is wanted, were it idle
  Start(/*seed=*/true);
  Accept(ConnectionId(1), PeerId(7));
  Deliver(ConnectionId(1), Interested{});  // it wants our pieces
  RunUntil(start_ + cfg_.idle_timeout * 5);
  EXPECT_TRUE(drops_.empty()) << DisconnectReasonName(drops_.front().second.reason);

  now_ = start_;
  keepalive_at_.clear();
  Start(/*seed=*/false);
  Accept(ConnectionId(1), PeerId(7));
  Deliver(ConnectionId(1), BitfieldMessage{Bitfield::FromString("11110000").ToWire()});
  RunUntil(start_ + cfg_.idle_timeout * 5);  // we want its pieces; it never unchokes
  EXPECT_TRUE(drops_.empty()) << DisconnectReasonName(drops_.front().second.reason);
  EXPECT_EQ(peer_->connection_count(), 1u);
}

// The clock runs from the connection's start, so a young connection is
// kept while an older one goes.
TEST_F(PeerIdleTest, AConnectionYoungerThanTheTimeoutIsKept) {
  Start(/*seed=*/true);  // full at two connections
  Accept(ConnectionId(1), PeerId(7));
  RunUntil(start_ + Duration::Seconds(300));
  const Time second = now_;
  Accept(ConnectionId(2), PeerId(8));

  RunUntil(start_ + cfg_.idle_timeout + cfg_.housekeeping_interval);
  ExpectIdleDropNear(ConnectionId(1), start_ + cfg_.idle_timeout);
  EXPECT_FALSE(Dropped(ConnectionId(2)));
  Accept(ConnectionId(3), PeerId(9));  // full again, with one that wants ours
  Deliver(ConnectionId(3), Interested{});

  RunUntil(second + cfg_.idle_timeout + cfg_.housekeeping_interval);
  ExpectIdleDropNear(ConnectionId(2), second + cfg_.idle_timeout);
  EXPECT_FALSE(Dropped(ConnectionId(3)));
}

// ...and from the moment the last side lost interest: the neighbour's
// NotInterested (a repeated one does not restart it), or our own.
TEST_F(PeerIdleTest, TheTimeoutRunsFromTheLastLossOfInterest) {
  FullAt(1);
  Start(/*seed=*/true);
  Accept(ConnectionId(1), PeerId(7));
  Deliver(ConnectionId(1), Interested{});
  RunUntil(start_ + Duration::Seconds(400));
  const Time lost = now_;
  Deliver(ConnectionId(1), NotInterested{});
  RunUntil(lost + Duration::Seconds(300));
  Deliver(ConnectionId(1), NotInterested{});  // no change: does not count
  RunUntil(lost + cfg_.idle_timeout + cfg_.housekeeping_interval);
  ExpectIdleDropNear(ConnectionId(1), lost + cfg_.idle_timeout);

  // A leecher that fetched the one piece its neighbour had.
  now_ = start_;
  drops_.clear();
  keepalive_at_.clear();
  Start(/*seed=*/false);
  Accept(ConnectionId(1), PeerId(7));
  Deliver(ConnectionId(1), BitfieldMessage{Bitfield::FromString("10000000").ToWire()});
  RunUntil(start_ + Duration::Seconds(400));
  const Time done = now_;
  Deliver(ConnectionId(1), Unchoke{});
  Deliver(ConnectionId(1), Piece{Blk(0, 0)});
  Deliver(ConnectionId(1), Piece{Blk(0, 1)});
  peer_->OnPieceVerified(now_, PieceIndex(0), true);
  std::vector<Action> acts = peer_->TakeActions();
  ASSERT_NE(std::find(acts.begin(), acts.end(), Action(SendMessage{ConnectionId(1), NotInterested{}})),
            acts.end());
  RunUntil(done + cfg_.idle_timeout + cfg_.housekeeping_interval);
  ExpectIdleDropNear(ConnectionId(1), done + cfg_.idle_timeout);
}

// The reported loss: a leecher shown one piece by a super-seed fetched it
// and then had nothing to ask for while the piece spread, with the seed
// interested in nothing; after idle_timeout it dropped the seed. With a
// slot free and no candidate waiting it now keeps it, and the seed's next
// reveal finds it there.
TEST_F(PeerIdleTest, ANeighbourWaitingForAPieceToSpreadIsKept) {
  Start(/*seed=*/false);
  Accept(ConnectionId(1), PeerId(7));
  Deliver(ConnectionId(1), Have{PieceIndex(3)});  // BEP 16: one piece shown
  Deliver(ConnectionId(1), Unchoke{});
  Deliver(ConnectionId(1), Piece{Blk(3, 0)});
  Deliver(ConnectionId(1), Piece{Blk(3, 1)});
  peer_->OnPieceVerified(now_, PieceIndex(3), true);
  std::vector<Action> acts = peer_->TakeActions();
  ASSERT_NE(std::find(acts.begin(), acts.end(), Action(SendMessage{ConnectionId(1), NotInterested{}})),
            acts.end());
  RunUntil(now_ + cfg_.idle_timeout * 5);
  EXPECT_TRUE(drops_.empty()) << DisconnectReasonName(drops_.front().second.reason);

  peer_->OnMessage(now_, ConnectionId(1), Have{PieceIndex(5)});  // the next reveal
  acts = peer_->TakeActions();
  EXPECT_NE(std::find(acts.begin(), acts.end(), Action(SendMessage{ConnectionId(1), Interested{}})),
            acts.end());
  EXPECT_NE(std::find(acts.begin(), acts.end(), Action(SendMessage{ConnectionId(1), Request{Blk(5, 0)}})),
            acts.end());
}

// The seed's side of that wait. A full super-seed took a leecher that had
// fetched the piece shown to it, and waited for it to spread, for idle
// (neither side interested) and dropped it ten minutes into the wait,
// though the leecher lacks everything the seed hides from it. Now it
// stays and is shown its next piece when its last one is seen elsewhere;
// a neighbour that only sends keep-alives still makes room (shown a piece
// and never interested, it is taken for a seed, and goes as not useful at
// the first round after a housekeeping interval, long before idle_timeout).
TEST_F(PeerIdleTest, AFullSuperSeedKeepsALeecherWaitingForItsNextReveal) {
  FullAt(3);
  cfg_.super_seeding = true;
  Start(/*seed=*/true);
  // Accepts `c` and returns the piece the seed shows it.
  auto accept_shown = [&](ConnectionId c, PeerId who) {
    peer_->OnConnected(now_, c, Direction::kInbound, std::nullopt);
    Record(peer_->TakeActions());
    keepalive_at_[c] = now_ + kKeepAliveEvery;
    peer_->OnMessage(now_, c, Handshake{torrent_.info_hash(), who});
    const std::vector<Action> acts = peer_->TakeActions();
    Record(acts);
    std::optional<PieceIndex> shown;
    for (const Action& a : acts) {
      if (const auto* s = std::get_if<SendMessage>(&a); s && s->conn == c) {
        if (const auto* h = std::get_if<Have>(&s->message)) shown = h->piece;
      }
    }
    return shown;
  };
  const auto shown1 = accept_shown(ConnectionId(1), PeerId(7));
  accept_shown(ConnectionId(2), PeerId(8));  // keep-alives only
  accept_shown(ConnectionId(4), PeerId(10));
  ASSERT_TRUE(shown1.has_value());
  Deliver(ConnectionId(1), Interested{});
  Deliver(ConnectionId(4), Interested{});  // still fetching its piece
  RunUntil(now_ + Duration::Seconds(30));
  Deliver(ConnectionId(1), Have{*shown1});  // fetched; 4 could spread it
  Deliver(ConnectionId(1), NotInterested{});
  const Time waiting = now_;

  RunUntil(start_ + cfg_.idle_timeout + cfg_.housekeeping_interval);
  const auto keepalives_only = DropOf(ConnectionId(2));
  ASSERT_TRUE(keepalives_only.has_value());
  EXPECT_EQ(keepalives_only->second.reason, DisconnectReason::kNotUseful)
      << DisconnectReasonName(keepalives_only->second.reason);
  EXPECT_LE(keepalives_only->first, start_ + cfg_.housekeeping_interval * 2);
  ASSERT_TRUE(accept_shown(ConnectionId(3), PeerId(9)).has_value());  // full again
  Deliver(ConnectionId(3), Interested{});
  RunUntil(waiting + cfg_.idle_timeout * 3);
  EXPECT_FALSE(Dropped(ConnectionId(1))) << "dropped while waiting for the seed";
  EXPECT_EQ(drops_.size(), 1u);

  peer_->OnMessage(now_, ConnectionId(4), Have{*shown1});  // seen elsewhere
  const auto next = HavesOn(ConnectionId(1), peer_->TakeActions());
  ASSERT_EQ(next.size(), 1u);
  EXPECT_NE(next[0], *shown1);
  EXPECT_TRUE(peer_->CheckInvariants());
}

// A candidate from the tracker that we would dial but for the connections
// we hold (min_connections of them) wants a slot too: the idle connection
// goes, the candidate is dialed in its place, and the other idle one stays
// once nobody waits. Above min_connections one fewer would dial nobody, so
// nothing is dropped there.
TEST_F(PeerIdleTest, AnIdleConnectionMakesRoomForACandidate) {
  cfg_.max_connections = 3;
  cfg_.min_connections = 2;
  Start(/*seed=*/true);
  Accept(ConnectionId(1), PeerId(7));
  Accept(ConnectionId(2), PeerId(8));
  AnnounceResponse r;
  r.peers = {PeerAddress{PeerId(20), "h:20"}};
  peer_->OnTrackerResponse(now_, r);
  Record(peer_->TakeActions());
  EXPECT_TRUE(dials_.empty()) << "dialed at min_connections";

  RunUntil(start_ + cfg_.idle_timeout + cfg_.housekeeping_interval);
  ExpectIdleDropNear(ConnectionId(1), start_ + cfg_.idle_timeout);
  EXPECT_EQ(dials_, std::vector<PeerId>{PeerId(20)});
  peer_->OnConnectFailed(now_, PeerId(20));  // it was gone
  Record(peer_->TakeActions());
  RunUntil(start_ + cfg_.idle_timeout * 5);
  EXPECT_FALSE(Dropped(ConnectionId(2)));

  // Three connections, one more than min_connections, and a candidate.
  now_ = start_;
  drops_.clear();
  dials_.clear();
  keepalive_at_.clear();
  cfg_.max_connections = 4;
  Start(/*seed=*/true);
  for (uint32_t i = 1; i <= 3; ++i) Accept(ConnectionId(i), PeerId(6 + i));
  peer_->OnTrackerResponse(now_, r);
  Record(peer_->TakeActions());
  RunUntil(start_ + cfg_.idle_timeout * 5);
  EXPECT_TRUE(drops_.empty()) << DisconnectReasonName(drops_.front().second.reason);
  EXPECT_TRUE(dials_.empty());
}

TEST_F(PeerIdleTest, ZeroTurnsItOff) {
  FullAt(1);
  cfg_.idle_timeout = Duration::Zero();
  Start(/*seed=*/true);
  Accept(ConnectionId(1), PeerId(7));
  RunUntil(start_ + PeerConfig().idle_timeout * 5);
  EXPECT_TRUE(drops_.empty());

  cfg_.idle_timeout = Duration::Seconds(-1);
  EXPECT_EQ(cfg_.Validate(), "idle_timeout must not be negative (0s turns it off)");
}

}  // namespace
}  // namespace swarm::core
