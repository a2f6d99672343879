// SwarmHarness: several core::Peers and a core::Tracker wired together
// through an in-memory exchange with simulated time, for tests. Messages
// take a fixed latency; a block takes length/rate to leave its sender (no
// bandwidth sharing: that is the simulator's job). Time jumps straight to the
// next event or the earliest NextTimeout(). Every action is appended to a
// trace so that two runs can be compared.
#ifndef SWARM_TESTS_CORE_SWARM_HARNESS_H_
#define SWARM_TESTS_CORE_SWARM_HARNESS_H_

#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/check.h"
#include "core/peer.h"
#include "core/tracker.h"

namespace swarm::core::testing {

class SwarmHarness {
 public:
  struct Options {
    uint64_t seed = 1;
    Duration latency = Duration::Millis(20);
    Rate upload = Rate::MegabitsPerSecond(8);
    PeerConfig config;
  };

  SwarmHarness(const TorrentInfo& torrent, Options options)
      : torrent_(torrent), opt_(options), tracker_(TrackerConfig{}, Rng(options.seed)) {
    tracker_.Publish(now_, torrent_);
  }

  // Adds a peer that starts at `at`; returns its index (also its PeerId).
  size_t AddPeer(bool seed, Time at, PeerConfig config) {
    const size_t i = nodes_.size();
    auto n = std::make_unique<Node>();
    n->peer = std::make_unique<Peer>(PeerId(i), torrent_, config,
                                     Rng::ForStream(opt_.seed, i));
    nodes_.push_back(std::move(n));
    Schedule(at, [this, i, seed] {
      nodes_[i]->peer->OnStart(now_, seed);
      Drain(i);
    });
    return i;
  }
  size_t AddPeer(bool seed, Time at = Time()) { return AddPeer(seed, at, opt_.config); }

  // Every block peer `i` sends arrives corrupted: pieces it contributed to
  // fail verification.
  void CorruptPiecesFrom(size_t i) { corrupt_senders_.insert(i); }

  // Runs until `done` holds, the queue empties, or `max_steps` events ran.
  // Returns the number of events processed.
  size_t RunUntil(const std::function<bool()>& done, size_t max_steps = 2'000'000) {
    size_t steps = 0;
    while (!queue_.empty() && steps < max_steps && !done()) {
      Event e = queue_.top();
      queue_.pop();
      now_ = e.at;
      e.fn();
      ++steps;
    }
    return steps;
  }

  bool AllComplete() const {
    for (const auto& n : nodes_) {
      if (!n->peer->is_seed()) return false;
    }
    return true;
  }

  Peer& peer(size_t i) { return *nodes_[i]->peer; }
  size_t size() const { return nodes_.size(); }
  Time now() const { return now_; }
  const std::string& trace() const { return trace_; }
  // verifications_[{peer, piece}] = VerifyPiece count.
  std::map<std::pair<size_t, uint32_t>, int> verifications;
  std::map<size_t, Time> completed_at;
  // Payload bytes that left a sender but found the connection closed.
  Bytes lost_in_flight = 0;
  std::vector<std::pair<size_t, Disconnect>> disconnects;
  // Blocks stored from a corrupt sender (counted toward a failed piece).
  std::map<std::pair<size_t, uint32_t>, bool> piece_tainted;

 private:
  struct Link {
    size_t remote;
    ConnectionId remote_conn;
  };
  struct Node {
    std::unique_ptr<Peer> peer;
    std::map<ConnectionId, Link> links;
    uint64_t next_conn = 1;
    Time timer = Time::Never();
  };
  struct Event {
    Time at;
    uint64_t seq;
    std::function<void()> fn;
    bool operator<(const Event& o) const {
      return at != o.at ? at > o.at : seq > o.seq;  // min-heap
    }
  };

  void Schedule(Time at, std::function<void()> fn) {
    queue_.push(Event{at, seq_++, std::move(fn)});
  }

  void Drain(size_t i) {
    Node& n = *nodes_[i];
    for (Action& a : n.peer->TakeActions()) Carry(i, a);
    SWARM_CHECK(n.peer->CheckInvariants());
    SWARM_CHECK(n.peer->IdleConnections() == 0);
    std::optional<Time> t = n.peer->NextTimeout();
    if (t && *t < n.timer) {
      n.timer = *t;
      Schedule(*t, [this, i, t] {
        Node& m = *nodes_[i];
        if (m.timer != *t) return;
        m.timer = Time::Never();
        m.peer->OnTimeout(now_);
        Drain(i);
      });
    }
  }

  void Deliver(size_t from, ConnectionId conn, Time at, Message m) {
    auto it = nodes_[from]->links.find(conn);
    if (it == nodes_[from]->links.end()) return;
    Link l = it->second;
    Schedule(at, [this, l, m = std::move(m)] {
      if (!nodes_[l.remote]->links.count(l.remote_conn)) {
        if (const auto* p = std::get_if<Piece>(&m)) lost_in_flight += p->block.length;
        return;
      }
      nodes_[l.remote]->peer->OnMessage(now_, l.remote_conn, m);
      Drain(l.remote);
    });
  }

  void Carry(size_t i, const Action& a) {
    Node& n = *nodes_[i];
    std::ostringstream t;
    t << now_.micros() << " p" << i << " ";
    std::visit(
        [&](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, SendMessage>) {
            t << "send c" << x.conn.value() << " " << MessageName(x.message);
            Deliver(i, x.conn, now_ + opt_.latency, x.message);
          } else if constexpr (std::is_same_v<T, SendBlock>) {
            t << "block c" << x.conn.value() << " " << x.block.piece.value() << "/"
              << x.block.offset;
            const Duration d = Duration::SecondsF(x.block.length / opt_.upload.bytes_per_second());
            if (n.links.count(x.conn)) {
              BlockRef b = x.block;
              ConnectionId c = x.conn;
              Schedule(now_ + d, [this, i, c, b] {
                // A transfer on a connection closed meanwhile is cut off.
                if (!nodes_[i]->links.count(c)) return;
                nodes_[i]->peer->OnBlockSent(now_, c, b);
                Deliver(i, c, now_ + opt_.latency, Piece{b});
                Drain(i);
              });
            }
          } else if constexpr (std::is_same_v<T, StoreBlock>) {
            t << "store " << x.block.piece.value() << "/" << x.block.offset;
            auto it = n.links.find(x.conn);
            if (it != n.links.end() && corrupt_senders_.count(it->second.remote)) {
              piece_tainted[{i, x.block.piece.value()}] = true;
            }
          } else if constexpr (std::is_same_v<T, VerifyPiece>) {
            t << "verify " << x.piece.value();
            verifications[{i, x.piece.value()}]++;
            const bool ok = !piece_tainted[{i, x.piece.value()}];
            piece_tainted[{i, x.piece.value()}] = false;
            Schedule(now_, [this, i, p = x.piece, ok] {
              nodes_[i]->peer->OnPieceVerified(now_, p, ok);
              Drain(i);
            });
          } else if constexpr (std::is_same_v<T, swarm::core::Connect>) {
            t << "connect p" << x.address.id.value();
            const size_t j = x.address.id.value();
            Schedule(now_ + opt_.latency, [this, i, j] { Connect(i, j); });
          } else if constexpr (std::is_same_v<T, Disconnect>) {
            t << "disconnect c" << x.conn.value() << " " << DisconnectReasonName(x.reason);
            disconnects.push_back({i, x});
            auto it = n.links.find(x.conn);
            if (it != n.links.end()) {
              Link l = it->second;
              n.links.erase(it);
              Schedule(now_ + opt_.latency, [this, l] {
                if (!nodes_[l.remote]->links.erase(l.remote_conn)) return;
                nodes_[l.remote]->peer->OnDisconnected(now_, l.remote_conn);
                Drain(l.remote);
              });
            }
          } else if constexpr (std::is_same_v<T, swarm::core::Announce>) {
            t << "announce " << AnnounceEventName(x.event);
            AnnounceRequest r{torrent_.info_hash(), PeerAddress{PeerId(i), ""}, x.event,
                              x.uploaded, x.downloaded, x.left, x.numwant};
            AnnounceResponse resp = tracker_.Announce(now_, r);
            Schedule(now_ + opt_.latency, [this, i, resp] {
              nodes_[i]->peer->OnTrackerResponse(now_, resp);
              Drain(i);
            });
          } else if constexpr (std::is_same_v<T, Completed>) {
            t << "completed";
            completed_at[i] = now_;
          }
        },
        a);
    trace_ += t.str();
    trace_ += '\n';
  }

  void Connect(size_t i, size_t j) {
    Peer& target = *nodes_[j]->peer;
    if (!target.started() || target.stopped()) {
      nodes_[i]->peer->OnConnectFailed(now_, PeerId(j));
      Drain(i);
      return;
    }
    const ConnectionId ci(nodes_[i]->next_conn++), cj(nodes_[j]->next_conn++);
    nodes_[i]->links[ci] = Link{j, cj};
    nodes_[j]->links[cj] = Link{i, ci};
    nodes_[j]->peer->OnConnected(now_, cj, Direction::kInbound, std::nullopt);
    Drain(j);
    nodes_[i]->peer->OnConnected(now_, ci, Direction::kOutbound, PeerId(j));
    Drain(i);
  }

  TorrentInfo torrent_;
  Options opt_;
  Tracker tracker_;
  Time now_;
  uint64_t seq_ = 0;
  std::priority_queue<Event> queue_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::set<size_t> corrupt_senders_;
  std::string trace_;
};

}  // namespace swarm::core::testing

#endif  // SWARM_TESTS_CORE_SWARM_HARNESS_H_
