// Randomised hostile input: thousands of arbitrary, often malformed messages
// from several connections, interleaved with timeouts, block completions and
// verification results. The Peer must never crash (a CHECK would abort the
// test binary), never count a block it did not accept, and keep its own
// accounting consistent. Each case prints its seed on failure.
#include <map>

#include <gtest/gtest.h>

#include "core/peer.h"
#include "tests/core/printers.h"

namespace swarm::core {
namespace {

Message RandomMessage(Rng& r, const TorrentInfo& t, PeerId remote) {
  auto index = [&]() -> uint32_t {
    switch (r.Below(4)) {
      case 0: return uint32_t(r.NextU64());
      case 1: return t.piece_count() + uint32_t(r.Below(3));
      default: return uint32_t(r.Below(t.piece_count()));
    }
  };
  auto block = [&]() {
    const uint32_t offsets[] = {0, 16384, 1, 32768, 0xffffffffu, uint32_t(r.NextU64())};
    const uint32_t lengths[] = {16384, 16384, 0, 1, 1u << 20, uint32_t(r.NextU64())};
    return BlockRef{PieceIndex(index()), offsets[r.Below(6)], lengths[r.Below(6)]};
  };
  switch (r.Below(11)) {
    case 0: {
      InfoHash h = t.info_hash();
      if (r.Bernoulli(0.2)) h[r.Below(32)] ^= 1;
      return Handshake{h, r.Bernoulli(0.9) ? remote : PeerId(r.Below(4))};
    }
    case 1: return KeepAlive{};
    case 2: return Choke{};
    case 3: return Unchoke{};
    case 4: return Interested{};
    case 5: return NotInterested{};
    case 6: return Have{PieceIndex(index())};
    case 7: {
      std::vector<uint8_t> bits(r.Bernoulli(0.8) ? (t.piece_count() + 7) / 8 : r.Below(5));
      for (auto& b : bits) b = uint8_t(r.NextU64());
      return BitfieldMessage{bits};
    }
    case 8: return Request{block()};
    case 9: return Piece{block()};
    default: return Cancel{block()};
  }
}

class PeerFuzzTest : public ::testing::TestWithParam<uint64_t> {};

TEST_P(PeerFuzzTest, SurvivesArbitraryInput) {
  const uint64_t seed = GetParam();
  SCOPED_TRACE("seed " + std::to_string(seed));
  Rng r(seed);
  const TorrentInfo t = TorrentInfo::Synthetic("fuzz", 10 * 32 * kKiB - 777, 32 * kKiB);
  PeerConfig cfg;
  cfg.choker = static_cast<ChokerKind>(r.Below(6));
  cfg.super_seeding = r.Bernoulli(0.3);
  cfg.upload_capacity = Rate::BytesPerSecond(1e5);
  Peer p(PeerId(1000), t, cfg, Rng(seed + 1));
  Bitfield start(t.piece_count());
  for (uint32_t i = 0; i < t.piece_count(); ++i) if (r.Bernoulli(0.5)) start.Set(i);
  if (r.Bernoulli(0.3)) start = Bitfield(t.piece_count(), true);
  p.OnStart(Time(), start);

  Time now;
  uint64_t next_conn = 1;
  std::vector<ConnectionId> open;
  std::vector<PieceIndex> to_verify;
  std::vector<std::pair<ConnectionId, BlockRef>> sending;
  std::map<uint64_t, bool> greeted;                 // handshake sent by the remote
  std::map<uint64_t, std::vector<BlockRef>> asked;  // our requests to the remote
  Bytes stored = 0, failed = 0;
  for (int step = 0; step < 4000; ++step) {
    now += Duration::Millis(int64_t(r.Below(3000)));
    const uint64_t what = r.Below(20);
    if (what == 0 || open.empty()) {
      ConnectionId c(next_conn++);
      p.OnConnected(now, c, r.Bernoulli(0.5) ? Direction::kInbound : Direction::kOutbound,
                    std::nullopt);
      open.push_back(c);
    } else if (what == 1) {
      size_t i = r.Below(open.size());
      p.OnDisconnected(now, open[i]);
      open.erase(open.begin() + i);
    } else if (what == 2 && p.NextTimeout()) {
      now = std::max(now, *p.NextTimeout());
      p.OnTimeout(now);
    } else if (what == 3 && !to_verify.empty()) {
      const bool ok = r.Bernoulli(0.8);
      if (!ok) failed += t.PieceSize(to_verify.front());
      p.OnPieceVerified(now, to_verify.front(), ok);
      to_verify.erase(to_verify.begin());
    } else if (what == 4 && !sending.empty()) {
      p.OnBlockSent(now, sending.front().first, sending.front().second);
      sending.erase(sending.begin());
    } else {
      const ConnectionId c = open[r.Below(open.size())];
      const PeerId remote(r.Bernoulli(0.95) ? c.value() + 1 : r.Below(4));
      // Mostly a plausible conversation, so deep states are reached; one in
      // ten messages is arbitrary.
      Message m = RandomMessage(r, t, remote);
      auto& ours = asked[c.value()];
      if (!greeted[c.value()] && r.Bernoulli(0.9)) {
        m = Handshake{t.info_hash(), remote};
        greeted[c.value()] = true;
      } else if (!ours.empty() && r.Bernoulli(0.6)) {
        const size_t k = r.Below(ours.size());
        m = Piece{ours[k]};
        ours.erase(ours.begin() + k);
      } else if (r.Bernoulli(0.9)) {
        switch (r.Below(5)) {
          case 0: m = Unchoke{}; break;
          case 1: m = Interested{}; break;
          case 2: m = Have{PieceIndex(uint32_t(r.Below(t.piece_count())))}; break;
          case 3: {
            Bitfield b(t.piece_count());
            for (uint32_t i = 0; i < t.piece_count(); ++i) if (r.Bernoulli(0.6)) b.Set(i);
            m = BitfieldMessage{b.ToWire()};
            break;
          }
          default: {
            const PieceIndex pc(uint32_t(r.Below(t.piece_count())));
            const uint32_t off = uint32_t(r.Below(2)) * 16384;
            const uint32_t len = uint32_t(std::min<Bytes>(16384, t.PieceSize(pc) - off));
            m = Request{BlockRef{pc, off, len}};
          }
        }
      }
      p.OnMessage(now, c, m);
    }
    for (const Action& a : p.TakeActions()) {
      if (auto* v = std::get_if<VerifyPiece>(&a)) to_verify.push_back(v->piece);
      if (auto* s = std::get_if<SendBlock>(&a)) {
        ASSERT_TRUE(p.have().Test(s->block.piece.value())) << ToString(a);
        sending.push_back({s->conn, s->block});
      }
      if (auto* s = std::get_if<StoreBlock>(&a)) stored += s->block.length;
      if (auto* s = std::get_if<SendMessage>(&a)) {
        if (auto* q = std::get_if<Request>(&s->message)) asked[s->conn.value()].push_back(q->block);
      }
      if (auto* d = std::get_if<Disconnect>(&a)) {
        std::erase(open, d->conn);
      }
    }
    ASSERT_TRUE(p.CheckInvariants()) << "step " << step;
    ASSERT_EQ(p.IdleConnections(), 0u) << "step " << step << "\n" << p.DebugString();
  }
  // Every stored byte is counted as downloaded (verified or still waiting
  // for its check) unless its piece failed or the core discarded it (a
  // parole piece taken over), which takes it back.
  EXPECT_EQ(stored, p.stats().downloaded + failed + p.stats().discarded);
  EXPECT_LE(p.stats().downloaded, t.length());
  if (!start.All()) {
    EXPECT_GT(stored, 0) << "no block was ever accepted: no deep state reached";
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, PeerFuzzTest, ::testing::Range<uint64_t>(1, 41));

}  // namespace
}  // namespace swarm::core
