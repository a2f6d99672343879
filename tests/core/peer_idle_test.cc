// PeerConfig::idle_timeout: a connection on which neither side has been
// interested for that long is dropped, so that a neighbour sending nothing
// but keep-alives cannot hold one of our connection slots for good.
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
  std::optional<std::pair<Time, Disconnect>> DropOf(ConnectionId c) const {
    for (const auto& d : drops_) {
      if (d.second.conn == c) return d;
    }
    return std::nullopt;
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
// keep-alives refused every newcomer for as long as they stayed.
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

  RunUntil(start_ + cfg_.idle_timeout + cfg_.housekeeping_interval);
  ExpectIdleDropNear(ConnectionId(1), start_ + cfg_.idle_timeout);
  ExpectIdleDropNear(ConnectionId(2), start_ + cfg_.idle_timeout);
  EXPECT_EQ(peer_->connection_count(), 0u);

  // A newcomer now gets in: the seed answers with its handshake.
  EXPECT_EQ(Accept(ConnectionId(4), PeerId(10)),
            (std::vector<Action>{
                SendMessage{ConnectionId(4), Handshake{torrent_.info_hash(), PeerId(100)}}}));
  EXPECT_FALSE(Dropped(ConnectionId(4)));
  EXPECT_EQ(peer_->connection_count(), 1u);
  EXPECT_TRUE(peer_->CheckInvariants());
}

// Interest either way keeps a connection, however long nothing moves on it:
// a neighbour waiting for a seed's slot, or one we wait on that keeps us
// choked.
TEST_F(PeerIdleTest, AnInterestedConnectionIsNeverDroppedAsIdle) {
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
  Start(/*seed=*/true);
  Accept(ConnectionId(1), PeerId(7));
  RunUntil(start_ + Duration::Seconds(300));
  const Time second = now_;
  Accept(ConnectionId(2), PeerId(8));

  RunUntil(start_ + cfg_.idle_timeout + cfg_.housekeeping_interval);
  ExpectIdleDropNear(ConnectionId(1), start_ + cfg_.idle_timeout);
  EXPECT_FALSE(Dropped(ConnectionId(2)));

  RunUntil(second + cfg_.idle_timeout + cfg_.housekeeping_interval);
  ExpectIdleDropNear(ConnectionId(2), second + cfg_.idle_timeout);
}

// ...and from the moment the last side lost interest: the neighbour's
// NotInterested (a repeated one does not restart it), or our own.
TEST_F(PeerIdleTest, TheTimeoutRunsFromTheLastLossOfInterest) {
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

TEST_F(PeerIdleTest, ZeroTurnsItOff) {
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
