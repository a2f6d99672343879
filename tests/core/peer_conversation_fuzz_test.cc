// Randomised conversations: one Peer (the subject) talks to several fake
// neighbours for thousands of steps, with time jumps and every timer fired,
// inbound connections and answered (or failed) dials, disconnects, blocks
// leaving, verification results and tracker answers (some of them absurd).
// Most neighbours follow the protocol (some never answer requests, some send
// data that fails its hash); a few send arbitrary, often malformed messages.
//
// The test keeps its own account of every connection, from what the
// subject sent and was sent, and after every input checks the subject
// against it through the public API only:
//   - no CHECK fires (it would abort the test binary);
//   - a SendBlock, Have or Bitfield names only pieces whose verification
//     succeeded, a SendBlock only a block the neighbour asked for while
//     unchoked;
//   - requests: only to a neighbour that unchoked us and announced the
//     piece, only for missing pieces, never more in flight on a connection
//     than the pipeline (with request_queue_time, drawn in half the cases,
//     than half of max_queued_requests);
//   - never more connections than max_connections, but for answered dials
//     that may be one of a crossing pair (kept while inbound connections
//     await their handshakes, at most as many as awaited); never a dial
//     while min_connections are reached, to ourselves, to a banned or
//     connected peer;
//   - for the chokers that count slots, unchoked-and-interested neighbours
//     never exceed unchoke_slots (the optimistic one included), and the
//     subject's unchoked_count() agrees;
//   - a neighbour that follows the protocol is never disconnected for a
//     protocol violation;
//   - NextTimeout() is never in the past, and after OnTimeout(now) it is
//     later than now;
//   - the byte counters match the blocks sent and stored, left() matches
//     have(), Completed comes once.
// Each case prints its seed on failure.
#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/overloaded.h"
#include "core/peer.h"
#include "core/units.h"
#include "tests/core/printers.h"

namespace swarm::core {
namespace {

constexpr uint64_t kSubjectId = 1000;
constexpr uint32_t kBlock = 16 * 1024;

enum class Kind {
  kHonest,   // follows the protocol, answers requests
  kSilent,   // follows the protocol, never answers requests
  kCorrupt,  // follows the protocol, its blocks fail the hash check
  kHostile,  // arbitrary messages
};

// A fake neighbour as the test knows it, shared by its connections.
struct Remote {
  Kind kind = Kind::kHonest;
  Bitfield has;
};

// One live connection as the test sees it.
struct Link {
  PeerId remote;  // the fake neighbour driving it
  Kind kind = Kind::kHonest;
  bool inbound = false;            // the neighbour dialed the subject
  bool greeted = false;            // the neighbour sent its handshake
  bool accepted = false;           // ... and the subject kept the connection
  bool subject_spoke = false;      // the subject sent its handshake
  bool sent_first = false;         // the neighbour sent a message after it
  bool choking_subject = true;     // last Choke/Unchoke delivered
  bool interested_in_subject = false;
  bool subject_choking = true;     // last Choke/Unchoke the subject sent
  bool subject_interested = false;
  Bitfield announced;              // pieces the neighbour told the subject of
  Bitfield told;                   // pieces the subject told the neighbour of
  std::vector<BlockRef> outstanding;   // the subject's requests, unanswered
  std::vector<BlockRef> to_answer;     // blocks the neighbour will send
  std::vector<BlockRef> asked;         // the neighbour's requests, unserved
};

class Conversation {
 public:
  explicit Conversation(uint64_t seed) : r_(seed), seed_(seed) {
    const uint32_t pieces = 5 + uint32_t(r_.Below(8));
    const Bytes piece = 32 * kKiB;
    const Bytes tail = r_.Bernoulli(0.5) ? 0 : Bytes(1 + r_.Below(piece - 1));
    t_ = std::make_shared<TorrentInfo>(
        TorrentInfo::Synthetic("conv", (pieces - (tail ? 1 : 0)) * piece + tail, piece));
    // Every policy the core names (the enums count from 0, as their tables).
    cfg_.choker = static_cast<ChokerKind>(r_.Below(ChokerKindNames().size()));
    cfg_.seed_choke = r_.Bernoulli(0.5) ? SeedChoke::kFastestUpload : SeedChoke::kRoundRobin;
    cfg_.piece_selection = static_cast<PieceSelection>(r_.Below(PieceSelectionNames().size()));
    cfg_.random_first_pieces = uint32_t(r_.Below(3));
    cfg_.endgame = r_.Bernoulli(0.8);
    cfg_.super_seeding = r_.Bernoulli(0.15);
    cfg_.free_rider = r_.Bernoulli(0.05);
    cfg_.unchoke_slots = 1 + uint32_t(r_.Below(4));
    cfg_.max_connections = 2 + uint32_t(r_.Below(7));
    cfg_.min_connections = uint32_t(r_.Below(cfg_.max_connections + 1));
    cfg_.request_pipeline = 1 + uint32_t(r_.Below(6));
    cfg_.max_queued_requests = std::max<uint32_t>(cfg_.request_pipeline, 8);
    cfg_.uploads_in_flight = 1 + uint32_t(r_.Below(3));
    cfg_.ban_strikes = 1 + uint32_t(r_.Below(2));
    cfg_.strict_tft_allowance = Bytes(r_.Below(4)) * 16 * kKiB;
    cfg_.upload_capacity = r_.Bernoulli(0.8) ? Rate::BytesPerSecond(1e5) : Rate::Zero();
    cfg_.rechoke_interval = Duration::Seconds(1 + int64_t(r_.Below(10)));
    cfg_.optimistic_interval = cfg_.rechoke_interval * 3;
    cfg_.request_timeout = Duration::Seconds(5 + int64_t(r_.Below(60)));
    cfg_.min_reannounce_interval = Duration::Seconds(10 + int64_t(r_.Below(60)));
    DrawAdaptivePipeline(seed);
    subject_ = std::make_unique<Peer>(PeerId(kSubjectId), t_, cfg_, Rng(seed * 7 + 1));

    const uint32_t n = t_->piece_count();
    for (uint64_t id = 1; id <= 12; ++id) {
      Remote& x = remotes_[id];
      const uint64_t k = r_.Below(10);
      x.kind = k < 5 ? Kind::kHonest : k < 6 ? Kind::kSilent : k < 7 ? Kind::kCorrupt
                                                                      : Kind::kHostile;
      x.has = Bitfield(n, r_.Bernoulli(0.2));
      for (uint32_t p = 0; p < n; ++p) {
        if (r_.Bernoulli(0.3)) x.has.Set(p);
      }
    }
    verified_ = Bitfield(n);
    for (uint32_t p = 0; p < n; ++p) {
      if (r_.Bernoulli(0.4)) verified_.Set(p);
    }
    if (r_.Bernoulli(0.2)) verified_ = Bitfield(n, true);
    started_as_seed_ = verified_.All();
  }

  void Run(int steps) {
    subject_->OnStart(now_, verified_);
    Drain();
    if (HasFatalFailure()) return;
    for (int step = 0; step < steps && !stopped_; ++step) {
      step_ = step;
      AdvanceTime();
      if (HasFatalFailure()) return;
      Act();
      if (HasFatalFailure()) return;
    }
    if (!stopped_) Stop();
  }

 private:
  static bool HasFatalFailure() { return ::testing::Test::HasFatalFailure(); }
  // The adaptive pipeline (request_queue_time) in half the cases, with a
  // queue time of 50 ms to 10 s, or 10 s to 2 min (the conversation's
  // rates are low: a deeper pipeline needs a long queue time), and room
  // for a deeper pipeline (up to half of 8..64 queued requests). Drawn
  // from a stream of its own, so that the rest of each seed's
  // conversation is what it was before the option.
  void DrawAdaptivePipeline(uint64_t seed) {
    Rng draw(seed * 31 + 5);
    if (!draw.Bernoulli(0.5)) return;
    const bool long_queue = draw.Bernoulli(0.5);
    const int64_t ms = long_queue ? 10000 + int64_t(draw.Below(110001))
                                  : 50 + int64_t(draw.Below(9951));
    cfg_.request_queue_time = Duration::Millis(ms);
    cfg_.max_queued_requests = 8 + uint32_t(draw.Below(57));
  }
  // Requests the subject may keep in flight on one connection: the
  // pipeline, or with the adaptive one up to half its queue limit.
  size_t MostInFlight() const {
    if (cfg_.request_queue_time <= Duration::Zero()) return cfg_.request_pipeline;
    return std::max<size_t>(cfg_.request_pipeline, cfg_.max_queued_requests / 2);
  }
  std::string Where() const {
    std::string recent;
    for (const std::string& line : log_) recent += "    " + line + "\n";
    return "seed " + std::to_string(seed_) + " step " + std::to_string(step_) + " t=" +
           std::to_string(now_.micros()) + "us, choker " + std::string(Name(cfg_.choker)) +
           (cfg_.super_seeding ? ", super-seeding" : "") + ", request_queue_time " +
           FormatDuration(cfg_.request_queue_time) + ", slots " +
           std::to_string(cfg_.unchoke_slots) + ", uploads in flight " +
           std::to_string(cfg_.uploads_in_flight) + "\n" + subject_->DebugString() +
           "  latest inputs (>) and actions:\n" + recent;
  }
  void Log(std::string line) {
    log_.push_back(std::to_string(now_.micros() / 1000) + "ms " + std::move(line));
    if (log_.size() > 40) log_.pop_front();
  }

  // Jumps ahead, firing every deadline on the way as a punctual driver does.
  void AdvanceTime() {
    const Duration jump = r_.Bernoulli(0.02)
                              ? Duration::Seconds(int64_t(r_.Below(400)))
                              : Duration::Millis(int64_t(r_.Below(3000)));
    const Time target = now_ + jump;
    int same_time = 0;  // OnTimeout calls in a row at one time
    for (int fired = 0;; ++fired) {
      std::optional<Time> next = subject_->NextTimeout();
      if (!next || *next > target) break;
      ASSERT_LT(fired, 1000) << "timer keeps firing at " << next->micros() << "\n" << Where();
      same_time = *next == now_ ? same_time + 1 : 0;
      ASSERT_LT(same_time, 3) << "deadline stuck at now\n" << Where();
      now_ = *next;
      last_timeout_ = now_;
      Log("> timeout");
      subject_->OnTimeout(now_);
      Drain();
      if (HasFatalFailure()) return;
      // (A deadline may stay at `now` once: housekeeping can make an
      // announce due at once, which the next call sends.)
    }
    now_ = target;
  }

  void Act() {
    const uint64_t what = r_.Below(100);
    if (what < 4) return Inbound();
    if (what < 8 && !dials_.empty()) return AnswerDial();
    if (what < 10 && !links_.empty()) return RemoteHangsUp();
    if (what < 16 && !sending_.empty()) return BlockLeft();
    if (what < 24 && !verifying_.empty()) return Verified();
    if (what < 28 && announces_ > 0) return TrackerAnswers();
    if (what < 29) {
      subject_->OnTrackerReset(now_);
      return Drain();
    }
    if (what < 30 && r_.Bernoulli(0.02)) return Stop();
    if (what < 34) RemoteLearns();
    if (links_.empty()) return Inbound();
    auto it = links_.begin();
    std::advance(it, r_.Below(links_.size()));
    Speak(it->first, it->second);
  }

  // --- Inputs -------------------------------------------------------------

  void Inbound() {
    const ConnectionId c(next_conn_++);
    // Mostly a known neighbour (perhaps one already connected), at times a
    // stranger with an unknown id.
    const uint64_t id = r_.Bernoulli(0.9) ? 1 + r_.Below(remotes_.size()) : 100 + r_.Below(50);
    Open(c, PeerId(id));
    links_[c.value()].inbound = true;
    Log("> inbound c" + std::to_string(c.value()) + " from " + std::to_string(id));
    subject_->OnConnected(now_, c, Direction::kInbound, std::nullopt);
    Drain();
  }

  void AnswerDial() {
    auto it = dials_.begin();
    std::advance(it, r_.Below(dials_.size()));
    const PeerId id = *it;
    dials_.erase(it);
    if (r_.Bernoulli(0.2)) {
      Log("> dial failed " + std::to_string(id.value()));
      subject_->OnConnectFailed(now_, id);
    } else {
      const ConnectionId c(next_conn_++);
      Open(c, id);
      Log("> dialed c" + std::to_string(c.value()) + " to " + std::to_string(id.value()));
      subject_->OnConnected(now_, c, Direction::kOutbound, id);
    }
    Drain();
  }

  void Open(ConnectionId c, PeerId id) {
    Link& l = links_[c.value()];
    l.remote = id;
    l.kind = KindOf(id);
    l.announced = Bitfield(t_->piece_count());
    l.told = Bitfield(t_->piece_count());
  }

  Kind KindOf(PeerId id) {
    auto it = remotes_.find(id.value());
    if (it != remotes_.end()) return it->second.kind;
    Remote& x = remotes_[id.value()];  // a stranger: decide once
    x.kind = r_.Bernoulli(0.5) ? Kind::kHonest : Kind::kHostile;
    x.has = Bitfield(t_->piece_count());
    for (uint32_t p = 0; p < t_->piece_count(); ++p) {
      if (r_.Bernoulli(0.5)) x.has.Set(p);
    }
    return x.kind;
  }

  void RemoteHangsUp() {
    auto it = links_.begin();
    std::advance(it, r_.Below(links_.size()));
    const ConnectionId c(it->first);
    links_.erase(it);
    Log("> hang-up c" + std::to_string(c.value()));
    subject_->OnDisconnected(now_, c);
    Drain();
  }

  void BlockLeft() {
    const size_t i = r_.Below(std::min<size_t>(sending_.size(), 3));
    const auto [c, b] = sending_[i];
    sending_.erase(sending_.begin() + i);
    sent_bytes_ += b.length;
    Log("> block sent c" + std::to_string(c.value()));
    subject_->OnBlockSent(now_, c, b);
    Drain();
  }

  void Verified() {
    const size_t i = r_.Below(verifying_.size());
    const PieceIndex p = verifying_[i];
    verifying_.erase(verifying_.begin() + i);
    const bool ok = !tainted_.count(p.value()) && r_.Bernoulli(0.97);
    tainted_.erase(p.value());
    if (ok) {
      verified_.Set(p.value());
      if (verified_.All()) seed_since_ = now_;
    } else {
      failed_bytes_ += t_->PieceSize(p);
    }
    Log("> verified " + std::to_string(p.value()) + (ok ? " ok" : " bad"));
    subject_->OnPieceVerified(now_, p, ok);
    Drain();
  }

  void TrackerAnswers() {
    --announces_;
    AnnounceResponse a;
    switch (r_.Below(8)) {
      case 0: a.failure_reason = "unknown info-hash"; break;
      case 1: a.interval = Duration::Zero(); break;
      case 2: a.interval = Duration::Seconds(-5); break;
      case 3: a.interval = Duration::Seconds(30 + int64_t(r_.Below(600))); break;
      default: break;  // the default 30 minutes
    }
    const size_t n = r_.Below(20);
    for (size_t i = 0; i < n; ++i) {
      uint64_t id;
      switch (r_.Below(10)) {
        case 0: id = kSubjectId; break;                   // ourselves
        case 1: id = 100 + r_.Below(50); break;           // a stranger
        default: id = 1 + r_.Below(remotes_.size());      // a neighbour, maybe again
      }
      a.peers.push_back(PeerAddress{PeerId(id), "h:" + std::to_string(id)});
    }
    std::string ids;
    for (const PeerAddress& x : a.peers) ids += " " + std::to_string(x.id.value());
    Log("> tracker" + ids);
    subject_->OnTrackerResponse(now_, a);
    Drain();
  }

  void Stop() {
    subject_->OnStop(now_);
    stopping_ = true;
    Drain();
    stopping_ = false;
    stopped_ = true;
    if (HasFatalFailure()) return;
    EXPECT_TRUE(links_.empty()) << Where();
    EXPECT_FALSE(subject_->NextTimeout().has_value());
    // Inputs after a stop are ignored.
    subject_->OnTimeout(now_);
    subject_->OnMessage(now_, ConnectionId(1), KeepAlive{});
    subject_->OnConnected(now_, ConnectionId(next_conn_++), Direction::kInbound, std::nullopt);
    for (const Action& x : subject_->TakeActions()) {
      EXPECT_TRUE(std::holds_alternative<Disconnect>(x)) << ToString(x);
    }
  }

  // A neighbour gains a piece: tells the subject on its connections.
  void RemoteLearns() {
    if (links_.empty()) return;
    auto it = links_.begin();
    std::advance(it, r_.Below(links_.size()));
    Remote& x = remotes_[it->second.remote.value()];
    const uint32_t p = uint32_t(r_.Below(t_->piece_count()));
    x.has.Set(p);
  }

  // The neighbour on `c` sends one message.
  void Speak(uint64_t cid, Link& l) {
    const ConnectionId c(cid);
    Remote& x = remotes_[l.remote.value()];
    std::optional<Message> m;
    if (l.kind == Kind::kHostile && r_.Bernoulli(0.5)) {
      m = Garbage(l);
    } else if (!l.greeted) {
      m = Handshake{t_->info_hash(), l.remote};
    } else if (!l.sent_first) {
      m = x.has.None() ? Message(KeepAlive{}) : Message(BitfieldMessage{x.has.ToWire()});
    } else {
      m = Polite(l, x);
    }
    if (!m) return;
    Deliver(c, l, *m);
  }

  // A message that keeps to the protocol, given what this side knows.
  std::optional<Message> Polite(Link& l, Remote& x) {
    switch (r_.Below(10)) {
      case 0:
      case 1:
        if (!l.to_answer.empty() && l.kind != Kind::kSilent) {
          const BlockRef b = l.to_answer.front();
          l.to_answer.erase(l.to_answer.begin());
          return Piece{b};
        }
        return KeepAlive{};
      case 2:
        for (uint32_t p = 0; p < t_->piece_count(); ++p) {
          if (x.has.Test(p) && !l.announced.Test(p)) return Have{PieceIndex(p)};
        }
        return KeepAlive{};
      case 3: {
        const bool want = l.told.CountNotIn(x.has) > 0;
        if (want == l.interested_in_subject) return KeepAlive{};
        return want ? Message(Interested{}) : Message(NotInterested{});
      }
      case 4:
        return r_.Bernoulli(0.7) ? Message(Unchoke{}) : Message(Choke{});
      case 5:
      case 6: {
        // Ask for a block of a piece the subject announced, while unchoked.
        if (l.subject_choking || l.asked.size() >= 4) return KeepAlive{};
        std::vector<uint32_t> wanted;
        for (uint32_t p = 0; p < t_->piece_count(); ++p) {
          if (l.told.Test(p) && !x.has.Test(p)) wanted.push_back(p);
        }
        if (wanted.empty()) return KeepAlive{};
        const PieceIndex p(wanted[r_.Below(wanted.size())]);
        const uint32_t blocks = uint32_t((t_->PieceSize(p) + kBlock - 1) / kBlock);
        const uint32_t off = uint32_t(r_.Below(blocks)) * kBlock;
        const BlockRef b{p, off, uint32_t(std::min<Bytes>(kBlock, t_->PieceSize(p) - off))};
        return Request{b};
      }
      case 7:
        if (!l.asked.empty()) return Cancel{l.asked[r_.Below(l.asked.size())]};
        return KeepAlive{};
      default:
        return KeepAlive{};
    }
  }

  Message Garbage(Link& l) {
    const uint32_t n = t_->piece_count();
    auto index = [&]() -> uint32_t {
      switch (r_.Below(4)) {
        case 0: return uint32_t(r_.NextU64());
        case 1: return n + uint32_t(r_.Below(3));
        default: return uint32_t(r_.Below(n));
      }
    };
    auto block = [&]() {
      if (!l.outstanding.empty() && r_.Bernoulli(0.3)) {
        return l.outstanding[r_.Below(l.outstanding.size())];
      }
      const uint32_t offsets[] = {0, kBlock, 1, 2 * kBlock, 0xffffffffu, uint32_t(r_.NextU64())};
      const uint32_t lengths[] = {kBlock, kBlock, 0, 1, 1u << 20, uint32_t(r_.NextU64())};
      return BlockRef{PieceIndex(index()), offsets[r_.Below(6)], lengths[r_.Below(6)]};
    };
    switch (r_.Below(11)) {
      case 0: {
        InfoHash h = t_->info_hash();
        if (r_.Bernoulli(0.3)) h[r_.Below(32)] ^= 1;
        const uint64_t id = r_.Bernoulli(0.7) ? l.remote.value()
                            : r_.Bernoulli(0.5) ? kSubjectId : 1 + r_.Below(12);
        return Handshake{h, PeerId(id)};
      }
      case 1: return KeepAlive{};
      case 2: return Choke{};
      case 3: return Unchoke{};
      case 4: return Interested{};
      case 5: return NotInterested{};
      case 6: return Have{PieceIndex(index())};
      case 7: {
        std::vector<uint8_t> bits(r_.Bernoulli(0.8) ? (n + 7) / 8 : r_.Below(5));
        for (auto& b : bits) b = uint8_t(r_.NextU64());
        return BitfieldMessage{bits};
      }
      case 8: {
        if (r_.Bernoulli(0.5)) return Request{block()};
        // Well formed, but perhaps for a piece the subject never announced.
        const PieceIndex p(uint32_t(r_.Below(n)));
        const uint32_t off = uint32_t(r_.Below(2)) * kBlock;
        if (off >= t_->PieceSize(p)) return Interested{};
        return Request{BlockRef{p, off, uint32_t(std::min<Bytes>(kBlock, t_->PieceSize(p) - off))}};
      }
      case 9: return Piece{block()};
      default: return Cancel{block()};
    }
  }

  // Hands `m` to the subject, updating what the test knows first.
  void Deliver(ConnectionId c, Link& l, const Message& m) {
    delivered_piece_.reset();
    if (const auto* h = std::get_if<Handshake>(&m)) {
      if (!l.greeted) {
        l.greeted = true;
        l.accepted = true;  // until the subject drops it
        if (l.kind == Kind::kHostile) l.remote = h->peer_id;
      }
    } else if (l.greeted) {
      if (!std::holds_alternative<KeepAlive>(m)) l.sent_first = true;
      std::visit(
          Overloaded{
              [&](const BitfieldMessage& b) {
                if (auto bits = Bitfield::FromWire(b.bits, t_->piece_count())) l.announced = *bits;
              },
              [&](const Have& h) {
                if (h.piece.value() < t_->piece_count()) l.announced.Set(h.piece.value());
              },
              [&](const Choke&) {
                l.choking_subject = true;
                l.outstanding.clear();  // the subject gives them up
                if (r_.Bernoulli(0.5)) l.to_answer.clear();  // else still in flight
              },
              [&](const Unchoke&) { l.choking_subject = false; },
              [&](const Interested&) { l.interested_in_subject = true; },
              [&](const NotInterested&) { l.interested_in_subject = false; },
              [&](const Request& q) {
                if (!l.subject_choking &&
                    std::find(l.asked.begin(), l.asked.end(), q.block) == l.asked.end()) {
                  l.asked.push_back(q.block);
                }
              },
              [&](const Cancel& q) { std::erase(l.asked, q.block); },
              [&](const Piece& p) {
                std::erase(l.outstanding, p.block);
                delivered_piece_ = std::make_pair(c, p.block);
              },
              [](const auto&) {},
          },
          m);
    }
    Log("> c" + std::to_string(c.value()) + " says " + ToString(m));
    subject_->OnMessage(now_, c, m);
    Drain();
  }

  // --- Outputs and checks -------------------------------------------------

  void Drain() {
    for (const Action& a : subject_->TakeActions()) {
      Check(a);
      if (HasFatalFailure()) return;
    }
    CheckState();
  }

  void Check(const Action& a) {
    Log(ToString(a));
    const std::string what = ToString(a) + "\n" + Where();
    if (const auto* s = std::get_if<SendMessage>(&a)) return CheckSend(*s, what);
    if (const auto* s = std::get_if<SendBlock>(&a)) {
      auto it = links_.find(s->conn.value());
      ASSERT_NE(it, links_.end()) << "block on a closed connection: " << what;
      Link& l = it->second;
      ASSERT_TRUE(verified_.Test(s->block.piece.value())) << "unverified piece sent: " << what;
      ASSERT_FALSE(l.subject_choking) << "block to a choked neighbour: " << what;
      auto q = std::find(l.asked.begin(), l.asked.end(), s->block);
      ASSERT_NE(q, l.asked.end()) << "block nobody asked for: " << what;
      l.asked.erase(q);
      sending_.push_back({s->conn, s->block});
      return;
    }
    if (const auto* s = std::get_if<StoreBlock>(&a)) {
      ASSERT_TRUE(delivered_piece_ && delivered_piece_->first == s->conn &&
                  delivered_piece_->second == s->block)
          << "store without that block delivered: " << what;
      ASSERT_FALSE(verified_.Test(s->block.piece.value())) << what;
      delivered_piece_.reset();  // one store per delivery
      stored_bytes_ += s->block.length;
      if (links_.at(s->conn.value()).kind == Kind::kCorrupt) {
        tainted_.insert(s->block.piece.value());
      }
      return;
    }
    if (const auto* v = std::get_if<VerifyPiece>(&a)) {
      ASSERT_FALSE(verified_.Test(v->piece.value())) << what;
      ASSERT_EQ(std::count(verifying_.begin(), verifying_.end(), v->piece), 0) << what;
      verifying_.push_back(v->piece);
      return;
    }
    if (const auto* x = std::get_if<Connect>(&a)) {
      const PeerId id = x->address.id;
      ASSERT_NE(id.value(), kSubjectId) << what;
      ASSERT_FALSE(subject_->is_banned(id)) << what;
      ASSERT_EQ(dials_.count(id), 0u) << "dialing twice: " << what;
      for (const auto& [cid, l] : links_) {
        ASSERT_FALSE(l.accepted && l.remote == id) << "dialing a neighbour: " << what;
      }
      ASSERT_LT(links_.size() + dials_.size(), cfg_.min_connections)
          << "dialing with enough connections: " << what;
      dials_.insert(id);
      return;
    }
    if (const auto* d = std::get_if<Disconnect>(&a)) {
      auto it = links_.find(d->conn.value());
      ASSERT_NE(it, links_.end()) << "closing an unknown connection: " << what;
      if (stopping_) {
        EXPECT_EQ(d->reason, DisconnectReason::kShutdown) << what;
      } else if (it->second.kind == Kind::kHonest || it->second.kind == Kind::kSilent) {
        // kHashFailure: the test failed a piece it alone supplied (bad luck).
        ASSERT_TRUE(!IsProtocolViolation(d->reason) || d->reason == DisconnectReason::kHashFailure)
            << "a polite neighbour dropped: " << what;
      } else if (it->second.kind == Kind::kCorrupt) {
        ASSERT_TRUE(!IsProtocolViolation(d->reason) || d->reason == DisconnectReason::kHashFailure)
            << what;
      }
      links_.erase(it);
      return;
    }
    if (const auto* x = std::get_if<Announce>(&a)) {
      ++announces_;
      EXPECT_EQ(x->left, subject_->left()) << what;
      return;
    }
    if (std::holds_alternative<Completed>(a)) {
      ASSERT_FALSE(completed_ || started_as_seed_) << what;
      ASSERT_TRUE(verified_.All()) << what;
      completed_ = true;
    }
  }

  void CheckSend(const SendMessage& s, const std::string& what) {
    auto it = links_.find(s.conn.value());
    ASSERT_NE(it, links_.end()) << "message on a closed connection: " << what;
    Link& l = it->second;
    const bool handshake = std::holds_alternative<Handshake>(s.message);
    ASSERT_EQ(handshake, !l.subject_spoke) << "handshake not first, or twice: " << what;
    l.subject_spoke = true;
    std::visit(
        Overloaded{
            [&](const Handshake& h) {
              EXPECT_EQ(h.info_hash, t_->info_hash());
              EXPECT_EQ(h.peer_id, PeerId(kSubjectId));
            },
            [&](const BitfieldMessage& b) {
              ASSERT_TRUE(l.greeted) << what;
              ASSERT_FALSE(cfg_.super_seeding && verified_.All()) << what;
              auto bits = Bitfield::FromWire(b.bits, t_->piece_count());
              ASSERT_TRUE(bits.has_value()) << what;
              ASSERT_EQ(bits->CountNotIn(verified_), 0u) << "bitfield claims too much: " << what;
              l.told = *bits;
            },
            [&](const Have& h) {
              ASSERT_TRUE(l.greeted) << what;
              ASSERT_TRUE(verified_.Test(h.piece.value())) << "have before verification: " << what;
              l.told.Set(h.piece.value());
            },
            [&](const Choke&) {
              l.subject_choking = true;
              l.asked.clear();  // BEP 3: a choke discards pending requests
            },
            [&](const Unchoke&) {
              ASSERT_FALSE(cfg_.free_rider) << what;
              l.subject_choking = false;
            },
            [&](const Interested&) { l.subject_interested = true; },
            [&](const NotInterested&) { l.subject_interested = false; },
            [&](const Request& q) {
              const BlockRef& b = q.block;
              ASSERT_LT(b.piece.value(), t_->piece_count()) << what;
              ASSERT_FALSE(verified_.Test(b.piece.value())) << "asks for a piece it has: " << what;
              ASSERT_EQ(std::count(verifying_.begin(), verifying_.end(), b.piece), 0) << what;
              ASSERT_TRUE(l.announced.Test(b.piece.value())) << "piece not announced: " << what;
              ASSERT_FALSE(l.choking_subject) << "request while choked: " << what;
              ASSERT_TRUE(l.subject_interested) << "request while not interested: " << what;
              ASSERT_EQ(b.offset % kBlock, 0u) << what;
              ASSERT_EQ(Bytes(b.length), std::min<Bytes>(kBlock, t_->PieceSize(b.piece) - b.offset))
                  << what;
              ASSERT_EQ(std::count(l.outstanding.begin(), l.outstanding.end(), b), 0)
                  << "same block asked twice on one connection: " << what;
              l.outstanding.push_back(b);
              ASSERT_LE(l.outstanding.size(), MostInFlight()) << "pipeline overrun: " << what;
              // The neighbour will answer it (a silent one never does).
              if (remotes_[l.remote.value()].has.Test(b.piece.value())) l.to_answer.push_back(b);
            },
            [&](const Cancel& q) {
              std::erase(l.outstanding, q.block);
              // Usually withdrawn in time; otherwise the block still comes.
              if (r_.Bernoulli(0.7)) std::erase(l.to_answer, q.block);
            },
            [](const auto&) {},
        },
        s.message);
  }

  void CheckState() {
    const std::string where = Where();
    ASSERT_TRUE(subject_->CheckInvariants()) << where;
    ASSERT_EQ(subject_->IdleConnections(), 0u) << where;
    ASSERT_EQ(subject_->have(), verified_) << where;
    Bytes left = 0;
    for (uint32_t p = 0; p < t_->piece_count(); ++p) {
      if (!verified_.Test(p)) left += t_->PieceSize(PieceIndex(p));
    }
    ASSERT_EQ(subject_->left(), left) << where;
    ASSERT_EQ(subject_->stats().uploaded, sent_bytes_) << where;
    ASSERT_EQ(subject_->stats().downloaded,
              stored_bytes_ - failed_bytes_ - subject_->stats().discarded)
        << where;
    // Over the limit only by answered dials that may be one of a crossing
    // pair (the same peer dialing the subject at the same instant): kept
    // while inbound connections await their handshakes, no more of them
    // than awaited at once since the subject went over (inbound ones are
    // refused while it is full, so that number only falls), or while the
    // dialed peer has shaken hands on another connection.
    size_t awaiting = 0, twins = 0;
    for (const auto& [cid, l] : links_) {
      awaiting += l.inbound && !l.greeted;
      if (l.inbound || l.greeted) continue;
      for (const auto& [other_cid, m] : links_) {
        if (other_cid != cid && m.accepted && m.remote == l.remote) {
          ++twins;
          break;
        }
      }
    }
    peak_awaiting_ = links_.size() <= cfg_.max_connections ? awaiting
                                                            : std::max(peak_awaiting_, awaiting);
    ASSERT_LE(links_.size(), cfg_.max_connections + peak_awaiting_ + twins)
        << "too many connections\n" << where;
    size_t accepted = 0, holders = 0;
    for (const auto& [cid, l] : links_) {
      accepted += l.accepted;
      holders += !l.subject_choking && l.interested_in_subject;
    }
    ASSERT_EQ(subject_->connection_count(), accepted) << where;
    ASSERT_EQ(subject_->unchoked_count(), holders) << where;
    const bool counts_slots = cfg_.choker == ChokerKind::kTitForTat ||
                              cfg_.choker == ChokerKind::kStrictTitForTat ||
                              cfg_.choker == ChokerKind::kMainlineTitForTat ||
                              cfg_.choker == ChokerKind::kRoundRobin;
    if (counts_slots) {
      ASSERT_LE(holders, cfg_.unchoke_slots) << "upload slots overrun\n" << where;
    }
    CheckUploadsFlow(where);
    if (const auto next = subject_->NextTimeout()) {
      ASSERT_GE(*next, now_) << "deadline in the past\n" << where;
    }
  }

  // Liveness of uploads: a neighbour we unchoked whose requests wait while
  // the upload allowance is not used up is stalled (nothing else may come
  // to restart it: its pipeline is full). Weighted chokers (propshare,
  // bittyrant leechers) share one allowance over all connections, so only
  // the total counts while they may be in force, i.e. until the first
  // rechoke after the subject became a seed.
  void CheckUploadsFlow(const std::string& where) {
    if (cfg_.choker == ChokerKind::kStrictTitForTat && !verified_.All()) return;
    const bool weighted_chokers =
        cfg_.choker == ChokerKind::kPropShare || cfg_.choker == ChokerKind::kBitTyrant;
    const bool maybe_weighted = weighted_chokers && !started_as_seed_ &&
                                !(seed_since_ && last_timeout_ >= *seed_since_ + cfg_.rechoke_interval);
    std::map<uint64_t, uint32_t> in_flight;
    size_t total = 0;  // on open connections: a closed one frees its share
    for (const auto& [c, b] : sending_) {
      if (!links_.count(c.value())) continue;
      ++in_flight[c.value()];
      ++total;
    }
    for (const auto& [cid, l] : links_) {
      if (l.subject_choking || l.asked.empty()) continue;
      if (maybe_weighted) {
        ASSERT_GE(total, cfg_.uploads_in_flight) << "uploads stalled on c" << cid << "\n" << where;
      } else {
        ASSERT_GE(in_flight[cid], cfg_.uploads_in_flight)
            << "uploads stalled on c" << cid << "\n" << where;
      }
    }
  }

  Rng r_;
  uint64_t seed_;
  int step_ = 0;
  std::shared_ptr<TorrentInfo> t_;
  PeerConfig cfg_;
  std::unique_ptr<Peer> subject_;
  std::map<uint64_t, Remote> remotes_;
  std::map<uint64_t, Link> links_;  // by connection id
  std::set<PeerId> dials_;
  std::vector<std::pair<ConnectionId, BlockRef>> sending_;
  std::vector<PieceIndex> verifying_;
  std::set<uint32_t> tainted_;  // pieces holding a corrupt neighbour's block
  std::optional<std::pair<ConnectionId, BlockRef>> delivered_piece_;
  Bitfield verified_;
  Time now_;
  std::deque<std::string> log_;
  uint64_t next_conn_ = 1;
  // Inbound connections awaiting their handshake, the most at once since
  // the subject last held no more than max_connections (CheckState).
  size_t peak_awaiting_ = 0;
  int announces_ = 0;
  Bytes sent_bytes_ = 0, stored_bytes_ = 0, failed_bytes_ = 0;
  bool started_as_seed_ = false;
  std::optional<Time> seed_since_;  // when the subject became a seed
  Time last_timeout_;               // the last OnTimeout's time
  bool completed_ = false;
  bool stopping_ = false;
  bool stopped_ = false;
};

class PeerConversationFuzzTest : public ::testing::TestWithParam<uint64_t> {};

TEST_P(PeerConversationFuzzTest, KeepsTheProtocolWhateverTheNeighboursDo) {
  Conversation(GetParam()).Run(3000);
}

INSTANTIATE_TEST_SUITE_P(Seeds, PeerConversationFuzzTest, ::testing::Range<uint64_t>(1, 41));

}  // namespace
}  // namespace swarm::core
