// core::Peer driven by hand: exact action lists for the protocol's happy
// paths, and one test per rule that hostile input must trip.
#include "core/peer.h"

#include <limits>

#include <gtest/gtest.h>

#include "tests/core/printers.h"

namespace swarm::core {
namespace {

constexpr Bytes kPiece = 32 * kKiB;  // two 16 KiB blocks

TorrentInfo File() { return TorrentInfo::Synthetic("t.bin", 8 * kPiece, kPiece); }

PeerConfig Sequential() {
  PeerConfig c;
  c.piece_selection = PieceSelection::kSequential;
  c.random_first_pieces = 0;
  return c;
}

BlockRef Blk(uint32_t piece, uint32_t index) {
  return BlockRef{PieceIndex(piece), index * 16384u, 16384u};
}

class PeerTest : public ::testing::Test {
 protected:
  const TorrentInfo torrent_ = File();
  const ConnectionId c1_{1}, c2_{2};
  const PeerId self_{100}, remote_{7}, other_{8};
  Time now_ = Time() + Duration::Seconds(1);

  std::unique_ptr<Peer> Make(bool seed, PeerConfig config = Sequential()) {
    auto p = std::make_unique<Peer>(self_, torrent_, config, Rng(1));
    p->OnStart(now_, seed);
    p->TakeActions();
    return p;
  }
  // Connects `c` to `who` and completes the handshake; drops the actions.
  void Handshaken(Peer& p, ConnectionId c, PeerId who) {
    p.OnConnected(now_, c, Direction::kInbound, std::nullopt);
    p.OnMessage(now_, c, Handshake{torrent_.info_hash(), who});
    p.TakeActions();
  }
  // The peer's pending actions dial nobody.
  static void ExpectNoDial(Peer& p) {
    for (const Action& a : p.TakeActions()) {
      EXPECT_FALSE(std::holds_alternative<Connect>(a)) << ToString(a);
    }
  }
  BitfieldMessage Bits(const char* s) {
    return BitfieldMessage{Bitfield::FromString(s).ToWire()};
  }
  // Newcomer number `n`, holding every piece and never unchoking anyone,
  // connects at `t` (connection 100 + n, peer 1000 + n); newcomer n - 1
  // leaves as it comes.
  void ReplaceChokingNewcomer(Peer& p, Time t, uint64_t n) {
    const ConnectionId c(100 + n);
    p.OnConnected(t, c, Direction::kInbound, std::nullopt);
    p.OnMessage(t, c, Handshake{torrent_.info_hash(), PeerId(1000 + n)});
    p.OnMessage(t, c, Bits("11111111"));
    if (n > 0) p.OnDisconnected(t, ConnectionId(100 + n - 1));
  }
  // Connects `c` to `who` on torrent `t`, which has the pieces `bits`, and
  // is unchoked by it; the actions are left for the caller.
  void JoinUnchoked(Peer& p, const TorrentInfo& t, ConnectionId c, PeerId who,
                    const char* bits) {
    p.OnConnected(now_, c, Direction::kInbound, std::nullopt);
    p.OnMessage(now_, c, Handshake{t.info_hash(), who});
    p.OnMessage(now_, c, Bits(bits));
    p.OnMessage(now_, c, Unchoke{});
  }
  static Disconnect Dis(ConnectionId c, DisconnectReason r) { return Disconnect{c, r}; }
  // Parole set-up: one piece of four blocks, fetched two blocks at a time
  // in order, no end-game.
  static TorrentInfo ParoleTorrent() {
    return TorrentInfo::Synthetic("p.bin", 4 * 16 * kKiB, 4 * 16 * kKiB);
  }
  static PeerConfig ParoleConfig() {
    PeerConfig cfg = Sequential();
    cfg.request_pipeline = 2;
    cfg.endgame = false;
    return cfg;
  }
  // Starts `p` (made with ParoleConfig on ParoleTorrent `t`): c1 (remote_)
  // and c2 (other_) each supply half of piece 0, which fails: two sources,
  // so no culprit, and the piece goes on parole, asked of c1 alone.
  void StartParole(Peer& p, const TorrentInfo& t) {
    p.OnStart(now_, false);
    JoinUnchoked(p, t, c1_, remote_, "*");  // asked for (0,0) (0,1)
    JoinUnchoked(p, t, c2_, other_, "*");   // asked for (0,2) (0,3)
    for (uint32_t i : {0u, 1u}) p.OnMessage(now_, c1_, Piece{Blk(0, i)});
    for (uint32_t i : {2u, 3u}) p.OnMessage(now_, c2_, Piece{Blk(0, i)});
    p.TakeActions();
    p.OnPieceVerified(now_, PieceIndex(0), false);
    EXPECT_EQ(p.TakeActions(), (std::vector<Action>{SendMessage{c1_, Request{Blk(0, 0)}},
                                                    SendMessage{c1_, Request{Blk(0, 1)}}}));
  }
  // Runs p's timers up to `until`; the requests it sends meanwhile.
  static std::vector<Action> RequestsUntil(Peer& p, Time until) {
    std::vector<Action> requests;
    for (auto t = p.NextTimeout(); t && *t <= until; t = p.NextTimeout()) {
      p.OnTimeout(*t);
      for (Action& a : p.TakeActions()) {
        const auto* send = std::get_if<SendMessage>(&a);
        if (send && std::holds_alternative<Request>(send->message)) requests.push_back(a);
      }
    }
    return requests;
  }
  // Runs p's timers for up to 600 s, c1 (remote_) kept alive with
  // keep-alives until p drops it, until p dials other_: when c1 was dropped
  // as not useful and when other_ was dialed.
  std::pair<std::optional<Time>, std::optional<Time>> RunUntilOtherIsDialed(Peer& p) {
    std::optional<Time> dropped, dialed;
    while (!dialed && *p.NextTimeout() < now_ + Duration::Seconds(600)) {
      const Time t = *p.NextTimeout();
      if (!dropped) p.OnMessage(t, c1_, KeepAlive{});  // alive, so not inactive
      p.OnTimeout(t);
      for (const Action& a : p.TakeActions()) {
        if (a == Action{Dis(c1_, DisconnectReason::kNotUseful)}) dropped = t;
        if (a == Action{Connect{PeerAddress{other_, ""}}}) dialed = t;
      }
    }
    return {dropped, dialed};
  }
  // A leecher (`cfg`, holding `have`) told of remote_ and other_, at
  // min_connections 1: it dials remote_ alone, which shakes hands; other_
  // waits as a candidate. Later actions are left for the caller.
  std::unique_ptr<Peer> ShakenWithFirstOfTwoCandidates(const PeerConfig& cfg, const char* have) {
    auto p = std::make_unique<Peer>(self_, torrent_, cfg, Rng(1));
    p->OnStart(now_, Bitfield::FromString(have));
    AnnounceResponse r;
    r.peers = {PeerAddress{remote_, ""}, PeerAddress{other_, ""}};
    p->OnTrackerResponse(now_, r);
    EXPECT_EQ(p->TakeActions().back(), (Action{Connect{PeerAddress{remote_, ""}}}));
    p->OnConnected(now_, c1_, Direction::kOutbound, remote_);
    p->OnMessage(now_, c1_, Handshake{torrent_.info_hash(), remote_});
    return p;
  }
  // A leecher fetching pieces 0, 1 and half of 2 from c1 (which has all),
  // and interested in c2 (which has only piece 0, already taken): c2 is
  // unchoked with nothing to ask for. Actions are left for the caller.
  std::unique_ptr<Peer> SecondSourceWithNothingToAsk() {
    auto p = Make(false);
    Handshaken(*p, c1_, remote_);
    Handshaken(*p, c2_, other_);
    p->OnMessage(now_, c1_, Bits("11111111"));
    p->OnMessage(now_, c1_, Unchoke{});
    p->OnMessage(now_, c2_, Bits("10000000"));
    p->OnMessage(now_, c2_, Unchoke{});
    return p;
  }
};

TEST_F(PeerTest, StartAnnouncesWithWhatIsLeft) {
  Peer p(self_, torrent_, Sequential(), Rng(1));
  EXPECT_FALSE(p.NextTimeout().has_value());
  p.OnStart(now_, false);
  EXPECT_EQ(p.TakeActions(),
            (std::vector<Action>{Announce{AnnounceEvent::kStarted, 0, 0, 8 * kPiece, 50}}));
  ASSERT_TRUE(p.NextTimeout().has_value());
  EXPECT_GT(*p.NextTimeout(), now_);
}

TEST_F(PeerTest, TakeActionsIntoABufferReplacesItsContents) {
  Peer p(self_, torrent_, Sequential(), Rng(1));
  std::vector<Action> buffer = {Completed{}};  // stale contents are dropped
  p.OnStart(now_, false);
  p.TakeActions(buffer);
  EXPECT_EQ(buffer,
            (std::vector<Action>{Announce{AnnounceEvent::kStarted, 0, 0, 8 * kPiece, 50}}));
  p.TakeActions(buffer);
  EXPECT_TRUE(buffer.empty());
  EXPECT_TRUE(p.TakeActions().empty());
}

TEST_F(PeerTest, TrackerPeersAreDialedSkippingSelf) {
  auto p = Make(false);
  AnnounceResponse r;
  r.peers = {PeerAddress{self_, "a"}, PeerAddress{remote_, "b"}, PeerAddress{other_, "c"}};
  p->OnTrackerResponse(now_, r);
  EXPECT_EQ(p->TakeActions(), (std::vector<Action>{Connect{PeerAddress{remote_, "b"}},
                                                   Connect{PeerAddress{other_, "c"}}}));
  // The same peers again are not dialed twice. (This used to call
  // TakeActions() twice and read front() of the second, empty, result: a
  // duplicate dial was undefined behaviour, not a failure.)
  p->OnTrackerResponse(now_, r);
  ExpectNoDial(*p);
}

// A refused announce ("unknown info-hash" from a restarted tracker) is
// retried after min_reannounce_interval, not at the next 30-minute interval.
TEST_F(PeerTest, ARefusedAnnounceIsRetriedSoon) {
  const PeerConfig cfg = Sequential();
  auto p = Make(true, cfg);
  AnnounceResponse refused;
  refused.failure_reason = "unknown info-hash";
  p->OnTrackerResponse(now_, refused);
  Time t = now_;
  std::vector<Action> acts;
  while (acts.empty() || !std::holds_alternative<Announce>(acts.back())) {
    t = *p->NextTimeout();
    ASSERT_LE(t, now_ + cfg.min_reannounce_interval);
    p->OnTimeout(t);
    for (Action& a : p->TakeActions()) {
      if (std::holds_alternative<Announce>(a)) acts.push_back(a);
    }
  }
  EXPECT_EQ(t, now_ + cfg.min_reannounce_interval);
}

// The interval a tracker asks for is bounded by the core, the same for the
// simulator and the real driver: a broken or hostile tracker's 0-ish
// interval would otherwise have the peer announce in a tight loop, and a
// huge one would let the tracker forget it (or overflow the deadline).
TEST_F(PeerTest, ATrackersAnnounceIntervalIsBounded) {
  // The time between the two announces after a tracker answer at now_.
  auto GapAfterAnswer = [&](const PeerConfig& cfg, Duration interval) {
    auto p = Make(/*seed=*/true, cfg);
    AnnounceResponse r;
    r.interval = interval;
    p->OnTrackerResponse(now_, r);
    p->TakeActions();
    std::vector<Time> at;
    while (at.size() < 2) {
      const Time t = *p->NextTimeout();
      p->OnTimeout(t);
      for (const Action& a : p->TakeActions()) {
        if (std::holds_alternative<Announce>(a)) at.push_back(t);
      }
    }
    return at[1] - at[0];
  };
  const PeerConfig cfg = Sequential();
  ASSERT_EQ(cfg.min_reannounce_interval, Duration::Seconds(60));
  ASSERT_EQ(cfg.announce_interval, Duration::Seconds(1800));
  EXPECT_EQ(GapAfterAnswer(cfg, Duration::Micros(1)), Duration::Seconds(60));
  EXPECT_EQ(GapAfterAnswer(cfg, Duration::Millis(1)), Duration::Seconds(60));
  EXPECT_EQ(GapAfterAnswer(cfg, Duration::Seconds(59)), Duration::Seconds(60));
  EXPECT_EQ(GapAfterAnswer(cfg, Duration::Seconds(61)), Duration::Seconds(61));
  EXPECT_EQ(GapAfterAnswer(cfg, Duration::Seconds(2700)), Duration::Seconds(2700));
  EXPECT_EQ(GapAfterAnswer(cfg, kMaxAnnounceInterval), kMaxAnnounceInterval);
  EXPECT_EQ(GapAfterAnswer(cfg, Duration::Seconds(100 * 86400)), kMaxAnnounceInterval);
  EXPECT_EQ(GapAfterAnswer(cfg, Duration::Micros(std::numeric_limits<int64_t>::max())),
            kMaxAnnounceInterval);
  // No interval named (the real driver's 0, or nonsense): our own stays.
  EXPECT_EQ(GapAfterAnswer(cfg, Duration::Zero()), Duration::Seconds(1800));
  EXPECT_EQ(GapAfterAnswer(cfg, Duration::Seconds(-5)), Duration::Seconds(1800));
  // The floor is the peer's own min_reannounce_interval.
  PeerConfig eager = cfg;
  eager.min_reannounce_interval = Duration::Seconds(20);
  EXPECT_EQ(GapAfterAnswer(eager, Duration::Micros(1)), Duration::Seconds(20));
  EXPECT_EQ(GapAfterAnswer(eager, Duration::Seconds(30)), Duration::Seconds(30));

  // Our own interval must obey the same bounds.
  PeerConfig bad = cfg;
  bad.announce_interval = Duration::Seconds(30);
  EXPECT_EQ(bad.Validate(),
            "announce_interval must be between min_reannounce_interval (1min) and 24h");
  bad.announce_interval = Duration::Seconds(2 * 86400);
  EXPECT_EQ(bad.Validate(),
            "announce_interval must be between min_reannounce_interval (1min) and 24h");
  bad.announce_interval = Duration::Seconds(1800);
  bad.min_reannounce_interval = Duration::Seconds(2 * 86400);
  EXPECT_EQ(bad.Validate(), "min_reannounce_interval must be at most 24h");
}

// A driver that sees the tracker learn the file anew asks for an announce
// at once; otherwise the tracker would list no peer until the next interval.
TEST_F(PeerTest, TrackerResetAnnouncesNow) {
  auto p = Make(true);
  p->OnTrackerReset(now_ + Duration::Seconds(90));
  EXPECT_EQ(p->TakeActions(),
            (std::vector<Action>{Announce{AnnounceEvent::kNone, 0, 0, 0, 50}}));
}

TEST_F(PeerTest, HandshakeThenSeedSendsBitfield) {
  auto p = Make(/*seed=*/true);
  p->OnConnected(now_, c1_, Direction::kOutbound, remote_);
  EXPECT_EQ(p->TakeActions(),
            (std::vector<Action>{SendMessage{c1_, Handshake{torrent_.info_hash(), self_}}}));
  p->OnMessage(now_, c1_, Handshake{torrent_.info_hash(), remote_});
  EXPECT_EQ(p->TakeActions(),
            (std::vector<Action>{SendMessage{c1_, Bits("11111111")}}));
  EXPECT_EQ(p->connection_count(), 1u);
}

TEST_F(PeerTest, LeecherRequestsPipelineAfterUnchoke) {
  auto p = Make(false);
  Handshaken(*p, c1_, remote_);
  p->OnMessage(now_, c1_, Bits("11110000"));
  EXPECT_EQ(p->TakeActions(), (std::vector<Action>{SendMessage{c1_, Interested{}}}));
  p->OnMessage(now_, c1_, Unchoke{});
  EXPECT_EQ(p->TakeActions(), (std::vector<Action>{
                                  SendMessage{c1_, Request{Blk(0, 0)}},
                                  SendMessage{c1_, Request{Blk(0, 1)}},
                                  SendMessage{c1_, Request{Blk(1, 0)}},
                                  SendMessage{c1_, Request{Blk(1, 1)}},
                                  SendMessage{c1_, Request{Blk(2, 0)}},
                              }));
}

// A neighbour whose pieces were all being fetched elsewhere leaves us
// interested with nothing to ask it for; its next Have must be asked for at
// once (a stall found in a two-leecher swarm that traded almost nothing).
TEST_F(PeerTest, HaveOnAnIdleInterestedConnectionIsRequestedAtOnce) {
  auto p = SecondSourceWithNothingToAsk();
  EXPECT_EQ(p->TakeActions(), (std::vector<Action>{
                                  SendMessage{c1_, Interested{}},
                                  SendMessage{c1_, Request{Blk(0, 0)}},
                                  SendMessage{c1_, Request{Blk(0, 1)}},
                                  SendMessage{c1_, Request{Blk(1, 0)}},
                                  SendMessage{c1_, Request{Blk(1, 1)}},
                                  SendMessage{c1_, Request{Blk(2, 0)}},
                                  SendMessage{c2_, Interested{}},
                              }));
  p->OnMessage(now_, c2_, Have{PieceIndex(5)});
  EXPECT_EQ(p->TakeActions(), (std::vector<Action>{
                                  SendMessage{c2_, Request{Blk(5, 0)}},
                                  SendMessage{c2_, Request{Blk(5, 1)}},
                              }));
}

// The same stall by another route: requests given back by a connection we
// drop (here for a block we never asked for) must be asked of the others at
// once; a drop gets no OnDisconnected to do it later.
TEST_F(PeerTest, RequestsOfADroppedConnectionGoElsewhereAtOnce) {
  auto p = SecondSourceWithNothingToAsk();
  p->TakeActions();
  p->OnMessage(now_, c1_, Piece{Blk(7, 0)});
  EXPECT_EQ(p->TakeActions(), (std::vector<Action>{
                                  Dis(c1_, DisconnectReason::kUnrequestedBlock),
                                  SendMessage{c2_, Request{Blk(0, 0)}},
                                  SendMessage{c2_, Request{Blk(0, 1)}},
                              }));
  EXPECT_EQ(p->IdleConnections(), 0u);
}

TEST_F(PeerTest, CompletedPieceIsVerifiedThenAnnouncedWithHave) {
  auto p = Make(false);
  Handshaken(*p, c1_, remote_);
  Handshaken(*p, c2_, other_);
  p->OnMessage(now_, c1_, Bits("10000000"));
  p->OnMessage(now_, c1_, Unchoke{});
  p->TakeActions();
  p->OnMessage(now_, c1_, Piece{Blk(0, 0)});
  EXPECT_EQ(p->TakeActions(), (std::vector<Action>{StoreBlock{c1_, Blk(0, 0)}}));
  p->OnMessage(now_, c1_, Piece{Blk(0, 1)});
  EXPECT_EQ(p->TakeActions(), (std::vector<Action>{StoreBlock{c1_, Blk(0, 1)},
                                                   VerifyPiece{PieceIndex(0)}}));
  EXPECT_FALSE(p->have().Test(0));  // not counted before verification
  p->OnPieceVerified(now_, PieceIndex(0), true);
  // Every neighbour hears of it, c1 too though it has piece 0 (BEP 3: it
  // learns what we hold, e.g. a super-seed sees its piece arrive); and there
  // is nothing left to want from c1.
  EXPECT_EQ(p->TakeActions(), (std::vector<Action>{SendMessage{c1_, Have{PieceIndex(0)}},
                                                   SendMessage{c1_, NotInterested{}},
                                                   SendMessage{c2_, Have{PieceIndex(0)}}}));
  EXPECT_TRUE(p->have().Test(0));
  EXPECT_EQ(p->stats().downloaded, kPiece);
}

// The Have reaches every neighbour, whichever side dialed.
TEST_F(PeerTest, HaveGoesToDialedAndAcceptedNeighboursAlike) {
  const ConnectionId c3{3};
  const PeerId third{9};
  auto p = Make(false);
  p->OnConnected(now_, c1_, Direction::kOutbound, remote_);
  p->OnMessage(now_, c1_, Handshake{torrent_.info_hash(), remote_});
  Handshaken(*p, c2_, other_);  // inbound
  p->OnConnected(now_, c3, Direction::kOutbound, third);
  p->OnMessage(now_, c3, Handshake{torrent_.info_hash(), third});
  p->OnMessage(now_, c1_, Bits("10000000"));
  p->OnMessage(now_, c1_, Unchoke{});
  p->OnMessage(now_, c1_, Piece{Blk(0, 0)});
  p->OnMessage(now_, c1_, Piece{Blk(0, 1)});
  p->TakeActions();
  p->OnPieceVerified(now_, PieceIndex(0), true);
  EXPECT_EQ(p->TakeActions(), (std::vector<Action>{SendMessage{c1_, Have{PieceIndex(0)}},
                                                   SendMessage{c1_, NotInterested{}},
                                                   SendMessage{c2_, Have{PieceIndex(0)}},
                                                   SendMessage{c3, Have{PieceIndex(0)}}}));
}

TEST_F(PeerTest, LastPieceCompletesAnnouncesAndDropsSeeds) {
  PeerConfig cfg = Sequential();
  auto p = Make(false, cfg);
  Bitfield all_but_last(8, true);
  all_but_last.Clear(7);
  // Restart as a peer resuming with seven verified pieces.
  p = std::make_unique<Peer>(self_, torrent_, cfg, Rng(1));
  p->OnStart(now_, all_but_last);
  EXPECT_EQ(p->TakeActions(),
            (std::vector<Action>{Announce{AnnounceEvent::kStarted, 0, 0, kPiece, 50}}));
  Handshaken(*p, c1_, remote_);
  p->OnMessage(now_, c1_, Bits("11111111"));
  p->OnMessage(now_, c1_, Unchoke{});
  p->TakeActions();
  p->OnMessage(now_, c1_, Piece{Blk(7, 0)});
  p->OnMessage(now_, c1_, Piece{Blk(7, 1)});
  p->TakeActions();
  p->OnPieceVerified(now_, PieceIndex(7), true);
  // The seed hears of the last piece too before we part: had it been the
  // one to drop us, it would now know we are complete.
  EXPECT_EQ(p->TakeActions(),
            (std::vector<Action>{SendMessage{c1_, Have{PieceIndex(7)}},
                                 SendMessage{c1_, NotInterested{}}, Completed{},
                                 Announce{AnnounceEvent::kCompleted, 0, kPiece, 0, 50},
                                 Dis(c1_, DisconnectReason::kNotUseful)}));
  EXPECT_TRUE(p->is_seed());
}

// A super-seed shows a leecher one piece at a time (BEP 16), as a Have,
// and shows it the next once it sees the piece arrive: the leecher's Have
// for that piece, which used to be skipped because the super-seed "had it
// already". A super-seed with a single leecher then waited for good.
TEST_F(PeerTest, ASuperSeedHearsOfThePieceItRevealed) {
  auto p = Make(false);
  Handshaken(*p, c1_, remote_);
  p->OnMessage(now_, c1_, Bits("00000000"));  // a super-seed hides its pieces
  p->OnMessage(now_, c1_, Have{PieceIndex(3)});
  p->OnMessage(now_, c1_, Unchoke{});
  p->OnMessage(now_, c1_, Piece{Blk(3, 0)});
  p->OnMessage(now_, c1_, Piece{Blk(3, 1)});
  p->TakeActions();
  p->OnPieceVerified(now_, PieceIndex(3), true);
  EXPECT_EQ(p->TakeActions(), (std::vector<Action>{SendMessage{c1_, Have{PieceIndex(3)}},
                                                   SendMessage{c1_, NotInterested{}}}));
}

// The other side: a super-seed with one leecher reveals the next piece when
// that Have comes back, and the leecher completes.
TEST_F(PeerTest, ASuperSeedWithOneLeecherRevealsEveryPiece) {
  PeerConfig cfg = Sequential();
  cfg.super_seeding = true;
  auto seed = Make(true, cfg);
  auto leecher = std::make_unique<Peer>(remote_, torrent_, Sequential(), Rng(2));
  leecher->OnStart(now_, false);
  leecher->TakeActions();
  seed->OnConnected(now_, c1_, Direction::kInbound, std::nullopt);
  leecher->OnConnected(now_, c2_, Direction::kOutbound, self_);
  // Carries messages both ways (no latency) until neither has more to say;
  // a piece stored by the leecher is verified at once.
  std::vector<Action> to_leecher = seed->TakeActions(), to_seed = leecher->TakeActions();
  for (int round = 0; round < 1000 && !(to_leecher.empty() && to_seed.empty()); ++round) {
    std::vector<PieceIndex> verify;
    for (const Action& a : to_leecher) {
      if (const auto* m = std::get_if<SendMessage>(&a)) leecher->OnMessage(now_, c2_, m->message);
      if (const auto* b = std::get_if<SendBlock>(&a)) {
        seed->OnBlockSent(now_, c1_, b->block);
        leecher->OnMessage(now_, c2_, Piece{b->block});
      }
    }
    for (const Action& a : to_seed) {
      if (const auto* m = std::get_if<SendMessage>(&a)) seed->OnMessage(now_, c1_, m->message);
    }
    to_seed = leecher->TakeActions();
    for (const Action& a : to_seed) {
      if (const auto* v = std::get_if<VerifyPiece>(&a)) verify.push_back(v->piece);
    }
    for (PieceIndex v : verify) leecher->OnPieceVerified(now_, v, true);
    if (!verify.empty()) {
      std::vector<Action> more = leecher->TakeActions();
      to_seed.insert(to_seed.end(), more.begin(), more.end());
    }
    to_leecher = seed->TakeActions();
  }
  EXPECT_TRUE(leecher->is_seed()) << leecher->have().ToString();
}

TEST_F(PeerTest, SeedServesRequestsOneAtATimeAndStopsOnChoke) {
  auto p = Make(true);
  Handshaken(*p, c1_, remote_);
  p->OnMessage(now_, c1_, Interested{});
  EXPECT_EQ(p->TakeActions(), (std::vector<Action>{SendMessage{c1_, Unchoke{}}}));
  p->OnMessage(now_, c1_, Request{Blk(3, 0)});
  p->OnMessage(now_, c1_, Request{Blk(3, 1)});
  p->OnMessage(now_, c1_, Request{Blk(4, 0)});
  EXPECT_EQ(p->TakeActions(), (std::vector<Action>{SendBlock{c1_, Blk(3, 0)}}));
  p->OnMessage(now_, c1_, Cancel{Blk(3, 1)});
  p->OnBlockSent(now_, c1_, Blk(3, 0));
  EXPECT_EQ(p->TakeActions(), (std::vector<Action>{SendBlock{c1_, Blk(4, 0)}}));
  EXPECT_EQ(p->stats().uploaded, 16384);
}

TEST_F(PeerTest, RequestWhileChokedIsIgnoredNotPunished) {
  auto p = Make(true);
  Handshaken(*p, c1_, remote_);
  p->OnMessage(now_, c1_, Request{Blk(0, 0)});
  EXPECT_TRUE(p->TakeActions().empty());
  EXPECT_EQ(p->connection_count(), 1u);
}

TEST_F(PeerTest, ChokeGivesRequestsBackAndLateBlockIsStillAccepted) {
  auto p = Make(false);
  Handshaken(*p, c1_, remote_);
  Handshaken(*p, c2_, other_);
  p->OnMessage(now_, c1_, Bits("11111111"));
  p->OnMessage(now_, c2_, Bits("11111111"));
  p->OnMessage(now_, c1_, Unchoke{});
  p->TakeActions();
  p->OnMessage(now_, c1_, Choke{});
  p->TakeActions();
  // A block sent before the choke took effect: still good data.
  p->OnMessage(now_, c1_, Piece{Blk(0, 0)});
  EXPECT_EQ(p->TakeActions(), (std::vector<Action>{StoreBlock{c1_, Blk(0, 0)}}));
  // The other blocks are requested from c2 once it unchokes.
  p->OnMessage(now_, c2_, Unchoke{});
  auto acts = p->TakeActions();
  ASSERT_FALSE(acts.empty());
  EXPECT_EQ(acts.front(), Action(SendMessage{c2_, Request{Blk(0, 1)}}));
}

TEST_F(PeerTest, UnansweredRequestsTimeOutAndPeerIsSnubbed) {
  PeerConfig cfg = Sequential();
  auto p = Make(false, cfg);
  Handshaken(*p, c1_, remote_);
  p->OnMessage(now_, c1_, Bits("11111111"));
  p->OnMessage(now_, c1_, Unchoke{});
  p->TakeActions();
  Time t = now_;
  bool cancelled = false;
  while (t < now_ + cfg.request_timeout + cfg.housekeeping_interval * 2) {
    t = *p->NextTimeout();
    p->OnMessage(t, c1_, KeepAlive{});  // alive, but sends no blocks
    p->OnTimeout(t);
    for (const Action& a : p->TakeActions()) {
      if (auto* s = std::get_if<SendMessage>(&a)) {
        cancelled |= std::holds_alternative<Cancel>(s->message);
      }
    }
  }
  EXPECT_TRUE(cancelled);
}

TEST_F(PeerTest, SilentPeerIsDisconnectedAsInactive) {
  PeerConfig cfg = Sequential();
  auto p = Make(false, cfg);
  Handshaken(*p, c1_, remote_);
  std::vector<Action> all;
  Time t = now_;
  while (t < now_ + cfg.inactivity_timeout + cfg.housekeeping_interval) {
    t = *p->NextTimeout();
    p->OnTimeout(t);
    for (Action& a : p->TakeActions()) all.push_back(a);
  }
  EXPECT_NE(std::find(all.begin(), all.end(), Action(Dis(c1_, DisconnectReason::kInactive))),
            all.end());
  EXPECT_NE(std::find(all.begin(), all.end(), Action(SendMessage{c1_, KeepAlive{}})),
            all.end());
}

TEST_F(PeerTest, StopAnnouncesAndClosesEverything) {
  auto p = Make(false);
  Handshaken(*p, c1_, remote_);
  p->OnStop(now_);
  EXPECT_EQ(p->TakeActions(),
            (std::vector<Action>{Announce{AnnounceEvent::kStopped, 0, 0, 8 * kPiece, 0},
                                 Dis(c1_, DisconnectReason::kShutdown)}));
  EXPECT_FALSE(p->NextTimeout().has_value());
  p->OnMessage(now_, c1_, Have{PieceIndex(0)});  // ignored, no crash
  EXPECT_TRUE(p->TakeActions().empty());
}

// Connections are looked up by id in an open-addressing table that grows
// and closes the gaps of removed entries: every live connection is found,
// a removed one never, through growth and removals all over the table.
TEST_F(PeerTest, EveryLiveConnectionIsFoundThroughGrowthAndRemovals) {
  PeerConfig cfg = Sequential();
  cfg.max_connections = 50;
  auto p = Make(false, cfg);
  std::vector<ConnectionId> live;
  uint64_t next_id = 1000;
  auto add = [&](int n) {
    for (int i = 0; i < n; ++i) {
      // Ids far apart and close together, as a driver may hand them out.
      const ConnectionId c(next_id);
      next_id += (i % 3 == 0) ? 1 : 977;
      Handshaken(*p, c, PeerId(c.value()));
      live.push_back(c);
    }
  };
  auto remove_every = [&](size_t step) {
    std::vector<ConnectionId> kept;
    for (size_t i = 0; i < live.size(); ++i) {
      if (i % step == 0) {
        p->OnDisconnected(now_, live[i]);
        p->TakeActions();
        // Gone: its messages are ignored.
        p->OnMessage(now_, live[i], Have{PieceIndex(0)});
        EXPECT_TRUE(p->TakeActions().empty());
      } else {
        kept.push_back(live[i]);
      }
    }
    live = kept;
  };
  add(45);
  ASSERT_TRUE(p->CheckInvariants());
  remove_every(2);
  ASSERT_TRUE(p->CheckInvariants());
  add(20);
  remove_every(3);
  add(10);
  ASSERT_TRUE(p->CheckInvariants());
  // Each live connection still answers: a Have of a missing piece makes
  // us interested in that neighbour.
  for (ConnectionId c : live) {
    p->OnMessage(now_, c, Have{PieceIndex(0)});
    const std::vector<Action> out = p->TakeActions();
    ASSERT_FALSE(out.empty()) << c.value();
    EXPECT_EQ(out.front(), Action(SendMessage{c, Interested{}})) << c.value();
  }
}

TEST_F(PeerTest, DuplicateConnectionKeepsTheOneDialedByLowerId) {
  auto p = Make(false);  // self 100 > remote 7: keep the one remote dialed
  p->OnConnected(now_, c1_, Direction::kOutbound, remote_);
  p->OnConnected(now_, c2_, Direction::kInbound, std::nullopt);
  p->TakeActions();
  p->OnMessage(now_, c1_, Handshake{torrent_.info_hash(), remote_});
  p->OnMessage(now_, c2_, Handshake{torrent_.info_hash(), remote_});
  EXPECT_EQ(p->TakeActions(),
            (std::vector<Action>{Dis(c1_, DisconnectReason::kDuplicateConnection)}));
  EXPECT_EQ(p->connection_count(), 1u);
}

// ---------------------------------------------------------------------------
// Hostile input: each rule ends the connection with its reason, never crashes
// and never counts bad data.

struct HostileCase {
  const char* name;
  bool seed;  // the Peer under test is a seed
  std::function<Message(const TorrentInfo&)> message;
  DisconnectReason expect;
};

class HostileTest : public PeerTest, public ::testing::WithParamInterface<HostileCase> {};

TEST_P(HostileTest, Disconnects) {
  const HostileCase& hc = GetParam();
  auto p = Make(hc.seed);
  Handshaken(*p, c1_, remote_);
  if (hc.seed) {
    p->OnMessage(now_, c1_, Interested{});  // unchoked at once: free slot
    p->TakeActions();
  }
  p->OnMessage(now_, c1_, hc.message(torrent_));
  auto acts = p->TakeActions();
  ASSERT_FALSE(acts.empty()) << hc.name;
  EXPECT_EQ(acts.back(), Action(Dis(c1_, hc.expect))) << hc.name;
  EXPECT_EQ(p->connection_count(), 0u);
  EXPECT_EQ(p->stats().protocol_disconnects, 1u);
  EXPECT_EQ(p->stats().downloaded, 0);
  for (const Action& a : acts) EXPECT_FALSE(std::holds_alternative<StoreBlock>(a));
}

INSTANTIATE_TEST_SUITE_P(
    Rules, HostileTest,
    ::testing::Values(
        HostileCase{"second handshake", false,
                    [](const TorrentInfo& t) -> Message { return Handshake{t.info_hash(), PeerId(7)}; },
                    DisconnectReason::kUnexpectedHandshake},
        HostileCase{"bitfield too short", false,
                    [](const TorrentInfo&) -> Message { return BitfieldMessage{{}}; },
                    DisconnectReason::kBadBitfield},
        HostileCase{"bitfield too long", false,
                    [](const TorrentInfo&) -> Message { return BitfieldMessage{{0xff, 0}}; },
                    DisconnectReason::kBadBitfield},
        HostileCase{"have out of range", false,
                    [](const TorrentInfo&) -> Message { return Have{PieceIndex(8)}; },
                    DisconnectReason::kIndexOutOfRange},
        HostileCase{"have far out of range", false,
                    [](const TorrentInfo&) -> Message { return Have{PieceIndex(0xffffffff)}; },
                    DisconnectReason::kIndexOutOfRange},
        HostileCase{"request piece out of range", true,
                    [](const TorrentInfo&) -> Message { return Request{BlockRef{PieceIndex(99), 0, 16384}}; },
                    DisconnectReason::kIndexOutOfRange},
        HostileCase{"request past piece end", true,
                    [](const TorrentInfo&) -> Message { return Request{BlockRef{PieceIndex(0), 30000, 16384}}; },
                    DisconnectReason::kIndexOutOfRange},
        HostileCase{"request offset overflow", true,
                    [](const TorrentInfo&) -> Message { return Request{BlockRef{PieceIndex(0), 0xffffffff, 16384}}; },
                    DisconnectReason::kIndexOutOfRange},
        HostileCase{"request zero length", true,
                    [](const TorrentInfo&) -> Message { return Request{BlockRef{PieceIndex(0), 0, 0}}; },
                    DisconnectReason::kBadLength},
        HostileCase{"piece never requested", false,
                    [](const TorrentInfo&) -> Message { return Piece{BlockRef{PieceIndex(0), 0, 16384}}; },
                    DisconnectReason::kUnrequestedBlock},
        HostileCase{"piece out of range", false,
                    [](const TorrentInfo&) -> Message { return Piece{BlockRef{PieceIndex(42), 0, 16384}}; },
                    DisconnectReason::kIndexOutOfRange},
        HostileCase{"cancel out of range", true,
                    [](const TorrentInfo&) -> Message { return Cancel{BlockRef{PieceIndex(42), 0, 1}}; },
                    DisconnectReason::kIndexOutOfRange}),
    [](const auto& info) {
      std::string n = info.param.name;
      for (char& ch : n) if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
      return n;
    });

TEST_F(PeerTest, MessageBeforeHandshake) {
  auto p = Make(false);
  p->OnConnected(now_, c1_, Direction::kInbound, std::nullopt);
  p->TakeActions();
  p->OnMessage(now_, c1_, Have{PieceIndex(0)});
  EXPECT_EQ(p->TakeActions(),
            (std::vector<Action>{Dis(c1_, DisconnectReason::kMessageBeforeHandshake)}));
}

TEST_F(PeerTest, WrongInfoHashAndSelfConnection) {
  auto p = Make(false);
  p->OnConnected(now_, c1_, Direction::kInbound, std::nullopt);
  p->OnConnected(now_, c2_, Direction::kInbound, std::nullopt);
  p->TakeActions();
  InfoHash wrong = torrent_.info_hash();
  wrong[0] ^= 1;
  p->OnMessage(now_, c1_, Handshake{wrong, remote_});
  p->OnMessage(now_, c2_, Handshake{torrent_.info_hash(), self_});
  EXPECT_EQ(p->TakeActions(),
            (std::vector<Action>{Dis(c1_, DisconnectReason::kWrongInfoHash),
                                 Dis(c2_, DisconnectReason::kSelfConnection)}));
}

TEST_F(PeerTest, BitfieldWithSpareBitsOrAfterHaveIsRejected) {
  auto p = Make(false);
  Handshaken(*p, c1_, remote_);
  Bitfield nine(9, true);  // bit 8 lies in the spare bits of an 8-piece field
  p->OnMessage(now_, c1_, BitfieldMessage{{0xff, 0x80}});
  EXPECT_EQ(p->TakeActions(), (std::vector<Action>{Dis(c1_, DisconnectReason::kBadBitfield)}));
  Handshaken(*p, c2_, other_);
  p->OnMessage(now_, c2_, Have{PieceIndex(1)});
  p->OnMessage(now_, c2_, Bits("11111111"));
  auto acts = p->TakeActions();
  EXPECT_EQ(acts.back(), Action(Dis(c2_, DisconnectReason::kBadBitfield)));
}

// A keep-alive carries no message id and says nothing about the sender's
// pieces, so it does not use up the bitfield's place as the first message
// (a neighbour with nothing to say for two minutes sends one).
TEST_F(PeerTest, KeepAliveBeforeBitfieldIsNoViolation) {
  auto p = Make(false);
  Handshaken(*p, c1_, remote_);
  p->OnMessage(now_, c1_, KeepAlive{});
  p->OnMessage(now_, c1_, Bits("11111111"));
  EXPECT_EQ(p->TakeActions(), (std::vector<Action>{SendMessage{c1_, Interested{}}}));
  EXPECT_EQ(p->connection_count(), 1u);
  EXPECT_EQ(p->stats().protocol_disconnects, 0u);
  // Any other message still takes the first place.
  Handshaken(*p, c2_, other_);
  p->OnMessage(now_, c2_, KeepAlive{});
  p->OnMessage(now_, c2_, Interested{});
  p->OnMessage(now_, c2_, Bits("11111111"));
  auto acts = p->TakeActions();
  ASSERT_FALSE(acts.empty());
  EXPECT_EQ(acts.back(), Action(Dis(c2_, DisconnectReason::kBadBitfield)));
}

TEST_F(PeerTest, RequestForMissingPieceAndOversizedRequest) {
  PeerConfig cfg = Sequential();
  auto p = std::make_unique<Peer>(self_, torrent_, cfg, Rng(1));
  p->OnStart(now_, Bitfield::FromString("10000000"));
  p->TakeActions();
  Handshaken(*p, c1_, remote_);
  Handshaken(*p, c2_, other_);
  p->OnMessage(now_, c1_, Interested{});
  p->OnMessage(now_, c2_, Interested{});
  p->TakeActions();
  p->OnMessage(now_, c1_, Request{Blk(3, 0)});
  p->OnMessage(now_, c2_, Request{BlockRef{PieceIndex(0), 0, 256 * 1024}});
  EXPECT_EQ(p->TakeActions(),
            (std::vector<Action>{Dis(c1_, DisconnectReason::kRequestForMissingPiece),
                                 Dis(c2_, DisconnectReason::kBadLength)}));
}

TEST_F(PeerTest, FloodOfRequestsIsCutOff) {
  PeerConfig cfg = Sequential();
  cfg.max_queued_requests = 8;
  auto p = Make(true, cfg);
  Handshaken(*p, c1_, remote_);
  p->OnMessage(now_, c1_, Interested{});
  for (uint32_t i = 0; i < 16; ++i) p->OnMessage(now_, c1_, Request{Blk(i / 2, i % 2)});
  auto acts = p->TakeActions();
  EXPECT_EQ(acts.back(), Action(Dis(c1_, DisconnectReason::kTooManyRequests)));
}

TEST_F(PeerTest, BlockOfWrongLengthIsUnrequested) {
  auto p = Make(false);
  Handshaken(*p, c1_, remote_);
  p->OnMessage(now_, c1_, Bits("11111111"));
  p->OnMessage(now_, c1_, Unchoke{});
  p->TakeActions();
  p->OnMessage(now_, c1_, Piece{BlockRef{PieceIndex(0), 0, 100}});
  EXPECT_EQ(p->TakeActions(),
            (std::vector<Action>{Dis(c1_, DisconnectReason::kUnrequestedBlock)}));
}

TEST_F(PeerTest, PieceFailingHashFromOnePeerBansItAndIsRefetched) {
  PeerConfig cfg = Sequential();
  cfg.request_pipeline = 16;  // room to ask c2 for every missing block
  auto p = Make(false, cfg);
  Handshaken(*p, c1_, remote_);
  p->OnMessage(now_, c1_, Bits("11111111"));
  p->OnMessage(now_, c1_, Unchoke{});
  p->OnMessage(now_, c1_, Piece{Blk(0, 0)});
  p->OnMessage(now_, c1_, Piece{Blk(0, 1)});
  p->TakeActions();
  p->OnPieceVerified(now_, PieceIndex(0), false);
  EXPECT_EQ(p->TakeActions(),
            (std::vector<Action>{Dis(c1_, DisconnectReason::kHashFailure)}));
  EXPECT_FALSE(p->have().Test(0));
  EXPECT_EQ(p->stats().downloaded, 0);
  EXPECT_EQ(p->stats().pieces_failed, 1u);
  EXPECT_TRUE(p->is_banned(remote_));
  // The banned peer cannot come back under the same identity.
  p->OnConnected(now_, ConnectionId(9), Direction::kInbound, std::nullopt);
  p->TakeActions();
  p->OnMessage(now_, ConnectionId(9), Handshake{torrent_.info_hash(), remote_});
  EXPECT_EQ(p->TakeActions(),
            (std::vector<Action>{Dis(ConnectionId(9), DisconnectReason::kBanned)}));
  // An honest peer gets piece 0 requested again.
  Handshaken(*p, c2_, other_);
  p->OnMessage(now_, c2_, Bits("11111111"));
  p->OnMessage(now_, c2_, Unchoke{});
  auto acts = p->TakeActions();
  EXPECT_NE(std::find(acts.begin(), acts.end(), Action(SendMessage{c2_, Request{Blk(0, 0)}})),
            acts.end());
}

// A parole piece is fetched from one owner at a time. If the owner leaves
// between requests (all it was asked for arrived, the piece is unfinished),
// the piece must pass to another peer, or the download stalls for good.
TEST_F(PeerTest, ParolePieceOutlivesItsOwnersDeparture) {
  // Two pieces of four blocks; two requests in flight per connection.
  const TorrentInfo t = TorrentInfo::Synthetic("p.bin", 2 * 4 * 16 * kKiB, 4 * 16 * kKiB);
  PeerConfig cfg = Sequential();
  cfg.request_pipeline = 2;
  Peer p(self_, t, cfg, Rng(1));
  p.OnStart(now_, false);
  const ConnectionId c3{3};
  const PeerId third{9};
  JoinUnchoked(p, t, c2_, other_, ".*");  // asked for (1,0) (1,1)
  JoinUnchoked(p, t, c1_, remote_, "**");  // asked for (1,2) (1,3)
  for (uint32_t i : {0u, 1u}) p.OnMessage(now_, c2_, Piece{Blk(1, i)});
  for (uint32_t i : {2u, 3u}) p.OnMessage(now_, c1_, Piece{Blk(1, i)});  // c1 moves to (0,0) (0,1)
  p.OnMessage(now_, c2_, Choke{});
  p.OnPieceVerified(now_, PieceIndex(1), false);  // two sources: parole, no culprit
  ASSERT_TRUE(p.CheckInvariants());
  JoinUnchoked(p, t, c3, third, "*.");  // asked for (0,2) (0,3)
  p.OnMessage(now_, c1_, Piece{Blk(0, 0)});        // c1 takes parole piece 1: (1,0)
  p.OnMessage(now_, c3, Choke{});                  // (0,2) (0,3) free again
  p.OnMessage(now_, c1_, Piece{Blk(1, 0)});        // c1 prefers piece 0: (0,2)
  p.TakeActions();
  p.OnDisconnected(now_, c1_);  // the owner leaves with piece 1 unfinished
  p.OnMessage(now_, c2_, Unchoke{});
  auto acts = p.TakeActions();
  EXPECT_NE(std::find(acts.begin(), acts.end(), Action(SendMessage{c2_, Request{Blk(1, 1)}})),
            acts.end())
      << p.DebugString();
}

// A failed piece names a culprit only when one peer sent all of it. Here
// the first sender also sends the last block; another peer sent one in
// between, so nobody is banned.
TEST_F(PeerTest, PieceMixedFromTwoPeersBansNobody) {
  const TorrentInfo t = TorrentInfo::Synthetic("p.bin", 2 * 4 * 16 * kKiB, 4 * 16 * kKiB);
  PeerConfig cfg = Sequential();
  cfg.request_pipeline = 2;
  Peer p(self_, t, cfg, Rng(1));
  p.OnStart(now_, false);
  JoinUnchoked(p, t, c2_, other_, ".*");   // asked for (1,0) (1,1)
  JoinUnchoked(p, t, c1_, remote_, "**");  // asked for (1,2) (1,3)
  p.OnMessage(now_, c2_, Piece{Blk(1, 0)});
  p.OnMessage(now_, c1_, Piece{Blk(1, 2)});
  p.OnMessage(now_, c1_, Piece{Blk(1, 3)});
  p.OnMessage(now_, c2_, Piece{Blk(1, 1)});  // the first sender again
  p.TakeActions();
  p.OnPieceVerified(now_, PieceIndex(1), false);
  EXPECT_EQ(p.stats().pieces_failed, 1u);
  EXPECT_FALSE(p.is_banned(other_));
  EXPECT_FALSE(p.is_banned(remote_));
  for (const Action& a : p.TakeActions()) EXPECT_FALSE(std::holds_alternative<Disconnect>(a));
}

// A parole piece is fetched from one peer so that a second failure names
// it. A late answer from a former owner must not join the attempt of the
// peer that took over: it would mix the piece again, and nobody would be
// struck when it fails (a polluter's way to dodge its ban).
TEST_F(PeerTest, LateBlockFromAFormerOwnerStaysOutOfAParolePiece) {
  const TorrentInfo t = ParoleTorrent();
  const PeerConfig cfg = ParoleConfig();
  Peer p(self_, t, cfg, Rng(1));
  StartParole(p, t);
  // c1 leaves our requests unanswered: it snubs us, and c2 takes the piece over.
  EXPECT_EQ(RequestsUntil(p, now_ + cfg.request_timeout + cfg.housekeeping_interval),
            (std::vector<Action>{SendMessage{c2_, Request{Blk(0, 0)}},
                                 SendMessage{c2_, Request{Blk(0, 1)}}}));
  const Bytes wasted = p.stats().wasted;
  p.OnMessage(now_, c1_, Piece{Blk(0, 0)});  // c1's late answer
  EXPECT_EQ(p.TakeActions(), std::vector<Action>{});  // not stored, c2 not cancelled
  EXPECT_EQ(p.stats().wasted, wasted + 16 * kKiB);
  // c2 alone supplies the piece; when it fails again, c2 is the culprit.
  for (uint32_t i : {0u, 1u, 2u, 3u}) p.OnMessage(now_, c2_, Piece{Blk(0, i)});
  p.TakeActions();
  p.OnPieceVerified(now_, PieceIndex(0), false);
  EXPECT_TRUE(p.is_banned(other_));
  EXPECT_FALSE(p.is_banned(remote_));
  EXPECT_EQ(p.stats().pieces_failed, 2u);
}

// A parole owner that chokes us keeps the piece: a piece may take many
// unchoke rounds to fetch, and handing it on at every choke threw each
// owner's part away for good (random swarm 958 --extended: 1 MiB pieces at
// 500 kbit/s under 2 s round-robin rounds, leechers downloading for 3 h
// without completing). Unchoked again, it goes on where it stopped.
TEST_F(PeerTest, ChokedParoleOwnerKeepsThePiece) {
  const TorrentInfo t = ParoleTorrent();
  const PeerConfig cfg = ParoleConfig();
  Peer p(self_, t, cfg, Rng(1));
  StartParole(p, t);
  p.OnMessage(now_, c1_, Piece{Blk(0, 0)});  // asks c1 for (0,2) next
  p.TakeActions();
  p.OnMessage(now_, c1_, Choke{});
  EXPECT_EQ(p.TakeActions(), std::vector<Action>{});  // c2 is not asked
  now_ = now_ + cfg.optimistic_interval;
  EXPECT_EQ(RequestsUntil(p, now_), std::vector<Action>{});
  p.OnMessage(now_, c1_, Unchoke{});
  EXPECT_EQ(p.TakeActions(), (std::vector<Action>{SendMessage{c1_, Request{Blk(0, 1)}},
                                                  SendMessage{c1_, Request{Blk(0, 2)}}}));
  EXPECT_EQ(p.stats().discarded, 0);
}

// A parole owner that leaves while choking us (its connection closed, or
// turned over by us) hands the piece on at once. It had no requests in
// flight, so before, nothing asked the others: a neighbour unchoking us
// sat idle with the piece's blocks to give until some other input came.
TEST_F(PeerTest, ChokingParoleOwnerLeavingHandsThePieceOnAtOnce) {
  const TorrentInfo t = ParoleTorrent();
  Peer p(self_, t, ParoleConfig(), Rng(1));
  StartParole(p, t);
  p.OnMessage(now_, c1_, Piece{Blk(0, 0)});
  p.OnMessage(now_, c1_, Choke{});
  p.TakeActions();
  p.OnDisconnected(now_, c1_);
  EXPECT_EQ(p.TakeActions(), (std::vector<Action>{SendMessage{c2_, Request{Blk(0, 0)}},
                                                  SendMessage{c2_, Request{Blk(0, 1)}}}));
  EXPECT_EQ(p.IdleConnections(), 0u);
}

// A starved leecher with a candidate waiting does not turn over the owner
// of a parole piece that chokes us: it would take its part of the piece
// with it, and owners each turned over after one unchoke round never
// finished the piece. The owner keeps it for its patience (two optimistic
// intervals here, longer than the request timeout that starves us); then
// the piece passes on, and the former owner is a choking holder like any.
TEST_F(PeerTest, StarvedLeecherWaitsOutAChokingParoleOwnersPatience) {
  const TorrentInfo t = ParoleTorrent();
  PeerConfig cfg = ParoleConfig();
  cfg.min_connections = 2;
  cfg.optimistic_interval = cfg.request_timeout;  // patience: two request timeouts
  Peer p(self_, t, cfg, Rng(1));
  StartParole(p, t);
  AnnounceResponse r;
  r.peers = {PeerAddress{PeerId(9), ""}};
  p.OnTrackerResponse(now_, r);  // a candidate, not dialed: two connections
  p.OnMessage(now_, c1_, Piece{Blk(0, 0)});
  p.OnMessage(now_, c1_, Choke{});
  p.TakeActions();
  const Duration patience = cfg.optimistic_interval * 2;
  std::optional<Time> dropped, asked;
  for (auto t2 = p.NextTimeout(); t2 && *t2 <= now_ + patience + cfg.housekeeping_interval;
       t2 = p.NextTimeout()) {
    p.OnMessage(*t2, c1_, KeepAlive{});  // both alive, so not inactive
    p.OnMessage(*t2, c2_, KeepAlive{});
    p.OnTimeout(*t2);
    for (const Action& a : p.TakeActions()) {
      if (a == Action{Dis(c1_, DisconnectReason::kNotUseful)}) dropped = *t2;
      if (!asked && a == Action{SendMessage{c2_, Request{Blk(0, 0)}}}) asked = *t2;
    }
  }
  ASSERT_TRUE(asked);
  EXPECT_GE(*asked, now_ + patience);
  if (dropped) EXPECT_GE(*dropped, *asked);  // a choking holder like any other now
}

// The exemption is for an owner waiting for its round, not for one that
// snubs us: that one takes its piece straight back after each snub (no
// other neighbour unchokes us to take it over), and is turned over like
// any holder that leaves our requests unanswered.
TEST_F(PeerTest, StarvedLeecherTurnsOverASnubbingParoleOwner) {
  const TorrentInfo t = ParoleTorrent();
  PeerConfig cfg = ParoleConfig();
  cfg.min_connections = 2;
  Peer p(self_, t, cfg, Rng(1));
  StartParole(p, t);  // c1 owns the piece, asked for (0,0) (0,1)
  p.OnMessage(now_, c2_, Choke{});
  AnnounceResponse r;
  r.peers = {PeerAddress{PeerId(9), ""}};
  p.OnTrackerResponse(now_, r);  // a candidate, not dialed: two connections
  p.TakeActions();
  std::optional<Time> dropped;
  std::optional<ConnectionId> which;
  for (auto t2 = p.NextTimeout(); t2 && !dropped && *t2 <= now_ + Duration::Seconds(600);
       t2 = p.NextTimeout()) {
    p.OnMessage(*t2, c1_, KeepAlive{});  // both alive, so not inactive
    p.OnMessage(*t2, c2_, KeepAlive{});
    p.OnTimeout(*t2);
    for (const Action& a : p.TakeActions()) {
      if (const auto* d = std::get_if<Disconnect>(&a);
          d && d->reason == DisconnectReason::kNotUseful) {
        dropped = *t2;
        which = d->conn;
      }
    }
  }
  ASSERT_TRUE(dropped);
  EXPECT_EQ(*which, c1_);
  EXPECT_LE(*dropped, now_ + cfg.request_timeout + cfg.housekeeping_interval * 2);
}

// A parole owner that delivers part of the piece and then keeps us choked
// for two optimistic intervals lets it go: the peer that takes over fetches
// the whole piece, whose blocks overwrite the former owner's (counted as
// wasted), so that a failure still names one culprit.
TEST_F(PeerTest, ParolePieceTakenOverIsFetchedWholeFromTheNewOwner) {
  const TorrentInfo t = ParoleTorrent();
  const PeerConfig cfg = ParoleConfig();
  Peer p(self_, t, cfg, Rng(1));
  StartParole(p, t);
  p.OnMessage(now_, c1_, Piece{Blk(0, 0)});  // c1 delivers one block ...
  EXPECT_EQ(p.TakeActions(), (std::vector<Action>{StoreBlock{c1_, Blk(0, 0)},
                                                  SendMessage{c1_, Request{Blk(0, 2)}}}));
  const Bytes wasted = p.stats().wasted;
  const Bytes downloaded = p.stats().downloaded;
  p.OnMessage(now_, c1_, Choke{});  // ... and chokes us for good
  const Duration patience = cfg.optimistic_interval * 2;
  EXPECT_EQ(RequestsUntil(p, now_ + patience - Duration::Seconds(1)), std::vector<Action>{});
  ASSERT_EQ(RequestsUntil(p, now_ + patience + cfg.housekeeping_interval),
            (std::vector<Action>{SendMessage{c2_, Request{Blk(0, 0)}},
                                 SendMessage{c2_, Request{Blk(0, 1)}}}));
  EXPECT_EQ(p.stats().wasted, wasted + 16 * kKiB);
  EXPECT_EQ(p.stats().downloaded, downloaded - 16 * kKiB);
  EXPECT_EQ(p.stats().discarded, 16 * kKiB);
  for (uint32_t i : {0u, 1u, 2u, 3u}) {
    p.OnMessage(now_, c2_, Piece{Blk(0, i)});
    bool stored = false;
    for (const Action& a : p.TakeActions()) stored |= a == Action{StoreBlock{c2_, Blk(0, i)}};
    EXPECT_TRUE(stored) << "block " << i;
  }
  // c2 alone supplied the piece: when it fails again, c2 is the culprit.
  p.OnPieceVerified(now_, PieceIndex(0), false);
  EXPECT_TRUE(p.is_banned(other_));
  EXPECT_FALSE(p.is_banned(remote_));
  EXPECT_EQ(p.stats().pieces_failed, 2u);
}

TEST_F(PeerTest, InputsForUnknownConnectionsAreIgnored) {
  auto p = Make(false);
  p->OnMessage(now_, ConnectionId(55), Piece{Blk(0, 0)});
  p->OnDisconnected(now_, ConnectionId(55));
  p->OnBlockSent(now_, ConnectionId(55), Blk(0, 0));
  EXPECT_TRUE(p->TakeActions().empty());
}

TEST_F(PeerTest, TooManyInboundConnectionsAreRefused) {
  PeerConfig cfg = Sequential();
  cfg.max_connections = 1;
  cfg.min_connections = 1;
  auto p = Make(false, cfg);
  p->OnConnected(now_, c1_, Direction::kInbound, std::nullopt);
  p->TakeActions();
  p->OnConnected(now_, c2_, Direction::kInbound, std::nullopt);
  EXPECT_EQ(p->TakeActions(),
            (std::vector<Action>{Dis(c2_, DisconnectReason::kTooManyConnections)}));
}

// Inbound connections may fill the last places while our dial is on its
// way; its answer is then refused too, or we would hold more than
// max_connections.
TEST_F(PeerTest, ADialAnsweredWhenFullIsRefused) {
  PeerConfig cfg = Sequential();
  cfg.max_connections = 1;
  cfg.min_connections = 1;
  auto p = Make(false, cfg);
  AnnounceResponse r;
  r.peers = {PeerAddress{remote_, "b"}};
  p->OnTrackerResponse(now_, r);
  ASSERT_EQ(p->TakeActions(), (std::vector<Action>{Connect{PeerAddress{remote_, "b"}}}));
  Handshaken(*p, c1_, other_);  // inbound, takes the only place
  p->OnConnected(now_, c2_, Direction::kOutbound, remote_);
  EXPECT_EQ(p->TakeActions(),
            (std::vector<Action>{Dis(c2_, DisconnectReason::kTooManyConnections)}));
  // Once there is room the tracker's next offer of it is dialed again.
  p->OnDisconnected(now_, c1_);
  p->TakeActions();
  p->OnTrackerResponse(now_, r);
  EXPECT_EQ(p->TakeActions(), (std::vector<Action>{Connect{PeerAddress{remote_, "b"}}}));
}

// A peer the tracker listed while we had enough connections, and which
// then connected to us, is not dialed when we later want more.
TEST_F(PeerTest, AListedPeerThatConnectedIsNotDialed) {
  PeerConfig cfg = Sequential();
  cfg.max_connections = 5;
  cfg.min_connections = 2;
  auto p = Make(false, cfg);
  Handshaken(*p, c1_, other_);
  Handshaken(*p, ConnectionId(3), PeerId(9));
  AnnounceResponse r;
  r.peers = {PeerAddress{remote_, "b"}};
  p->OnTrackerResponse(now_, r);  // enough connections: kept as a candidate
  EXPECT_TRUE(p->TakeActions().empty());
  Handshaken(*p, c2_, remote_);
  p->OnDisconnected(now_, c1_);
  p->OnDisconnected(now_, ConnectionId(3));  // below min_connections now
  ExpectNoDial(*p);
}

// Our dial to a peer fails while that peer is connected to us on its own
// connection: it stays known, so the tracker's next offer is not dialed.
TEST_F(PeerTest, AFailedDialDoesNotForgetAConnectedPeer) {
  auto p = Make(false);
  AnnounceResponse r;
  r.peers = {PeerAddress{remote_, "b"}};
  p->OnTrackerResponse(now_, r);
  ASSERT_EQ(p->TakeActions(), (std::vector<Action>{Connect{PeerAddress{remote_, "b"}}}));
  Handshaken(*p, c1_, remote_);
  p->OnConnectFailed(now_, remote_);
  p->OnTrackerResponse(now_, r);
  ExpectNoDial(*p);
}

// A connection claiming a peer we are dialing closes: the dial is still on
// its way, so the tracker's next offer of that peer is not dialed again.
TEST_F(PeerTest, ADialOnItsWayIsNotRepeated) {
  auto p = Make(false);
  AnnounceResponse r;
  r.peers = {PeerAddress{remote_, "b"}};
  p->OnTrackerResponse(now_, r);
  ASSERT_EQ(p->TakeActions(), (std::vector<Action>{Connect{PeerAddress{remote_, "b"}}}));
  Handshaken(*p, c1_, remote_);
  p->OnDisconnected(now_, c1_);
  p->OnTrackerResponse(now_, r);
  ExpectNoDial(*p);
}


class StrategyTest : public PeerTest {};

TEST_F(StrategyTest, StrictTitForTatStopsAtTheDeficitAndResumesOnReceipt) {
  PeerConfig cfg = Sequential();
  cfg.choker = ChokerKind::kStrictTitForTat;
  cfg.strict_tft_allowance = 32 * 1024;  // two blocks
  auto p = std::make_unique<Peer>(self_, torrent_, cfg, Rng(1));
  p->OnStart(now_, Bitfield::FromString("11110000"));
  p->TakeActions();
  Handshaken(*p, c1_, remote_);
  p->OnMessage(now_, c1_, Bits("00001111"));
  p->OnMessage(now_, c1_, Interested{});
  p->OnMessage(now_, c1_, Unchoke{});
  p->TakeActions();
  for (uint32_t i = 0; i < 4; ++i) p->OnMessage(now_, c1_, Request{Blk(i / 2, i % 2)});
  int sent = 0;
  for (int round = 0; round < 6; ++round) {
    for (const Action& a : p->TakeActions()) {
      if (auto* s = std::get_if<SendBlock>(&a)) {
        ++sent;
        p->OnBlockSent(now_, c1_, s->block);
      }
    }
  }
  EXPECT_EQ(sent, 2);  // the allowance, then nothing
  // One block back reopens one block's worth.
  p->OnMessage(now_, c1_, Piece{Blk(4, 0)});
  auto acts = p->TakeActions();
  EXPECT_EQ(std::count_if(acts.begin(), acts.end(),
                          [](const Action& a) { return std::holds_alternative<SendBlock>(a); }),
            1);
}

// Strict tit-for-tat exempts seeds from the deficit limit. Requests held
// back by it are served the moment the peer becomes a seed: the neighbour's
// pipeline is full, so no later request of its own would restart them.
TEST_F(StrategyTest, StrictTitForTatServesHeldRequestsOnBecomingASeed) {
  PeerConfig cfg = Sequential();
  cfg.choker = ChokerKind::kStrictTitForTat;
  cfg.strict_tft_allowance = 32 * 1024;  // two blocks
  auto p = std::make_unique<Peer>(self_, torrent_, cfg, Rng(1));
  p->OnStart(now_, Bitfield::FromString("11111110"));
  p->TakeActions();
  Handshaken(*p, c1_, remote_);
  p->OnMessage(now_, c1_, Bits("00000000"));
  p->OnMessage(now_, c1_, Interested{});
  for (uint32_t i = 0; i < 4; ++i) p->OnMessage(now_, c1_, Request{Blk(i / 2, i % 2)});
  int sent = 0;
  for (int round = 0; round < 4; ++round) {
    for (const Action& a : p->TakeActions()) {
      if (auto* s = std::get_if<SendBlock>(&a)) {
        ++sent;
        p->OnBlockSent(now_, c1_, s->block);
      }
    }
  }
  ASSERT_EQ(sent, 2);  // the allowance
  // The last piece comes from another neighbour.
  Handshaken(*p, c2_, other_);
  p->OnMessage(now_, c2_, Bits("00000001"));
  p->OnMessage(now_, c2_, Unchoke{});
  p->OnMessage(now_, c2_, Piece{Blk(7, 0)});
  p->OnMessage(now_, c2_, Piece{Blk(7, 1)});
  p->TakeActions();
  p->OnPieceVerified(now_, PieceIndex(7), true);
  const auto acts = p->TakeActions();
  EXPECT_EQ(std::count(acts.begin(), acts.end(), Action(SendBlock{c1_, Blk(1, 0)})), 1);
}

// propshare divides one upload allowance among its neighbours by weight;
// when a rechoke falls back to equal shares (nobody gave anything lately),
// each unchoked neighbour has its own allowance again, and one whose
// requests waited for the shared one is served at once.
TEST_F(StrategyTest, PropShareFallingBackToEqualSharesServesWaitingRequests) {
  PeerConfig cfg = Sequential();
  cfg.choker = ChokerKind::kPropShare;
  auto p = std::make_unique<Peer>(self_, torrent_, cfg, Rng(1));
  p->OnStart(now_, Bitfield::FromString("11110000"));
  p->TakeActions();
  Handshaken(*p, c1_, remote_);
  Handshaken(*p, c2_, other_);
  p->OnMessage(now_, c1_, Bits("00001111"));
  p->OnMessage(now_, c2_, Bits("00000000"));
  p->OnMessage(now_, c1_, Unchoke{});
  p->OnMessage(now_, c1_, Piece{Blk(4, 0)});  // c1 gave us something
  p->OnMessage(now_, c1_, Interested{});
  p->OnMessage(now_, c2_, Interested{});
  p->TakeActions();
  // Runs the timers up to `until`; returns the blocks sent meanwhile.
  Time t = now_;
  auto run_until = [&](Time until) {
    std::vector<SendBlock> blocks;
    while (*p->NextTimeout() <= until) {
      t = *p->NextTimeout();
      p->OnTimeout(t);
      for (const Action& a : p->TakeActions()) {
        if (auto* s = std::get_if<SendBlock>(&a)) blocks.push_back(*s);
      }
    }
    return blocks;
  };
  run_until(now_ + cfg.rechoke_interval);  // a weighted round: c1 by rate, c2 optimistic
  p->OnMessage(t, c1_, Request{Blk(0, 0)});
  p->OnMessage(t, c2_, Request{Blk(0, 1)});
  EXPECT_EQ(p->TakeActions(), (std::vector<Action>{SendBlock{c1_, Blk(0, 0)}}));
  // c1's block is still on its way when c1's rate has aged out of the
  // 20-second window and a rechoke shares equally.
  const auto later = run_until(now_ + Duration::Seconds(35));
  EXPECT_EQ(later, (std::vector<SendBlock>{SendBlock{c2_, Blk(0, 1)}}));
}

TEST_F(StrategyTest, WeightedUploadsFollowPropShareWeights) {
  PeerConfig cfg = Sequential();
  cfg.choker = ChokerKind::kPropShare;
  cfg.propshare_reserve = 0.0;
  auto p = std::make_unique<Peer>(self_, torrent_, cfg, Rng(1));
  p->OnStart(now_, Bitfield::FromString("11110000"));
  p->TakeActions();
  Handshaken(*p, c1_, remote_);
  Handshaken(*p, c2_, other_);
  // c1 gave us three blocks, c2 one: a 3:1 split.
  p->OnMessage(now_, c1_, Bits("00001111"));
  p->OnMessage(now_, c2_, Bits("00001111"));
  p->OnMessage(now_, c1_, Unchoke{});
  p->TakeActions();
  p->OnMessage(now_, c1_, Piece{Blk(4, 0)});
  p->OnMessage(now_, c1_, Piece{Blk(4, 1)});
  p->OnMessage(now_, c1_, Piece{Blk(5, 0)});
  p->OnMessage(now_, c1_, Choke{});
  p->OnMessage(now_, c2_, Unchoke{});
  p->TakeActions();
  p->OnMessage(now_, c2_, Piece{Blk(5, 1)});
  p->OnMessage(now_, c1_, Interested{});
  p->OnMessage(now_, c2_, Interested{});
  p->TakeActions();
  // Rechoke with rates measured.
  Time t = *p->NextTimeout();
  while (t < now_ + cfg.rechoke_interval) {
    p->OnTimeout(t);
    t = *p->NextTimeout();
  }
  p->OnTimeout(t);
  p->TakeActions();
  for (int k = 0; k < 40; ++k) {
    p->OnMessage(t, c1_, Request{Blk(k % 4 / 2 + (k / 4) % 2 * 2, k % 2)});
    p->OnMessage(t, c2_, Request{Blk(k % 4 / 2 + (k / 4) % 2 * 2, k % 2)});
  }
  // Each queue holds the 8 distinct blocks; look at the first 8 served,
  // while both queues still have work.
  std::map<uint64_t, int> served;
  int total = 0;
  for (int round = 0; round < 40 && total < 8; ++round) {
    for (const Action& a : p->TakeActions()) {
      if (auto* s = std::get_if<SendBlock>(&a)) {
        served[s->conn.value()]++;
        ++total;
        p->OnBlockSent(t, s->conn, s->block);
      }
    }
  }
  ASSERT_GT(served[2], 0);
  EXPECT_EQ(served[1], 6);
  EXPECT_EQ(served[2], 2);
}

TEST_F(StrategyTest, SuperSeedRevealsOnePieceAtATime) {
  PeerConfig cfg = Sequential();
  cfg.super_seeding = true;
  auto p = Make(true, cfg);
  Handshaken(*p, c1_, remote_);
  // No bitfield: a single Have instead.
  p->OnConnected(now_, c2_, Direction::kInbound, std::nullopt);
  p->TakeActions();
  p->OnMessage(now_, c2_, Handshake{torrent_.info_hash(), other_});
  auto acts = p->TakeActions();
  ASSERT_EQ(acts.size(), 1u);
  const auto* have = std::get_if<Have>(&std::get<SendMessage>(acts[0]).message);
  ASSERT_NE(have, nullptr);
  // c1 was shown some piece too; when c2 announces c1's piece, c1 gets a new one.
  p->OnMessage(now_, c2_, Have{PieceIndex(0)});
  p->OnMessage(now_, c2_, Have{PieceIndex(1)});
  p->OnMessage(now_, c2_, Have{PieceIndex(2)});
  p->OnMessage(now_, c2_, Have{PieceIndex(3)});
  p->OnMessage(now_, c2_, Have{PieceIndex(4)});
  p->OnMessage(now_, c2_, Have{PieceIndex(5)});
  p->OnMessage(now_, c2_, Have{PieceIndex(6)});
  int new_offers_to_c1 = 0;
  for (const Action& a : p->TakeActions()) {
    if (auto* s = std::get_if<SendMessage>(&a)) {
      new_offers_to_c1 += s->conn == c1_ && std::holds_alternative<Have>(s->message);
    }
  }
  EXPECT_EQ(new_offers_to_c1, 1);
}


// The pieces a super-seed reveals to connection `c`: its Haves there.
std::vector<PieceIndex> HavesSentOn(ConnectionId c, const std::vector<Action>& acts) {
  std::vector<PieceIndex> out;
  for (const Action& a : acts) {
    if (auto* s = std::get_if<SendMessage>(&a); s && s->conn == c) {
      if (auto* h = std::get_if<Have>(&s->message)) out.push_back(h->piece);
    }
  }
  return out;
}

// BEP 16 shows a peer its next piece once the last one was seen elsewhere.
// When every other neighbour already holds the piece shown, nobody will
// ever announce it again: the peer that fetched it used to wait for good.
// Now it is shown a new piece as soon as it announces the one it has.
TEST_F(StrategyTest, SuperSeedRevealsMoreWhenNoNeighbourCanSpreadTheLast) {
  PeerConfig cfg = Sequential();
  cfg.super_seeding = true;
  auto p = Make(true, cfg);
  // c2 holds everything but piece 7, so 7 is what it is shown.
  Handshaken(*p, c2_, other_);
  p->OnMessage(now_, c2_, Bits("11111110"));
  p->TakeActions();
  // c1 has nothing; it is shown one of the pieces c2 already holds (those
  // revealed least often and still rarest).
  p->OnConnected(now_, c1_, Direction::kInbound, std::nullopt);
  p->OnMessage(now_, c1_, Handshake{torrent_.info_hash(), remote_});
  auto acts = p->TakeActions();
  std::optional<PieceIndex> shown;
  for (const Action& a : acts) {
    if (auto* s = std::get_if<SendMessage>(&a); s && s->conn == c1_) {
      if (auto* h = std::get_if<Have>(&s->message)) shown = h->piece;
    }
  }
  ASSERT_TRUE(shown.has_value());
  ASSERT_LT(shown->value(), 7u) << "expected a piece c2 already holds";
  // c1 fetches it (from c2, say) and announces it; c2 never will.
  p->OnMessage(now_, c1_, Have{*shown});
  std::vector<PieceIndex> next;
  for (const Action& a : p->TakeActions()) {
    if (auto* s = std::get_if<SendMessage>(&a); s && s->conn == c1_) {
      if (auto* h = std::get_if<Have>(&s->message)) next.push_back(h->piece);
    }
  }
  ASSERT_EQ(next.size(), 1u) << "c1 is shown nothing more";
  EXPECT_NE(next[0], *shown);
}

// The same when the last neighbour that lacked the piece leaves.
TEST_F(StrategyTest, SuperSeedRevealsMoreWhenTheLastNeighbourLackingItLeaves) {
  PeerConfig cfg = Sequential();
  cfg.super_seeding = true;
  auto p = Make(true, cfg);
  Handshaken(*p, c1_, remote_);
  p->OnMessage(now_, c1_, Interested{});  // a leecher, wanting what it was shown
  p->OnConnected(now_, c2_, Direction::kInbound, std::nullopt);
  p->OnMessage(now_, c2_, Handshake{torrent_.info_hash(), other_});
  const auto first = HavesSentOn(c2_, p->TakeActions());
  ASSERT_EQ(first.size(), 1u);
  // c2 fetches its piece; c1 (which lacks it) could still spread it, so
  // c2 waits, as BEP 16 says.
  p->OnMessage(now_, c2_, Have{first[0]});
  EXPECT_TRUE(HavesSentOn(c2_, p->TakeActions()).empty());
  // c1 leaves before fetching it: nobody else can announce it now.
  p->OnDisconnected(now_, c1_);
  const auto next = HavesSentOn(c2_, p->TakeActions());
  ASSERT_EQ(next.size(), 1u);
  EXPECT_NE(next[0], first[0]);
}

// Another super-seed looks empty too, and is shown pieces, but never says
// Interested: it will never pass a piece on. A last leecher between two
// super-seeds waited for good, each seed waiting for the other to announce
// the piece it had shown the leecher (found by a random-scenario run: two
// super-seeds, leechers leaving when done, 3 of 5 seeds left one stranded).
// A neighbour is taken for a seed once it has been connected for a
// housekeeping interval without saying Interested; until then it may be a
// leecher whose Interested is on its way.
TEST_F(StrategyTest, SuperSeedDoesNotWaitForANeighbourThatNeverWantsAnything) {
  for (const bool c1_answers : {false, true}) {
    SCOPED_TRACE(c1_answers ? "c1 is a leecher" : "c1 is another super-seed");
    PeerConfig cfg = Sequential();
    cfg.super_seeding = true;
    auto p = Make(true, cfg);
    Handshaken(*p, c1_, remote_);  // shown a piece; Interested only if a leecher
    p->OnConnected(now_, c2_, Direction::kInbound, std::nullopt);
    p->OnMessage(now_, c2_, Handshake{torrent_.info_hash(), other_});
    const auto first = HavesSentOn(c2_, p->TakeActions());
    ASSERT_EQ(first.size(), 1u);
    p->OnMessage(now_, c2_, Interested{});
    p->TakeActions();
    // c2 fetches its piece at once: c1, just connected, may still fetch it
    // from c2 and announce it, so c2 waits, as BEP 16 says.
    p->OnMessage(now_, c2_, Have{first[0]});
    EXPECT_TRUE(HavesSentOn(c2_, p->TakeActions()).empty());
    if (c1_answers) p->OnMessage(now_, c1_, Interested{});
    std::vector<PieceIndex> next;
    for (Time t = now_; t - now_ <= cfg.housekeeping_interval * 2;) {
      t = t + Duration::Seconds(1);
      p->OnTimeout(t);
      for (PieceIndex x : HavesSentOn(c2_, p->TakeActions())) next.push_back(x);
    }
    if (c1_answers) {
      EXPECT_TRUE(next.empty()) << "c2 was shown more while a leecher lacking its piece waits";
    } else {
      ASSERT_EQ(next.size(), 1u) << "c2 waits on a neighbour that will never fetch the piece";
      EXPECT_NE(next[0], first[0]);
    }
  }
}

// The same when the super-seed itself drops the last neighbour lacking the
// piece (a protocol violation, or silence for inactivity_timeout): Drop()
// goes through neither OnDisconnected nor a bitfield.
TEST_F(StrategyTest, SuperSeedRevealsMoreWhenItDropsTheLastNeighbourLackingIt) {
  for (const bool violation : {false, true}) {
    SCOPED_TRACE(violation ? "protocol violation" : "inactivity");
    PeerConfig cfg = Sequential();
    cfg.super_seeding = true;
    auto p = Make(true, cfg);
    Handshaken(*p, c1_, remote_);
    p->OnMessage(now_, c1_, Interested{});
    p->TakeActions();
    p->OnConnected(now_, c2_, Direction::kInbound, std::nullopt);
    p->OnMessage(now_, c2_, Handshake{torrent_.info_hash(), other_});
    const auto first = HavesSentOn(c2_, p->TakeActions());
    ASSERT_EQ(first.size(), 1u);
    p->OnMessage(now_, c2_, Have{first[0]});
    EXPECT_TRUE(HavesSentOn(c2_, p->TakeActions()).empty());
    std::vector<Action> acts;
    if (violation) {
      p->OnMessage(now_, c1_, Have{PieceIndex(99)});  // out of range: dropped
      acts = p->TakeActions();
    } else {
      // c2 keeps talking; c1 falls silent until it times out.
      Time t = now_;
      while (t - now_ < cfg.inactivity_timeout + cfg.housekeeping_interval) {
        t = t + Duration::Seconds(1);
        p->OnMessage(t, c2_, KeepAlive{});
        p->OnTimeout(t);
        for (Action& a : p->TakeActions()) acts.push_back(std::move(a));
      }
    }
    ASSERT_EQ(p->connection_count(), 1u) << "c1 was not dropped";
    const auto next = HavesSentOn(c2_, acts);
    ASSERT_EQ(next.size(), 1u) << "c2 is shown nothing more";
    EXPECT_NE(next[0], first[0]);
  }
}

TEST_F(PeerTest, FreedSlotIsFilledAtOnceNotAtTheNextRechoke) {
  PeerConfig cfg = Sequential();
  cfg.unchoke_slots = 1;
  auto p = Make(true, cfg);
  Handshaken(*p, c1_, remote_);
  Handshaken(*p, c2_, other_);
  p->OnMessage(now_, c1_, Interested{});
  p->OnMessage(now_, c2_, Interested{});  // the only slot is taken
  auto first = p->TakeActions();
  ASSERT_EQ(first.size(), 1u);
  const ConnectionId holder = std::get<SendMessage>(first[0]).conn;
  const ConnectionId waiting = holder == c1_ ? c2_ : c1_;
  // The holder loses interest: the waiting peer is unchoked immediately.
  p->OnMessage(now_, holder, NotInterested{});
  EXPECT_EQ(p->TakeActions(),
            (std::vector<Action>{SendMessage{holder, Choke{}}, SendMessage{waiting, Unchoke{}}}));
}

TEST_F(PeerTest, SlotFreedByADisconnectIsFilled) {
  PeerConfig cfg = Sequential();
  cfg.unchoke_slots = 1;
  auto p = Make(true, cfg);
  Handshaken(*p, c1_, remote_);
  p->OnMessage(now_, c1_, Interested{});
  Handshaken(*p, c2_, other_);
  p->OnMessage(now_, c2_, Interested{});
  p->TakeActions();
  p->OnDisconnected(now_, c1_);
  EXPECT_EQ(p->TakeActions(), (std::vector<Action>{SendMessage{c2_, Unchoke{}}}));
}


TEST_F(PeerTest, StrandedLeecherAsksTheTrackerAgainSoon) {
  PeerConfig cfg = Sequential();
  auto p = Make(false, cfg);  // announced at now_
  AnnounceResponse r;
  r.peers = {PeerAddress{remote_, ""}};
  p->OnTrackerResponse(now_, r);
  p->TakeActions();
  p->OnConnected(now_, c1_, Direction::kOutbound, remote_);
  p->TakeActions();
  // Its only neighbour leaves: the next announce comes after
  // min_reannounce_interval, not after the 30-minute interval.
  p->OnDisconnected(now_ + Duration::Seconds(5), c1_);
  p->TakeActions();
  ASSERT_TRUE(p->NextTimeout().has_value());
  EXPECT_LE(*p->NextTimeout(), now_ + cfg.min_reannounce_interval);
  Time t = now_;
  bool announced = false;
  while (!announced && t <= now_ + cfg.min_reannounce_interval) {
    t = *p->NextTimeout();
    p->OnTimeout(t);
    for (const Action& a : p->TakeActions()) announced |= std::holds_alternative<Announce>(a);
  }
  EXPECT_TRUE(announced);
  EXPECT_EQ(t, now_ + cfg.min_reannounce_interval);
}

// A neighbour that holds pieces we lack but keeps us choked (a full seed, a
// seed that never uploads) is no source: after a request timeout of that,
// the leecher asks the tracker for other peers instead of waiting for the
// 30-minute announce (in simulations, such peers stranded whole groups).
TEST_F(PeerTest, NeighbourThatKeepsUsChokedIsNoSource) {
  PeerConfig cfg = Sequential();
  cfg.min_connections = 1;  // one neighbour is enough, if it is useful
  auto p = Make(false, cfg);  // announced at now_
  Handshaken(*p, c1_, remote_);
  p->OnMessage(now_, c1_, Bits("11111111"));
  p->TakeActions();
  std::optional<Time> announced;
  while (!announced && *p->NextTimeout() < now_ + Duration::Seconds(600)) {
    const Time t = *p->NextTimeout();
    p->OnTimeout(t);
    for (const Action& a : p->TakeActions()) {
      if (std::holds_alternative<Announce>(a)) announced = t;
    }
  }
  ASSERT_TRUE(announced);
  EXPECT_GE(*announced, now_ + cfg.request_timeout);
  EXPECT_LE(*announced, now_ + cfg.request_timeout + cfg.housekeeping_interval);
}

// Starved at min_connections with a candidate waiting, and every neighbour
// has pieces we lack but keeps us choked (seeds that never upload): no
// connection is useless both ways, yet one must go so the candidate can be
// dialed. Without that, such a leecher dialed nobody, and with a candidate
// waiting never asked the tracker early either: it waited for the 30-minute
// announce, which (still at min_connections) changed nothing.
TEST_F(PeerTest, StarvedLeecherDropsAChokingHolderForACandidate) {
  PeerConfig cfg = Sequential();
  cfg.min_connections = 1;
  auto p = Make(false, cfg);  // announced at now_
  AnnounceResponse r;
  r.peers = {PeerAddress{remote_, ""}, PeerAddress{other_, ""}};
  p->OnTrackerResponse(now_, r);
  EXPECT_EQ(p->TakeActions(), (std::vector<Action>{Connect{PeerAddress{remote_, ""}}}));
  p->OnConnected(now_, c1_, Direction::kOutbound, remote_);
  p->OnMessage(now_, c1_, Handshake{torrent_.info_hash(), remote_});
  p->OnMessage(now_, c1_, Bits("11111111"));  // all we lack; never unchokes
  p->TakeActions();
  const auto [dropped, dialed] = RunUntilOtherIsDialed(*p);
  ASSERT_TRUE(dialed);
  ASSERT_TRUE(dropped);
  EXPECT_EQ(*dropped, *dialed);
  EXPECT_GE(*dialed, now_ + cfg.request_timeout);
  EXPECT_LE(*dialed, now_ + cfg.request_timeout + cfg.housekeeping_interval);
}

// The same when the holder unchokes us but never answers our requests
// (strict tit-for-tat holding its uploads to our deficit, which we cannot
// repay with nothing it lacks): it snubs us, and does not feed us. Before,
// an unchoke counted as feeding, and three such leechers full of each other
// at max_connections 2 waited for good with a seed refused at their door
// (random swarm 659 --extended).
TEST_F(PeerTest, StarvedLeecherDropsAHolderThatUnchokesButNeverSends) {
  PeerConfig cfg = Sequential();
  cfg.min_connections = 1;
  auto p = Make(false, cfg);  // announced at now_
  AnnounceResponse r;
  r.peers = {PeerAddress{remote_, ""}, PeerAddress{other_, ""}};
  p->OnTrackerResponse(now_, r);
  EXPECT_EQ(p->TakeActions(), (std::vector<Action>{Connect{PeerAddress{remote_, ""}}}));
  p->OnConnected(now_, c1_, Direction::kOutbound, remote_);
  p->OnMessage(now_, c1_, Handshake{torrent_.info_hash(), remote_});
  p->OnMessage(now_, c1_, Bits("11111111"));  // all we lack
  p->OnMessage(now_, c1_, Unchoke{});        // but it never sends
  bool asked = false;
  for (const Action& a : p->TakeActions()) {
    const auto* send = std::get_if<SendMessage>(&a);
    asked |= send && std::holds_alternative<Request>(send->message);
  }
  EXPECT_TRUE(asked);
  const auto [dropped, dialed] = RunUntilOtherIsDialed(*p);
  ASSERT_TRUE(dialed);
  ASSERT_TRUE(dropped);
  EXPECT_EQ(*dropped, *dialed);
  EXPECT_GE(*dialed, now_ + cfg.request_timeout);
  EXPECT_LE(*dialed, now_ + cfg.request_timeout + cfg.housekeeping_interval);
}

// Two strict tit-for-tat leechers with no allowance, each holding pieces
// the other lacks: neither sends first, and each unchokes and chokes the
// other at its rechokes, so no request of ours waits a request timeout and
// the neighbour never counts as snubbing us. With no block from anyone for
// that long, an unchoke without an answer does not feed us, and a holder
// interested in us whose deficit holds our uploads is as useless as one
// that wants nothing: it is turned over for a candidate at a housekeeping
// that finds it choking us. (Random swarm 659 --extended: three such
// leechers full of each other at max_connections 2 waited 3 h with the
// seed refused at their door.)
TEST_F(PeerTest, StarvedStrictLeecherDropsAHolderThatOnlyTogglesItsChoke) {
  PeerConfig cfg = Sequential();
  cfg.choker = ChokerKind::kStrictTitForTat;
  cfg.strict_tft_allowance = 0;
  cfg.min_connections = 1;
  auto p = ShakenWithFirstOfTwoCandidates(cfg, "10000000");
  p->OnMessage(now_, c1_, Bits("01111111"));  // all we lack, and lacks our piece
  p->OnMessage(now_, c1_, Interested{});
  p->OnMessage(now_, c1_, Request{Blk(0, 0)});
  const Duration round = Duration::Seconds(30);  // its rechoke: unchoked, then choked
  bool choking = true;
  std::optional<Time> dropped, dialed;
  Time t = now_;
  while (!dialed && t < now_ + Duration::Seconds(600)) {
    for (const Action& a : p->TakeActions()) {
      EXPECT_FALSE(std::holds_alternative<SendBlock>(a));  // our deficit holds it
      if (a == Action{Dis(c1_, DisconnectReason::kNotUseful)}) dropped = t;
      if (a == Action{Connect{PeerAddress{other_, ""}}}) dialed = t;
    }
    if (dialed) break;
    t = *p->NextTimeout();
    if (!dropped) {
      p->OnMessage(t, c1_, KeepAlive{});  // alive, so not inactive
      const bool should_choke = ((t - now_).micros() / round.micros()) % 2 == 1;
      if (should_choke != choking) {
        choking = should_choke;
        p->OnMessage(t, c1_, choking ? Message{Choke{}} : Message{Unchoke{}});
      }
    }
    p->OnTimeout(t);
  }
  ASSERT_TRUE(dialed);
  ASSERT_TRUE(dropped);
  EXPECT_EQ(*dropped, *dialed);
  EXPECT_GE(*dialed, now_ + cfg.request_timeout);
  EXPECT_LE(*dialed, now_ + cfg.request_timeout + round * 2);
}

// A free-rider feeds nobody, so a neighbour's interest in it does not keep
// that neighbour: a leecher that wants our piece 0 and keeps us choked is
// turned over for a candidate, as one that wanted nothing would be. An
// ordinary leecher keeps it (it feeds that neighbour). Before, the
// free-rider counted itself as feeding too, and four free-riders full of
// each other at max_connections 2 refused the seeds for 3 h (random swarm
// 5397 --extended).
TEST_F(PeerTest, StarvedFreeRiderDropsAChokingHolderThatWantsFromIt) {
  for (const bool free_rider : {true, false}) {
    SCOPED_TRACE(free_rider ? "free-rider" : "ordinary leecher");
    PeerConfig cfg = Sequential();
    cfg.free_rider = free_rider;
    cfg.min_connections = 1;
    auto p = ShakenWithFirstOfTwoCandidates(cfg, "10000000");
    p->OnMessage(now_, c1_, Bits("01111111"));  // all we lack; never unchokes
    p->OnMessage(now_, c1_, Interested{});      // and wants our piece
    p->TakeActions();
    const auto [dropped, dialed] = RunUntilOtherIsDialed(*p);
    if (!free_rider) {
      EXPECT_FALSE(dropped);
      EXPECT_FALSE(dialed);
      continue;
    }
    ASSERT_TRUE(dialed);
    ASSERT_TRUE(dropped);
    EXPECT_EQ(*dropped, *dialed);
    EXPECT_GE(*dialed, now_ + cfg.request_timeout);
    EXPECT_LE(*dialed, now_ + cfg.request_timeout + cfg.housekeeping_interval);
  }
}

// The same for a neighbour with nothing we lack that wants our piece: to a
// free-rider it is useless both ways, and goes for a candidate; an ordinary
// leecher feeds it and keeps it.
TEST_F(PeerTest, StarvedFreeRiderDropsANeighbourThatOnlyWantsFromIt) {
  for (const bool free_rider : {true, false}) {
    SCOPED_TRACE(free_rider ? "free-rider" : "ordinary leecher");
    PeerConfig cfg = Sequential();
    cfg.free_rider = free_rider;
    cfg.min_connections = 1;
    auto p = ShakenWithFirstOfTwoCandidates(cfg, "10000000");
    p->OnMessage(now_, c1_, Bits("00000000"));  // nothing we lack
    p->OnMessage(now_, c1_, Interested{});      // but wants our piece
    p->TakeActions();
    const auto [dropped, dialed] = RunUntilOtherIsDialed(*p);
    if (!free_rider) {
      EXPECT_FALSE(dropped);
      EXPECT_FALSE(dialed);
      continue;
    }
    ASSERT_TRUE(dialed);
    ASSERT_TRUE(dropped);
    EXPECT_EQ(*dropped, *dialed);
    EXPECT_LE(*dialed, now_ + cfg.request_timeout + cfg.housekeeping_interval);
  }
}

// Strict tit-for-tat: a neighbour with nothing we lack that still wants
// from us gets nothing more once its deficit reaches the allowance (it
// cannot send a block back), so it is as useless as one that wants
// nothing. A starved leecher turns it over for a candidate. Before, being
// interested in us kept it, and at a small max_connections groups of such
// leechers, each holding the others' uploads, stalled for good (9 of 411
// random swarms with strict tit-for-tat and 2 connections).
TEST_F(PeerTest, StarvedStrictLeecherDropsANeighbourItsDeficitHoldsBack) {
  PeerConfig cfg = Sequential();
  cfg.choker = ChokerKind::kStrictTitForTat;
  cfg.strict_tft_allowance = 32 * 1024;  // two blocks
  cfg.min_connections = 1;
  auto p = ShakenWithFirstOfTwoCandidates(cfg, "11110000");
  p->OnMessage(now_, c1_, Bits("11000000"));  // nothing we lack
  p->OnMessage(now_, c1_, Interested{});
  for (uint32_t i = 0; i < 4; ++i) p->OnMessage(now_, c1_, Request{Blk(2 + i / 2, i % 2)});
  int sent = 0;
  std::optional<Time> spent, dropped, dialed;
  Time t = now_;
  while (!dialed && t < now_ + Duration::Seconds(600)) {
    for (const Action& a : p->TakeActions()) {
      if (const auto* b = std::get_if<SendBlock>(&a)) {
        if (++sent == 2) spent = t;
        p->OnBlockSent(t, c1_, b->block);
      }
      if (a == Action{Dis(c1_, DisconnectReason::kNotUseful)}) dropped = t;
      if (a == Action{Connect{PeerAddress{other_, ""}}}) dialed = t;
    }
    if (dialed) break;
    t = *p->NextTimeout();
    if (!dropped) p->OnMessage(t, c1_, KeepAlive{});  // alive, so not inactive
    p->OnTimeout(t);
  }
  EXPECT_EQ(sent, 2);  // the allowance (at the first rechoke), then nothing
  ASSERT_TRUE(spent);
  ASSERT_TRUE(dialed);
  ASSERT_TRUE(dropped);
  EXPECT_EQ(*dropped, *dialed);
  EXPECT_LE(*dialed, *spent + cfg.housekeeping_interval);  // the next housekeeping
}

// As above, but holders that never unchoke anyone keep dialing in, one
// every 30 s, each leaving when the next comes (free-riders that finished
// and seed at zero upload). Each is new for a request timeout and might yet
// unchoke us, so none is turned over while new; but nor may they hold the
// turnover of the old one off. Before, each newcomer counted as feeding
// until its request timeout ran out, the leecher never looked starved, and
// the candidate (in the simulations, the one seed that would have fed it)
// waited for good.
TEST_F(PeerTest, NewcomersThatKeepUsChokedDoNotHoldOffTheTurnover) {
  PeerConfig cfg = Sequential();
  cfg.min_connections = 2;
  auto p = Make(false, cfg);  // announced at now_
  Handshaken(*p, c1_, remote_);
  p->OnMessage(now_, c1_, Bits("11111111"));  // all we lack; never unchokes
  p->TakeActions();
  uint64_t arrivals = 0;
  Time next_arrival = now_;
  std::optional<Time> dropped, dialed;
  while (!dialed && now_ + Duration::Seconds(600) > next_arrival) {
    const Time t = std::min(next_arrival, *p->NextTimeout());
    // Every neighbour stays alive (keep-alives), so inactivity drops none.
    if (!dropped) p->OnMessage(t, c1_, KeepAlive{});
    if (t == next_arrival) {
      ReplaceChokingNewcomer(*p, t, arrivals);
      if (arrivals++ == 0) {  // at min_connections now: the candidate waits
        AnnounceResponse r;
        r.peers = {PeerAddress{other_, ""}};
        p->OnTrackerResponse(t, r);
      }
      next_arrival = t + Duration::Seconds(30);
    } else {
      p->OnTimeout(t);
    }
    for (const Action& a : p->TakeActions()) {
      if (a == Action{Dis(c1_, DisconnectReason::kNotUseful)}) dropped = t;
      if (a == Action{Connect{PeerAddress{other_, ""}}}) dialed = t;
      if (const auto* d = std::get_if<Disconnect>(&a)) {
        EXPECT_EQ(d->conn, c1_) << "a newcomer was turned over";
      }
    }
  }
  ASSERT_TRUE(dropped);
  ASSERT_TRUE(dialed);
  EXPECT_EQ(*dropped, *dialed);
  EXPECT_GE(*dialed, now_ + cfg.request_timeout);
  EXPECT_LE(*dialed, now_ + cfg.request_timeout + cfg.housekeeping_interval);
}

// As above with no candidate left to dial: newcomers that keep us choked do
// not hold off the early announce either, which is how such a leecher finds
// new peers at all.
TEST_F(PeerTest, NewcomersThatKeepUsChokedDoNotHoldOffTheEarlyAnnounce) {
  PeerConfig cfg = Sequential();
  cfg.min_connections = 2;
  auto p = Make(false, cfg);  // announced at now_
  Handshaken(*p, c1_, remote_);
  p->OnMessage(now_, c1_, Bits("11111111"));  // all we lack; never unchokes
  p->TakeActions();
  uint64_t arrivals = 0;
  Time next_arrival = now_;
  std::optional<Time> announced;
  while (!announced && now_ + Duration::Seconds(600) > next_arrival) {
    const Time t = std::min(next_arrival, *p->NextTimeout());
    p->OnMessage(t, c1_, KeepAlive{});
    if (t == next_arrival) {
      ReplaceChokingNewcomer(*p, t, arrivals++);
      next_arrival = t + Duration::Seconds(30);
    } else {
      p->OnTimeout(t);
    }
    for (const Action& a : p->TakeActions()) {
      if (std::holds_alternative<Announce>(a)) announced = t;
    }
  }
  ASSERT_TRUE(announced);
  EXPECT_GE(*announced, now_ + cfg.request_timeout);
  EXPECT_LE(*announced, now_ + cfg.request_timeout + cfg.housekeeping_interval);
}

// A peer at min_connections dials no candidate, and every announce may list
// new peers: the waiting list keeps at most kMaxCandidates, forgetting the
// oldest (the likeliest to have left), which the tracker may list again.
TEST_F(PeerTest, WaitingCandidatesAreBoundedOldestForgottenFirst) {
  PeerConfig cfg = Sequential();
  cfg.min_connections = 1;
  auto p = Make(false, cfg);
  Handshaken(*p, c1_, remote_);  // at min_connections: nobody is dialed
  p->TakeActions();
  const uint64_t listed = Peer::kMaxCandidates + 120;
  for (uint64_t first = 0; first < listed; first += 50) {
    AnnounceResponse r;
    for (uint64_t i = first; i < std::min(first + 50, listed); ++i) {
      r.peers.push_back(PeerAddress{PeerId(1000 + i), ""});
    }
    p->OnTrackerResponse(now_, r);
  }
  ExpectNoDial(*p);
  EXPECT_EQ(p->candidate_count(), Peer::kMaxCandidates);
  // The oldest were forgotten: listed again, they are kept again (as the
  // newest); one still waiting is not added twice.
  AnnounceResponse again;
  again.peers = {PeerAddress{PeerId(1000), ""}, PeerAddress{PeerId(1000 + listed - 1), ""}};
  p->OnTrackerResponse(now_, again);
  EXPECT_EQ(p->candidate_count(), Peer::kMaxCandidates);
  // Dialed in order once there is room: the re-listed oldest comes last.
  std::vector<PeerId> dialed;
  p->OnDisconnected(now_, c1_);
  for (const Action& a : p->TakeActions()) {
    if (const auto* c = std::get_if<Connect>(&a)) dialed.push_back(c->address.id);
  }
  ASSERT_EQ(dialed.size(), 1u);
  EXPECT_EQ(dialed[0], PeerId(1000 + listed - Peer::kMaxCandidates + 1));
}

}  // namespace
}  // namespace swarm::core
