// Crossing dials at max_connections: two peers that dial each other at about
// the same time while full must end up sharing one connection, the same one
// at both ends, in either driver's order of events. Real core::Peers talk
// over a small event-driven network with one fixed one-way latency `l`:
//  - kSim, as sim/engine.cc: the acceptor's core hears of a connection one
//    latency after the dial, the dialer's two latencies after; handshakes
//    are ordinary messages.
//  - kReal, as net-real/peer_driver.cc: the peers prove their ids before
//    either core hears of the connection, so the dialer's core hears of it
//    at 2l and the acceptor's at 3l (when the dialer's proof arrives), each
//    with the remote's id (OnConnected's `verified`) and its Handshake input
//    right after; the cores' own Handshake actions are not sent again.
// (peer_dial_test.cc drives one peer by hand through the same rules.
// swarm_harness.h's SwarmHarness hears of both ends of a connection at one
// instant and moves blocks; these tests need the two orders and nothing
// else, hence a network of their own.)
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/peer.h"
#include "tests/core/printers.h"

namespace swarm::core {
namespace {

constexpr Bytes kPiece = 32 * kKiB;

enum class Order { kSim, kReal };

class Network {
 public:
  Network(Order order, std::vector<PeerConfig> configs, Duration latency)
      : order_(order), l_(latency) {
    for (size_t i = 0; i < configs.size(); ++i) {
      peers_.push_back(std::make_unique<Peer>(PeerId(i + 1), torrent_, configs[i], Rng(i + 1)));
      peers_.back()->OnStart(now_, false);
      peers_.back()->TakeActions();
    }
  }
  Peer& peer(int i) { return *peers_[i]; }
  Time now() const { return now_; }

  // At `t` the tracker lists `list` (peer indices) to peer `i`.
  void ListAt(Time t, int i, std::vector<int> list) {
    At(t, [this, i, list] {
      AnnounceResponse r;
      for (int j : list) r.peers.push_back(PeerAddress{PeerId(j + 1), std::to_string(j)});
      peers_[i]->OnTrackerResponse(now_, r);
      Collect(i);
    });
  }
  void RunFor(Duration d) {
    const Time end = now_ + d;
    while (!queue_.empty() && queue_.top().at <= end) {
      Event e = queue_.top();
      queue_.pop();
      now_ = e.at;
      e.run();
    }
  }
  // Connections open at both ends, as (dialer, acceptor) peer indices.
  std::set<std::pair<int, int>> Open() const {
    std::set<std::pair<int, int>> out;
    for (const auto& [k, c] : links_) {
      if (c.known[0] && c.known[1] && !c.closed[0] && !c.closed[1]) out.insert({c.end[0], c.end[1]});
    }
    return out;
  }
  bool Connected(int a, int b) const {
    const auto open = Open();
    return open.count({a, b}) + open.count({b, a}) > 0;
  }
  // Every close, for failure messages.
  std::string Log() const {
    std::string s;
    for (const auto& line : log_) s += line + "\n";
    return s;
  }

 private:
  struct Event {
    Time at;
    uint64_t seq;
    std::function<void()> run;
    bool operator<(const Event& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };
  // Connection k: side 0 is the dialer (id 2k there), side 1 the acceptor
  // (id 2k+1).
  struct Link {
    int end[2];
    bool known[2] = {};   // that side's core heard OnConnected
    bool closed[2] = {};  // that side's core forgot it
  };
  static ConnectionId IdOf(int k, int side) { return ConnectionId(2 * k + side); }
  void At(Time t, std::function<void()> f) { queue_.push(Event{t, seq_++, std::move(f)}); }

  void Collect(int p) {
    for (Action& a : peers_[p]->TakeActions()) {
      if (const auto* c = std::get_if<Connect>(&a)) {
        Dial(p, static_cast<int>(c->address.id.value() - 1));
      } else if (const auto* m = std::get_if<SendMessage>(&a)) {
        if (order_ == Order::kReal && std::holds_alternative<Handshake>(m->message)) continue;
        const int k = static_cast<int>(m->conn.value() / 2);
        const int to = 1 - static_cast<int>(m->conn.value() % 2);
        At(now_ + l_, [this, k, to, msg = m->message] {
          Link& c = links_[k];
          if (c.closed[0] || c.closed[1] || !c.known[to]) return;
          peers_[c.end[to]]->OnMessage(now_, IdOf(k, to), msg);
          Collect(c.end[to]);
        });
      } else if (const auto* d = std::get_if<Disconnect>(&a)) {
        const int k = static_cast<int>(d->conn.value() / 2);
        const int side = static_cast<int>(d->conn.value() % 2);
        Link& c = links_[k];
        log_.push_back(std::to_string((now_ - Time()).micros() / 1000) + " ms: peer " +
                       std::to_string(p + 1) + " closes " + std::to_string(c.end[0] + 1) +
                       "->" + std::to_string(c.end[1] + 1) + " (" +
                       std::string(DisconnectReasonName(d->reason)) + ")");
        const bool first = !c.closed[0] && !c.closed[1];
        c.closed[side] = true;
        if (!first) continue;  // the other side closed it already
        At(now_ + l_, [this, k, to = 1 - side] {
          Link& c = links_[k];
          if (c.closed[to]) return;
          c.closed[to] = true;
          if (c.known[to]) {
            peers_[c.end[to]]->OnDisconnected(now_, IdOf(k, to));
          } else if (to == 0) {
            peers_[c.end[0]]->OnConnectFailed(now_, PeerId(c.end[1] + 1));
          }
          Collect(c.end[to]);
        });
      }
    }
  }

  void Dial(int from, int to) {
    const int k = next_link_++;
    links_[k] = Link{{from, to}};
    // Side `side` hears of the connection (0 dialer, 1 acceptor).
    auto hear = [this, k](int side) {
      Link& c = links_[k];
      Peer& p = *peers_[c.end[side]];
      const PeerId remote(c.end[1 - side] + 1);
      if (c.closed[0] || c.closed[1]) {
        c.closed[side] = true;
        if (side == 0) {
          p.OnConnectFailed(now_, remote);
          Collect(c.end[0]);
        }
        return;
      }
      c.known[side] = true;
      const std::optional<PeerId> dialed = side == 0 ? std::optional(remote) : std::nullopt;
      const Direction d = side == 0 ? Direction::kOutbound : Direction::kInbound;
      if (order_ == Order::kSim) {
        p.OnConnected(now_, IdOf(k, side), d, dialed);
      } else {
        p.OnConnected(now_, IdOf(k, side), d, dialed, remote);
        Collect(c.end[side]);
        if (c.closed[side]) return;
        p.OnMessage(now_, IdOf(k, side), Handshake{torrent_.info_hash(), remote});
      }
      Collect(c.end[side]);
    };
    if (order_ == Order::kSim) {
      At(now_ + l_, [hear] { hear(1); });
      At(now_ + l_ * 2, [hear] { hear(0); });
    } else {
      At(now_ + l_ * 2, [hear] { hear(0); });
      At(now_ + l_ * 3, [hear] { hear(1); });
    }
  }

  const TorrentInfo torrent_ = TorrentInfo::Synthetic("t.bin", 8 * kPiece, kPiece);
  const Order order_;
  const Duration l_;
  Time now_ = Time() + Duration::Seconds(1);
  std::vector<std::unique_ptr<Peer>> peers_;
  std::map<int, Link> links_;
  int next_link_ = 0;
  uint64_t seq_ = 0;
  std::priority_queue<Event> queue_;
  std::vector<std::string> log_;
};

PeerConfig Limit(uint32_t n) {
  PeerConfig cfg;
  cfg.max_connections = n;
  cfg.min_connections = n;
  return cfg;
}

const Duration kLatency = Duration::Millis(10);

class CrossingTest : public ::testing::TestWithParam<Order> {};

// Peers 1 and 2, room for one connection each, dial each other at the same
// instant. Each used to refuse its own answered dial (simulator order) or
// the other's inbound one (real order) as one too many: both connections
// died, and announces in step repeated that for hours.
TEST_P(CrossingTest, SimultaneousDialsKeepOneConnection) {
  Network net(GetParam(), {Limit(1), Limit(1)}, kLatency);
  net.ListAt(net.now(), 0, {1});
  net.ListAt(net.now(), 1, {0});
  net.RunFor(Duration::Seconds(1));
  EXPECT_EQ(net.Open(), (std::set<std::pair<int, int>>{{0, 1}})) << net.Log();  // lower id's dial
  EXPECT_TRUE(net.peer(0).CheckInvariants());
  EXPECT_TRUE(net.peer(1).CheckInvariants());
}

// Peer 2 dials 1.5 latencies before peer 1 does. In the real order peer 1
// hears of 2's dial, proven, before its own is answered; its own dial then
// finds it full with its twin there (kept over the limit, and the
// duplicate rule keeps it), while 2, full with its own dial, must not
// refuse 1's as inbound over the limit: it is the twin, and the one kept.
TEST_P(CrossingTest, StaggeredDialsKeepOneConnection) {
  Network net(GetParam(), {Limit(1), Limit(1)}, kLatency);
  net.ListAt(net.now(), 1, {0});
  net.ListAt(net.now() + Duration::Millis(15), 0, {1});
  net.RunFor(Duration::Seconds(1));
  EXPECT_EQ(net.Open().size(), 1u) << net.Log();
  EXPECT_TRUE(net.Connected(0, 1)) << net.Log();
  EXPECT_TRUE(net.peer(0).CheckInvariants());
  EXPECT_TRUE(net.peer(1).CheckInvariants());
}

// Peer 1 (room for two) dials 3 and 2 while 2 and 4 (room for one each)
// dial it. Its two answered dials find it full of the two inbound dials,
// whose handshakes have not come: both are kept. 4's handshake comes first;
// had peer 1 then dropped one of its kept dials, it could have been the
// one to 2, whose twin 2 had already given up for it: nothing is dropped
// until every awaited handshake is in.
TEST_P(CrossingTest, KeptDialsWaitForEveryAwaitedHandshake) {
  Network net(GetParam(), {Limit(2), Limit(1), Limit(1), Limit(1)}, kLatency);
  net.ListAt(net.now(), 0, {2, 1});
  net.ListAt(net.now(), 1, {0});
  net.ListAt(net.now(), 3, {0});
  net.RunFor(Duration::Seconds(1));
  EXPECT_TRUE(net.Connected(0, 1)) << net.Log();
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(net.peer(i).CheckInvariants()) << "peer " << i + 1;
}

INSTANTIATE_TEST_SUITE_P(Orders, CrossingTest, ::testing::Values(Order::kSim, Order::kReal),
                         [](const auto& info) {
                           return info.param == Order::kSim ? std::string("Simulator")
                                                            : std::string("RealNetwork");
                         });

// One peer driven by hand (id 100, room for two; 7 and 8 listed).
class CrossingByHandTest : public ::testing::Test {
 protected:
  const TorrentInfo torrent_ = TorrentInfo::Synthetic("t.bin", 8 * kPiece, kPiece);
  Time now_ = Time() + Duration::Seconds(1);
  std::unique_ptr<Peer> peer_;

  void SetUp() override {
    peer_ = std::make_unique<Peer>(PeerId(100), torrent_, Limit(2), Rng(1));
    peer_->OnStart(now_, false);
    AnnounceResponse r;
    r.peers = {PeerAddress{PeerId(7), "a"}, PeerAddress{PeerId(8), "b"}};
    peer_->OnTrackerResponse(now_, r);
    peer_->TakeActions();
  }
  void Inbound(uint64_t c) {
    peer_->OnConnected(now_, ConnectionId(c), Direction::kInbound, std::nullopt);
  }
  void Answered(uint64_t c, uint64_t dialed) {
    peer_->OnConnected(now_, ConnectionId(c), Direction::kOutbound, PeerId(dialed));
  }
  void Shake(uint64_t c, uint64_t who) {
    peer_->OnMessage(now_, ConnectionId(c), Handshake{torrent_.info_hash(), PeerId(who)});
  }
  // The connections the peer closed since the last call.
  std::set<uint64_t> Closed() {
    std::set<uint64_t> out;
    for (const Action& a : peer_->TakeActions()) {
      if (const auto* d = std::get_if<Disconnect>(&a)) out.insert(d->conn.value());
    }
    return out;
  }
};

// Two dials kept on two awaiting inbound connections. One of those closes:
// the other may still be either dial's twin, so both stay. Once its
// handshake shows someone else, one dial goes (the limit is two).
TEST_F(CrossingByHandTest, KeptDialsStayUntilTheLastAwaitedHandshake) {
  Inbound(2);
  Inbound(3);
  Answered(4, 7);
  Answered(5, 8);
  EXPECT_EQ(Closed(), std::set<uint64_t>{});
  peer_->OnDisconnected(now_, ConnectionId(2));
  EXPECT_EQ(Closed(), std::set<uint64_t>{});
  EXPECT_TRUE(peer_->CheckInvariants());
  Shake(3, 9);
  const std::set<uint64_t> closed = Closed();
  EXPECT_EQ(closed.size(), 1u);
  EXPECT_TRUE(closed.count(4) || closed.count(5));
  EXPECT_TRUE(peer_->CheckInvariants());
}

// A dial kept over the limit that is back within it (another connection
// closed) claims no awaiting inbound connection any more: a later dial
// answered while full may still count on that one, which here is its twin.
TEST_F(CrossingByHandTest, ADialBackWithinTheLimitClaimsNothing) {
  Inbound(2);
  Inbound(3);
  Answered(4, 7);  // kept
  peer_->OnDisconnected(now_, ConnectionId(2));  // within the limit: 3, 4
  Shake(4, 7);
  EXPECT_EQ(Closed(), std::set<uint64_t>{});
  Answered(5, 8);  // 3 still awaits its handshake: it may be 8
  EXPECT_EQ(Closed(), std::set<uint64_t>{});
  Shake(3, 8);  // it is; 5 waits for its own handshake
  EXPECT_EQ(Closed(), std::set<uint64_t>{});
  Shake(5, 8);  // a duplicate: 8 has the lower id, so its dial (3) stays
  EXPECT_EQ(Closed(), std::set<uint64_t>{5});
  EXPECT_EQ(peer_->connection_count(), 2u);
  EXPECT_TRUE(peer_->CheckInvariants());
}

// Real order, by hand: our dial to 7 is answered and shaken hands; 7's own
// dial reaches us, full, with its id proven. We have the higher id, so its
// dial is the one both ends keep: kept over the limit, and its handshake
// then closes ours. With the lower id we refuse it at once.
TEST_F(CrossingByHandTest, AVerifiedInboundTwinIsSettledAtOnce) {
  Inbound(2);
  Shake(2, 9);
  Answered(3, 7);
  Shake(3, 7);
  Closed();
  peer_->OnConnected(now_, ConnectionId(4), Direction::kInbound, std::nullopt, PeerId(7));
  EXPECT_EQ(Closed(), std::set<uint64_t>{});
  Shake(4, 7);
  EXPECT_EQ(Closed(), std::set<uint64_t>{3});
  EXPECT_TRUE(peer_->CheckInvariants());

  // The same from a peer with a higher id than ours.
  peer_ = std::make_unique<Peer>(PeerId(100), torrent_, Limit(2), Rng(1));
  peer_->OnStart(now_, false);
  AnnounceResponse r;
  r.peers = {PeerAddress{PeerId(200), "c"}};
  peer_->OnTrackerResponse(now_, r);
  Inbound(2);
  Shake(2, 9);
  Answered(3, 200);
  Shake(3, 200);
  Closed();
  peer_->OnConnected(now_, ConnectionId(4), Direction::kInbound, std::nullopt, PeerId(200));
  const std::vector<Action> actions = peer_->TakeActions();
  EXPECT_EQ(actions, (std::vector<Action>{Disconnect{ConnectionId(4),
                                                     DisconnectReason::kDuplicateConnection}}));
  EXPECT_TRUE(peer_->CheckInvariants());
}

}  // namespace
}  // namespace swarm::core
