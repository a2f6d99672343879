#include "core/piece_picker.h"

#include <algorithm>
#include <bit>
#include <functional>

#include "core/check.h"
#include "core/torrent_limits.h"

namespace swarm::core {

PiecePicker::PiecePicker(const TorrentInfo& torrent, const PeerConfig& config)
    : torrent_(torrent),
      config_(config),
      have_(torrent.piece_count()),
      availability_(torrent.piece_count(), 0),
      parole_(torrent.piece_count(), false),
      started_(torrent.piece_count()) {
  for (uint32_t p = 0; p < torrent_.piece_count(); ++p) {
    unrequested_ += BlocksIn(PieceIndex(p));
  }
  if (torrent_.piece_count() > 0) blocks_per_piece_ = BlocksIn(PieceIndex(0));
  // Two bytes per block: the edges refuse larger torrents (torrent_limits.h).
  SWARM_CHECK(unrequested_ <= kMaxBlocks);
  SWARM_CHECK(torrent_.piece_length() <= kMaxPieceLength);  // 32-bit offsets
  blocks_.assign(unrequested_, 0);
}

uint32_t PiecePicker::BlocksIn(PieceIndex p) const {
  const Bytes size = torrent_.PieceSize(p);
  return static_cast<uint32_t>((size + config_.block_size - 1) / config_.block_size);
}

BlockRef PiecePicker::Block(PieceIndex p, uint32_t i) const {
  const Bytes size = torrent_.PieceSize(p);
  const uint32_t offset = i * config_.block_size;
  const uint32_t length =
      static_cast<uint32_t>(std::min<Bytes>(config_.block_size, size - offset));
  return BlockRef{p, offset, length};
}

bool PiecePicker::IsValidBlock(const BlockRef& b) const {
  if (b.piece.value() >= torrent_.piece_count()) return false;
  if (b.offset % config_.block_size != 0) return false;
  const uint32_t i = b.offset / config_.block_size;
  if (i >= BlocksIn(b.piece)) return false;
  return Block(b.piece, i).length == b.length;
}

void PiecePicker::SetHave(const Bitfield& have) {
  SWARM_CHECK(have.size() == have_.size() && partial_.empty());
  have_ = have;
  unrequested_ = 0;
  for (uint32_t p = 0; p < torrent_.piece_count(); ++p) {
    if (!have_.Test(p)) unrequested_ += BlocksIn(PieceIndex(p));
  }
}

void PiecePicker::AddPeer(const Bitfield& remote) {
  for (uint32_t p = 0; p < remote.size(); ++p) {
    if (remote.Test(p)) ++availability_[p];
  }
}

void PiecePicker::RemovePeer(const Bitfield& remote) {
  for (uint32_t p = 0; p < remote.size(); ++p) {
    if (remote.Test(p)) {
      SWARM_CHECK(availability_[p] > 0);
      --availability_[p];
    }
  }
}

PiecePicker::Partial& PiecePicker::StartPiece(PieceIndex p) {
  auto [it, inserted] = partial_.try_emplace(p.value());
  if (inserted) {
    started_.Set(p.value());  // its blocks_ are all zero
    it->second.unrequested = BlocksIn(p);
    it->second.parole = parole_[p.value()];
  }
  return it->second;
}

void PiecePicker::TakeFrom(Time now, PieceIndex p, Partial& part, PeerId who, size_t n,
                           std::vector<BlockRef>& out) {
  if (!MayTake(part, who)) return;
  if (part.parole) {
    // Taken over from another peer (MayTake: nobody holds it now): what
    // that peer delivered goes, so that one peer supplies the whole
    // attempt. A complete piece awaits its check and is left alone.
    if (part.owner != who && part.received_count > 0 &&
        part.received_count < BlocksIn(p)) {
      DiscardReceived(p, part);
      if (part.takeovers < UINT8_MAX) ++part.takeovers;
    }
    if (!part.held || part.owner != who) part.taken_at = now;
    part.owner = who;
    part.held = true;
  }
  if (part.unrequested == 0) return;  // every block received or requested
  uint16_t* state = &blocks_[Slot(p, 0)];
  auto take = [&](uint32_t i) {
    ++state[i];
    --unrequested_;
    --part.unrequested;
    out.push_back(Block(p, i));
  };
  // The lowest unrequested blocks first, as a scan from block 0 would take
  // them: those given back below the cursor, then onwards from it.
  while (!part.holes.empty() && out.size() < n) {
    std::pop_heap(part.holes.begin(), part.holes.end(), std::greater<>());
    const uint32_t i = part.holes.back();
    part.holes.pop_back();
    if (state[i] == 0) take(i);  // else it arrived late meanwhile
  }
  const uint32_t blocks = BlocksIn(p);
  uint32_t i = part.cursor;
  for (; i < blocks && out.size() < n && part.unrequested > 0; ++i) {
    if (state[i] == 0) take(i);  // else received or requested
  }
  part.cursor = i;
}

void PiecePicker::GiveBack(Partial& part, uint32_t i) {
  if (i >= part.cursor) return;  // a pick's scan will meet it
  part.holes.push_back(i);
  std::push_heap(part.holes.begin(), part.holes.end(), std::greater<>());
}

void PiecePicker::DiscardReceived(PieceIndex p, Partial& part) {
  uint16_t* state = &blocks_[Slot(p, 0)];
  Bytes bytes = 0;
  for (uint32_t i = 0; i < BlocksIn(p); ++i) {
    if (!(state[i] & kReceived)) continue;
    // No request is in flight for a received block: an end-game duplicate
    // is cancelled when the block arrives, and a parole piece has no
    // end-game duplicates (one peer at a time).
    state[i] &= kInFlight;
    if (state[i] == 0) {
      ++unrequested_;
      ++part.unrequested;
    }
    bytes += Block(p, i).length;
  }
  part.received_count = 0;
  // The next pick scans the piece afresh (this walk was as long).
  part.cursor = 0;
  part.holes.clear();
  part.received_prefix = 0;
  discards_.push_back(Discard{p, bytes});
}

std::optional<PieceIndex> PiecePicker::ChooseNewPiece(const Bitfield& remote,
                                                      Rng& rng) {
  const bool random = config_.piece_selection == PieceSelection::kRandom ||
                      have_.Count() < config_.random_first_pieces;
  const bool sequential = config_.piece_selection == PieceSelection::kSequential;
  scratch_.clear();
  uint32_t rarest = UINT32_MAX;
  // Candidates: pieces the peer has that we neither have nor started, found
  // a word (64 pieces) at a time.
  const auto& rw = remote.words();
  const auto& hw = have_.words();
  const auto& sw = started_.words();
  for (size_t w = 0; w < rw.size(); ++w) {
    uint64_t bits = rw[w] & ~hw[w] & ~sw[w];
    while (bits) {
      const uint32_t p = static_cast<uint32_t>(w * 64 + std::countr_zero(bits));
      bits &= bits - 1;
      if (sequential && !random) return PieceIndex(p);
      if (!random) {
        if (availability_[p] > rarest) continue;
        if (availability_[p] < rarest) {
          rarest = availability_[p];
          scratch_.clear();
        }
      }
      scratch_.push_back(p);
    }
  }
  if (scratch_.empty()) return std::nullopt;
  return PieceIndex(scratch_[rng.Below(scratch_.size())]);
}

void PiecePicker::AddEndgameBlocks(
    const Bitfield& remote, PeerId who, size_t n,
    const std::function<bool(const BlockRef&)>& from_peer,
    std::vector<BlockRef>& out) {
  for (auto& [index, part] : partial_) {
    if (out.size() >= n) return;
    const PieceIndex p(index);
    if (!remote.Test(index) || !MayTake(part, who)) continue;
    const uint32_t blocks = BlocksIn(p);
    uint16_t* state = &blocks_[Slot(p, 0)];
    uint32_t& first = part.received_prefix;  // moves on for good
    while (first < blocks && (state[first] & kReceived)) ++first;
    for (uint32_t i = first; i < blocks && out.size() < n; ++i) {
      if (state[i] & kReceived) continue;
      const BlockRef b = Block(p, i);
      if (std::find(out.begin(), out.end(), b) != out.end() || from_peer(b)) continue;
      SWARM_CHECK((state[i] & kInFlight) < kInFlight);
      ++state[i];
      out.push_back(b);
    }
  }
}

void PiecePicker::Pick(Time now, const Bitfield& remote, PeerId who, size_t n, Rng& rng,
                       const std::function<bool(const BlockRef&)>& requested_from_peer,
                       std::vector<BlockRef>& out) {
  out.clear();
  if (n == 0) return;
  // 1. Strict priority: finish what we started.
  for (auto& [index, part] : partial_) {
    if (out.size() >= n) return;
    if (remote.Test(index)) TakeFrom(now, PieceIndex(index), part, who, n, out);
  }
  // 2. Start new pieces.
  while (out.size() < n) {
    std::optional<PieceIndex> p = ChooseNewPiece(remote, rng);
    if (!p) break;
    TakeFrom(now, *p, StartPiece(*p), who, n, out);
  }
  // 3. End-game.
  if (out.size() < n && config_.endgame && InEndgame()) {
    AddEndgameBlocks(remote, who, n, requested_from_peer, out);
  }
}

bool PiecePicker::HasUnrequestedBlockFor(const Bitfield& remote, PeerId who) const {
  for (const auto& [index, part] : partial_) {
    if (part.unrequested > 0 && remote.Test(index) && MayTake(part, who)) return true;
  }
  const auto& rw = remote.words();
  const auto& hw = have_.words();
  const auto& sw = started_.words();
  for (size_t w = 0; w < rw.size(); ++w) {
    if (rw[w] & ~hw[w] & ~sw[w]) return true;
  }
  return false;
}

void PiecePicker::AbortRequest(const BlockRef& b) {
  auto it = partial_.find(b.piece.value());
  if (it == partial_.end()) return;  // piece finished or reset meanwhile
  Partial& part = it->second;
  uint16_t& state = blocks_[Slot(b)];
  if ((state & kInFlight) == 0) return;
  --state;
  if (state == 0) {  // neither received nor requested
    ++unrequested_;
    ++part.unrequested;
    GiveBack(part, b.offset / config_.block_size);
  }
}

bool PiecePicker::ForgetOwner(PeerId who) {
  if (parole_count_ == 0) return false;
  bool held = false;
  for (auto& [index, part] : partial_) {
    if (part.held && part.owner == who) {
      part.held = false;
      held = true;
    }
  }
  return held;
}

bool PiecePicker::ReleaseSilentOwner(PeerId who, Time last_block, Time now, Duration base) {
  if (parole_count_ == 0) return false;
  bool released = false;
  for (auto& [index, part] : partial_) {
    if (!part.held || part.owner != who) continue;
    // silent >= base * 2^takeovers, without overflowing the product.
    const Duration silent = now - std::max(last_block, part.taken_at);
    if ((silent.micros() >> std::min<int>(part.takeovers, 62)) >= base.micros()) {
      part.held = false;
      released = true;
    }
  }
  return released;
}

bool PiecePicker::HoldsParole(PeerId who) const {
  if (parole_count_ == 0) return false;
  for (const auto& [index, part] : partial_) {
    if (part.held && part.owner == who) return true;
  }
  return false;
}

PiecePicker::Receipt PiecePicker::OnBlockReceived(const BlockRef& b) {
  SWARM_CHECK(IsValidBlock(b));
  if (have_.Test(b.piece.value())) return Receipt::kDuplicate;
  Partial& part = StartPiece(b.piece);
  uint16_t& state = blocks_[Slot(b)];
  if (state & kReceived) {
    if (state & kInFlight) --state;
    return Receipt::kDuplicate;
  }
  // A block that arrives with no request outstanding (a stale request the
  // sender honoured late) was counted as unrequested.
  if (state == 0) {
    --unrequested_;
    --part.unrequested;
  } else {
    --state;
  }
  state |= kReceived;
  ++part.received_count;
  return Receipt::kNew;
}

bool PiecePicker::IsComplete(PieceIndex p) const {
  auto it = partial_.find(p.value());
  return it != partial_.end() && it->second.received_count == BlocksIn(p);
}

bool PiecePicker::NeedsBlock(const BlockRef& b) const {
  if (!IsValidBlock(b) || have_.Test(b.piece.value())) return false;
  return !(blocks_[Slot(b)] & kReceived);  // zero if the piece is not started
}

bool PiecePicker::AcceptsLateFrom(PieceIndex p, PeerId who) const {
  if (!parole_[p.value()]) return true;
  auto it = partial_.find(p.value());
  return it != partial_.end() && it->second.owner == who;
}

bool PiecePicker::IsOutstanding(const BlockRef& b) const {
  return (blocks_[Slot(b)] & kInFlight) != 0;  // zero if the piece is not started
}

void PiecePicker::OnPieceVerified(PieceIndex p, bool ok) {
  SWARM_CHECK(IsComplete(p));
  partial_.erase(p.value());
  std::fill_n(blocks_.begin() + Slot(p, 0), BlocksIn(p), uint16_t{0});
  started_.Clear(p.value());
  if (parole_[p.value()] == ok) {  // it changes
    if (ok) {
      --parole_count_;
    } else {
      ++parole_count_;
    }
  }
  parole_[p.value()] = !ok;
  if (ok) {
    have_.Set(p.value());
  } else {
    unrequested_ += BlocksIn(p);
  }
}

std::string PiecePicker::DebugString() const {
  std::string out = "have " + std::to_string(have_.Count()) + "/" +
                    std::to_string(have_.size()) + ", unrequested blocks " +
                    std::to_string(unrequested_) + "\n";
  for (const auto& [index, part] : partial_) {
    out += "  piece " + std::to_string(index) + " ";
    const uint16_t* state = &blocks_[Slot(PieceIndex(index), 0)];
    for (uint32_t i = 0; i < BlocksIn(PieceIndex(index)); ++i) {
      const uint16_t k = state[i] & kInFlight;
      out += (state[i] & kReceived) ? 'R' : k == 0 ? '.' : k < 10 ? char('0' + k) : '+';
    }
    if (parole_[index]) {
      out += " parole, owner ";
      out += part.held ? std::to_string(part.owner->value()) : "none";
    }
    out += "\n";
  }
  return out;
}

bool PiecePicker::CheckCounts() const {
  for (const auto& [index, part] : partial_) {
    if (part.parole != parole_[index]) return false;
    const uint16_t* state = &blocks_[Slot(PieceIndex(index), 0)];
    const uint32_t blocks = BlocksIn(PieceIndex(index));
    if (static_cast<uint32_t>(std::count(state, state + blocks, uint16_t{0})) != part.unrequested) {
      return false;
    }
    if (part.cursor > blocks) return false;
    if (part.received_prefix > blocks ||
        !std::all_of(state, state + part.received_prefix,
                     [](uint16_t k) { return (k & kReceived) != 0; })) {
      return false;
    }
    // A pick resumes at the cursor: what lies below it unrequested must be
    // among the holes, or the pick would never take it.
    std::vector<uint32_t> holes = part.holes;
    std::sort(holes.begin(), holes.end());
    for (uint32_t i = 0; i < part.cursor; ++i) {
      if (state[i] == 0 && !std::binary_search(holes.begin(), holes.end(), i)) return false;
    }
  }
  // The per-piece counts add up to the whole picker's: end-game starts when
  // that reaches 0, and AddEndgameBlocks relies on no started piece having
  // an unrequested block then.
  uint64_t unrequested = 0;
  for (uint32_t p = 0; p < torrent_.piece_count(); ++p) {
    if (have_.Test(p)) continue;
    auto it = partial_.find(p);
    unrequested += it != partial_.end() ? it->second.unrequested : BlocksIn(PieceIndex(p));
  }
  return unrequested == unrequested_;
}

bool PiecePicker::InEndgame() const {
  return unrequested_ == 0 && !have_.All();
}

}  // namespace swarm::core
