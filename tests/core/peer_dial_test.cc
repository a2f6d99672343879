// PeerConfig::dial_attempts and redial_backoff: a listed peer whose dial
// fails (refused, unreachable, or closed before its handshake, as a full
// peer does) is tried again later, with a growing wait, and forgotten only
// after dial_attempts failures in a row (libtorrent's failcount). A dial we
// end ourselves at the handshake is retried only if WorthRedial.
//
// Each test drives one leecher by hand. An empty tracker response is the
// input that makes it look at its candidates (ConnectMore) at a chosen time.
#include <algorithm>
#include <memory>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "core/peer.h"
#include "tests/core/printers.h"

namespace swarm::core {
namespace {

constexpr Bytes kPiece = 32 * kKiB;

class PeerDialTest : public ::testing::Test {
 protected:
  const TorrentInfo torrent_ = TorrentInfo::Synthetic("t.bin", 8 * kPiece, kPiece);
  const PeerId self_{100}, listed_{7};
  const PeerAddress address_{listed_, "b"};
  Time now_ = Time() + Duration::Seconds(1);
  PeerConfig cfg_;
  std::unique_ptr<Peer> peer_;

  void Start() {
    peer_ = std::make_unique<Peer>(self_, torrent_, cfg_, Rng(1));
    peer_->OnStart(now_, false);
    peer_->TakeActions();
  }
  void List() {
    AnnounceResponse r;
    r.peers = {address_};
    peer_->OnTrackerResponse(now_, r);
  }
  // Moves the clock to `t` and lets the peer look at its candidates;
  // returns whether it dialed the listed peer.
  bool DialsAt(Time t) {
    now_ = t;
    peer_->OnTrackerResponse(now_, AnnounceResponse{});
    return Dialed();
  }
  // Room for one connection; started, and dialing the listed peer.
  void DialWithRoomForOne() {
    cfg_.max_connections = 1;
    cfg_.min_connections = 1;
    Start();
    List();
    EXPECT_TRUE(Dialed());
  }
  // The only action: our handshake on `c`.
  void ExpectOnlyOurHandshakeOn(ConnectionId c) {
    EXPECT_EQ(peer_->TakeActions(),
              (std::vector<Action>{SendMessage{c, Handshake{torrent_.info_hash(), self_}}}));
  }
  bool Dialed() {
    bool dialed = false;
    for (const Action& a : peer_->TakeActions()) {
      if (const auto* c = std::get_if<Connect>(&a)) {
        EXPECT_EQ(c->address, address_);
        dialed = true;
      }
    }
    return dialed;
  }
};

TEST_F(PeerDialTest, AFailedDialIsRetriedWithAGrowingWaitAndForgottenAfterThree) {
  ASSERT_EQ(cfg_.dial_attempts, 3u);
  ASSERT_EQ(cfg_.redial_backoff, Duration::Seconds(60));
  Start();
  const Time first = now_;
  List();
  ASSERT_TRUE(Dialed());
  peer_->OnConnectFailed(now_ + Duration::Seconds(1), listed_);
  EXPECT_EQ(peer_->candidate_count(), 1u);  // back on the list
  EXPECT_FALSE(DialsAt(first + Duration::Seconds(59)));
  EXPECT_TRUE(DialsAt(first + Duration::Seconds(60)));
  const Time second = now_;
  peer_->OnConnectFailed(now_, listed_);
  EXPECT_FALSE(DialsAt(second + Duration::Seconds(119)));
  EXPECT_TRUE(DialsAt(second + Duration::Seconds(120)));
  // The third failure forgets it: no more dials of its own accord ...
  peer_->OnConnectFailed(now_, listed_);
  EXPECT_EQ(peer_->candidate_count(), 0u);
  EXPECT_FALSE(DialsAt(now_ + Duration::Seconds(3600)));
  // ... but the tracker may list it again, and then it is dialed at once.
  List();
  EXPECT_TRUE(Dialed());
}

// A full peer accepts and closes at once: our side saw a connection, but
// no handshake, and that is a failed dial too.
TEST_F(PeerDialTest, AConnectionClosedBeforeItsHandshakeIsAFailedDial) {
  Start();
  const Time first = now_;
  List();
  ASSERT_TRUE(Dialed());
  const ConnectionId c(1);
  peer_->OnConnected(now_, c, Direction::kOutbound, listed_);
  peer_->OnDisconnected(now_, c);
  EXPECT_FALSE(Dialed());
  EXPECT_FALSE(DialsAt(first + Duration::Seconds(59)));
  EXPECT_TRUE(DialsAt(first + Duration::Seconds(60)));
}

// A dial that gets as far as the handshake succeeded: the failures before
// it no longer count, so the next failure waits one backoff, not two.
TEST_F(PeerDialTest, AHandshakeForgetsEarlierFailures) {
  Start();
  List();
  ASSERT_TRUE(Dialed());
  peer_->OnConnectFailed(now_, listed_);
  ASSERT_TRUE(DialsAt(now_ + Duration::Seconds(60)));
  const ConnectionId c(1);
  peer_->OnConnected(now_, c, Direction::kOutbound, listed_);
  peer_->OnMessage(now_, c, Handshake{torrent_.info_hash(), listed_});
  peer_->OnDisconnected(now_, c);  // a neighbour that leaves is forgotten
  EXPECT_EQ(peer_->candidate_count(), 0u);
  List();
  ASSERT_TRUE(Dialed());
  const Time dialed = now_;
  peer_->OnConnectFailed(now_, listed_);
  EXPECT_TRUE(DialsAt(dialed + Duration::Seconds(60)));
}

// dial_attempts 1 is the model before retries: a failed dial forgets the
// peer until the tracker lists it again.
TEST_F(PeerDialTest, OneAttemptForgetsAPeerAtItsFirstFailure) {
  cfg_.dial_attempts = 1;
  Start();
  List();
  ASSERT_TRUE(Dialed());
  peer_->OnConnectFailed(now_, listed_);
  EXPECT_EQ(peer_->candidate_count(), 0u);
  EXPECT_FALSE(DialsAt(now_ + Duration::Seconds(3600)));
  List();
  EXPECT_TRUE(Dialed());
}

// A candidate waiting out its backoff is not one to dial now: a leecher
// left with only such candidates asks the tracker early instead of waiting
// for the next announce interval. (With one connection wanted, the second
// candidate keeps the list from ever being empty, so nothing else has
// brought the announce forward.)
TEST_F(PeerDialTest, ALeecherWhoseCandidatesAllWaitAnnouncesEarly) {
  cfg_.min_connections = 1;
  Start();  // announces `started` now
  const Time early = now_ + cfg_.min_reannounce_interval;
  const PeerAddress second{PeerId(8), "c"};
  AnnounceResponse r;
  r.peers = {address_, second};
  peer_->OnTrackerResponse(now_, r);
  ASSERT_EQ(peer_->TakeActions(), (std::vector<Action>{Connect{address_}}));
  peer_->OnConnectFailed(now_, listed_);
  ASSERT_EQ(peer_->TakeActions(), (std::vector<Action>{Connect{second}}));
  peer_->OnConnectFailed(now_, second.id);
  peer_->TakeActions();
  ASSERT_EQ(peer_->candidate_count(), 2u);  // both waiting out a backoff
  // Run the peer's own timers up to the earliest early announce; without
  // the rule the next announce would come at the 30-minute interval.
  std::optional<Time> announced;
  for (std::optional<Time> t = peer_->NextTimeout(); t && *t <= early && !announced;
       t = peer_->NextTimeout()) {
    now_ = *t;
    peer_->OnTimeout(now_);
    for (const Action& a : peer_->TakeActions()) {
      if (std::holds_alternative<Announce>(a)) announced = now_;
    }
  }
  ASSERT_TRUE(announced.has_value());
  EXPECT_EQ(*announced, early);
}

// Our dial answered while we are full is refused by us, not by the remote:
// not a failure of the remote's, and nothing to retry.
TEST_F(PeerDialTest, ADialWeRefuseOurselvesIsNotRetried) {
  DialWithRoomForOne();
  peer_->OnConnected(now_, ConnectionId(2), Direction::kInbound, std::nullopt);
  peer_->OnMessage(now_, ConnectionId(2), Handshake{torrent_.info_hash(), PeerId(9)});
  peer_->OnConnected(now_, ConnectionId(3), Direction::kOutbound, listed_);
  peer_->TakeActions();
  EXPECT_EQ(peer_->candidate_count(), 0u);
  peer_->OnDisconnected(now_, ConnectionId(2));  // room again
  EXPECT_FALSE(DialsAt(now_ + Duration::Seconds(3600)));
}

// An inbound connection that has not sent its handshake yet may be the
// very peer we are dialing, dialing us at the same instant: our answered
// dial is then kept over the limit until that handshake shows who it is.
// Someone else: the dial is refused then, and not retried, as above.
TEST_F(PeerDialTest, ADialAnsweredWhileAnInboundAwaitsItsHandshakeWaitsForIt) {
  DialWithRoomForOne();
  peer_->OnConnected(now_, ConnectionId(2), Direction::kInbound, std::nullopt);
  peer_->TakeActions();
  peer_->OnConnected(now_, ConnectionId(3), Direction::kOutbound, listed_);
  ExpectOnlyOurHandshakeOn(ConnectionId(3));
  EXPECT_TRUE(peer_->CheckInvariants());
  // The dialed peer's handshake on our dial settles nothing yet.
  peer_->OnMessage(now_, ConnectionId(3), Handshake{torrent_.info_hash(), listed_});
  for (const Action& a : peer_->TakeActions()) {
    EXPECT_FALSE(std::holds_alternative<Disconnect>(a)) << ToString(a);
  }
  EXPECT_EQ(peer_->connection_count(), 1u);  // handshaken: 3
  // The inbound one is someone else: our dial goes.
  peer_->OnMessage(now_, ConnectionId(2), Handshake{torrent_.info_hash(), PeerId(9)});
  const std::vector<Action> actions = peer_->TakeActions();
  EXPECT_NE(std::find(actions.begin(), actions.end(),
                      Action{Disconnect{ConnectionId(3), DisconnectReason::kTooManyConnections}}),
            actions.end());
  EXPECT_EQ(peer_->connection_count(), 1u);  // handshaken: 2
  EXPECT_TRUE(peer_->CheckInvariants());
  EXPECT_FALSE(DialsAt(now_ + Duration::Seconds(3600)));

  // An inbound connection that closes before its handshake settles it too.
  DialWithRoomForOne();
  peer_->OnConnected(now_, ConnectionId(2), Direction::kInbound, std::nullopt);
  peer_->TakeActions();
  peer_->OnConnected(now_, ConnectionId(3), Direction::kInbound, std::nullopt);
  EXPECT_EQ(peer_->TakeActions(),  // only dials wait over the limit
            (std::vector<Action>{Disconnect{ConnectionId(3), DisconnectReason::kTooManyConnections}}));
  peer_->OnConnected(now_, ConnectionId(4), Direction::kOutbound, listed_);
  peer_->TakeActions();
  peer_->OnDisconnected(now_, ConnectionId(2));
  for (const Action& a : peer_->TakeActions()) {  // 4 stays: within the limit again
    EXPECT_FALSE(std::holds_alternative<Disconnect>(a)) << ToString(a);
  }
  peer_->OnMessage(now_, ConnectionId(4), Handshake{torrent_.info_hash(), listed_});
  peer_->TakeActions();
  EXPECT_EQ(peer_->connection_count(), 1u);
  EXPECT_TRUE(peer_->CheckInvariants());
}

// On the real network an inbound connection's handshake comes with it (the
// driver checked it first), so the crossing dial's peer has shaken hands
// already when our dial is answered: kept over the limit all the same, and
// its handshake settles the pair as a duplicate (we are the higher id, so
// the connection the other side dialed stays).
TEST_F(PeerDialTest, ADialAnsweredWhileItsPeerIsConnectedIsSettledAsADuplicate) {
  ASSERT_LT(listed_, self_);
  DialWithRoomForOne();
  peer_->OnConnected(now_, ConnectionId(2), Direction::kInbound, std::nullopt);
  peer_->OnMessage(now_, ConnectionId(2), Handshake{torrent_.info_hash(), listed_});
  peer_->TakeActions();
  peer_->OnConnected(now_, ConnectionId(3), Direction::kOutbound, listed_);
  ExpectOnlyOurHandshakeOn(ConnectionId(3));
  EXPECT_TRUE(peer_->CheckInvariants());
  peer_->OnMessage(now_, ConnectionId(3), Handshake{torrent_.info_hash(), listed_});
  EXPECT_EQ(peer_->TakeActions(),
            (std::vector<Action>{
                Disconnect{ConnectionId(3), DisconnectReason::kDuplicateConnection}}));
  EXPECT_EQ(peer_->connection_count(), 1u);
  EXPECT_TRUE(peer_->CheckInvariants());
}

// A dialed peer that breaks the protocol at its handshake, or turns out to
// be one we must not talk to, would do the same at every try: it is
// forgotten at once, not dialed dial_attempts times. The tracker may list
// it again, like any forgotten peer.
TEST_F(PeerDialTest, ADialEndedByUsAtTheHandshakeIsNotRetried) {
  InfoHash other = torrent_.info_hash();
  other[0] ^= 1;
  struct Case {
    Message first;
    DisconnectReason reason;
  };
  const std::vector<Case> cases = {
      {Handshake{other, listed_}, DisconnectReason::kWrongInfoHash},
      {Interested{}, DisconnectReason::kMessageBeforeHandshake},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(DisconnectReasonName(k.reason));
    Start();
    List();
    ASSERT_TRUE(Dialed());
    const ConnectionId c(1);
    peer_->OnConnected(now_, c, Direction::kOutbound, listed_);
    peer_->TakeActions();
    peer_->OnMessage(now_, c, k.first);
    const std::vector<Action> actions = peer_->TakeActions();
    ASSERT_FALSE(actions.empty());
    EXPECT_EQ(actions.front(), (Action{Disconnect{c, k.reason}}));
    EXPECT_EQ(peer_->candidate_count(), 0u);
    EXPECT_FALSE(DialsAt(now_ + Duration::Seconds(3600)));
    List();
    EXPECT_TRUE(Dialed());
  }
}

// The real network's driver checks the handshake before the core hears of
// the connection, and says why it ended a dial: retried only if another
// try may go otherwise (WorthRedial).
TEST_F(PeerDialTest, ADialTheDriverEndedIsRetriedOnlyIfWorthIt) {
  for (DisconnectReason r : {DisconnectReason::kWrongInfoHash, DisconnectReason::kBadHandshake,
                             DisconnectReason::kWrongPeer, DisconnectReason::kBanned,
                             DisconnectReason::kMessageBeforeHandshake}) {
    SCOPED_TRACE(DisconnectReasonName(r));
    Start();
    List();
    ASSERT_TRUE(Dialed());
    peer_->OnConnectFailed(now_, listed_, r);
    EXPECT_EQ(peer_->candidate_count(), 0u);
    EXPECT_FALSE(DialsAt(now_ + Duration::Seconds(3600)));
    List();  // forgotten, so it may be listed again
    EXPECT_TRUE(Dialed());
  }
  // A remote that accepted and then said nothing may only be busy.
  Start();
  List();
  ASSERT_TRUE(Dialed());
  const Time first = now_;
  peer_->OnConnectFailed(now_, listed_, DisconnectReason::kInactive);
  EXPECT_EQ(peer_->candidate_count(), 1u);
  EXPECT_TRUE(DialsAt(first + Duration::Seconds(60)));
}

// A dial that reaches ourselves (a stale listing of ours under an old id,
// or a NAT that sends our public address back to us) is not retried, and
// the endpoint is not dialed again whatever id a later listing gives it.
TEST_F(PeerDialTest, AnEndpointThatWasOurselvesIsNeverDialedAgain) {
  const PeerAddress again{PeerId(9), address_.endpoint};
  const PeerAddress elsewhere{PeerId(10), "c"};
  auto list = [&](const PeerAddress& a) {
    AnnounceResponse r;
    r.peers = {a};
    peer_->OnTrackerResponse(now_, r);
    std::vector<PeerAddress> dialed;
    for (const Action& x : peer_->TakeActions()) {
      if (const auto* c = std::get_if<Connect>(&x)) dialed.push_back(c->address);
    }
    return dialed;
  };
  // Seen by the core (a driver that leaves the handshake to it) ...
  Start();
  List();
  ASSERT_TRUE(Dialed());
  const ConnectionId c(1);
  peer_->OnConnected(now_, c, Direction::kOutbound, listed_);
  peer_->TakeActions();
  peer_->OnMessage(now_, c, Handshake{torrent_.info_hash(), self_});
  EXPECT_EQ(peer_->TakeActions(),
            (std::vector<Action>{Disconnect{c, DisconnectReason::kSelfConnection}}));
  EXPECT_EQ(peer_->candidate_count(), 0u);
  EXPECT_FALSE(DialsAt(now_ + Duration::Seconds(3600)));
  EXPECT_TRUE(list(address_).empty());
  EXPECT_TRUE(list(again).empty());
  EXPECT_EQ(list(elsewhere), std::vector<PeerAddress>{elsewhere});
  // ... or by the driver (the real network's authentication).
  Start();
  List();
  ASSERT_TRUE(Dialed());
  peer_->OnConnectFailed(now_, listed_, DisconnectReason::kSelfConnection);
  EXPECT_EQ(peer_->candidate_count(), 0u);
  EXPECT_TRUE(list(address_).empty());
  EXPECT_TRUE(list(again).empty());
  EXPECT_EQ(list(elsewhere), std::vector<PeerAddress>{elsewhere});
}

// Two listings at one endpoint that is ourselves: once the first dial
// shows it, the second waiting in the list is dropped, not dialed.
TEST_F(PeerDialTest, ACandidateAtAnEndpointFoundToBeOurselvesIsDropped) {
  cfg_.min_connections = 1;
  Start();
  const PeerAddress second{PeerId(9), address_.endpoint};
  AnnounceResponse r;
  r.peers = {address_, second};
  peer_->OnTrackerResponse(now_, r);
  ASSERT_EQ(peer_->TakeActions(), (std::vector<Action>{Connect{address_}}));
  peer_->OnConnectFailed(now_, listed_, DisconnectReason::kSelfConnection);
  for (const Action& a : peer_->TakeActions()) {
    EXPECT_FALSE(std::holds_alternative<Connect>(a)) << ToString(a);
  }
  EXPECT_EQ(peer_->candidate_count(), 0u);
}

}  // namespace
}  // namespace swarm::core
