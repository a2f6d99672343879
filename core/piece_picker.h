// PiecePicker: which blocks to request next, and the download state of every
// piece (missing, partly requested/received, complete awaiting verification,
// verified).
//
// Policy, in order of precedence for one remote peer:
//   1. strict priority: blocks of pieces already started that the peer has;
//   2. a new piece the peer has: random while we hold fewer than
//      `random_first_pieces` pieces, otherwise by PieceSelection
//      (rarest-first picks at random among the rarest);
//   3. end-game: once no missing block is unrequested, blocks already
//      requested from other peers (the caller cancels duplicates on arrival).
//
// Parole: a piece that failed verification with blocks from several peers
// is downloaded again from a single peer at a time, so that a second failure
// names the culprit (libtorrent calls this parole mode). The piece stays
// its owner's while the owner chokes us: a piece may take longer than many
// unchoke rounds (1 MiB at 500 kbit/s, 17 s, against 2 s round-robin
// rounds), and passing it on at every choke threw each owner's part away
// for good. It passes to another peer only when the caller releases it:
// ForgetOwner (the owner left or snubbed us), or ReleaseSilentOwner (it has
// sent us no block for a patience that doubles with each takeover of the
// piece, so that it outlasts any owner's wait for its next unchoke round).
// The blocks the former owner delivered are then discarded and the new
// owner fetches the whole piece: the attempt never mixes two peers' blocks.
//
// Invariants:
//   - availability_[p] = number of connected peers announcing piece p;
//   - a piece is in partial_ iff it is not had and at least one of its blocks
//     was ever requested since it was last reset;
//   - unrequested_ counts blocks of not-had pieces that are neither received
//     nor outstanding; end-game starts when it reaches 0.
//
// Thread-compatible; deterministic given the Rng passed in.
#ifndef SWARM_CORE_PIECE_PICKER_H_
#define SWARM_CORE_PIECE_PICKER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/bitfield.h"
#include "core/flat_map.h"
#include "core/message.h"
#include "core/peer_config.h"
#include "core/rng.h"
#include "core/torrent_info.h"

namespace swarm::core {

class PiecePicker {
 public:
  // REQUIRES: the torrent, in blocks of config.block_size, is within
  // kMaxPieces and kMaxBlocks (TorrentSizeProblem, core/torrent_limits.h).
  PiecePicker(const TorrentInfo& torrent, const PeerConfig& config);

  // Replaces the set of verified pieces (at start or resume). REQUIRES: no
  // piece is partial.
  void SetHave(const Bitfield& have);
  const Bitfield& have() const { return have_; }

  // Availability bookkeeping for connected peers' pieces.
  void AddPeer(const Bitfield& remote);
  void RemovePeer(const Bitfield& remote);
  void AddHave(PieceIndex p) { ++availability_[p.value()]; }
  uint32_t availability(PieceIndex p) const { return availability_[p.value()]; }
  // A hint: the state of piece p's blocks will be read soon.
  void PrefetchPiece(PieceIndex p) const {
    if (p.value() < torrent_.piece_count()) __builtin_prefetch(&blocks_[Slot(p, 0)]);
  }
  // A hint: the headers of the arrays a Have or a block reads (the
  // availability counts, the block states) will be read soon.
  void PrefetchHeaders() const {
    __builtin_prefetch(&availability_);
    __builtin_prefetch(&blocks_);
    __builtin_prefetch(&blocks_per_piece_);
  }
  // Where availability(p) is kept (for a prefetch hint).
  const uint32_t& availability_ref(PieceIndex p) const { return availability_[p.value()]; }

  // Up to `n` blocks to request from a peer holding `remote`; each is marked
  // outstanding. `requested_from_peer(b)` says whether b is already
  // outstanding on that peer's connection (skipped in end-game).
  // `who` is the peer the blocks will be requested from. `out` is cleared
  // first; passing the same vector each time spares an allocation per call.
  // `now` stamps a parole piece `who` takes (ReleaseSilentOwner).
  void Pick(Time now, const Bitfield& remote, PeerId who, size_t n, Rng& rng,
            const std::function<bool(const BlockRef&)>& requested_from_peer,
            std::vector<BlockRef>& out);

  // Whether Pick would find a block for `who` without end-game: an
  // unrequested, missing block of a started piece `who` has (and may be
  // asked for), or a piece `who` has that we neither have nor started.
  // Changes nothing; for invariant checks.
  bool HasUnrequestedBlockFor(const Bitfield& remote, PeerId who) const;
  // An outstanding request will not be answered (choke, timeout, cancel,
  // disconnect). The block becomes pickable again if nobody else has it
  // outstanding.
  void AbortRequest(const BlockRef& b);
  // `who` will send nothing more for a while (it left, snubbed us, or kept
  // us choked too long): the parole pieces it was fetching may pass to
  // another peer. A choke alone keeps them its own (see Parole above).
  // Whether it held any.
  bool ForgetOwner(PeerId who);
  // `who` sent us its last block at `last_block`: releases the parole
  // pieces it holds whose patience, `base` doubled at each takeover of the
  // piece so far, has run out since that block or since it took the piece,
  // whichever is later. Whether it released any.
  bool ReleaseSilentOwner(PeerId who, Time last_block, Time now, Duration base);
  // Whether `who` holds a parole piece.
  bool HoldsParole(PeerId who) const;
  // Whether any piece is on parole (ForgetOwner has work to do).
  bool AnyParole() const { return parole_count_ > 0; }

  enum class Receipt { kNew, kDuplicate };
  // A requested block arrived. kNew the first time; kDuplicate if it was
  // already received (end-game race) or the piece is already had.
  // REQUIRES: the block lies within the torrent and is block-aligned.
  Receipt OnBlockReceived(const BlockRef& b);
  // True when every block of p has been received (VerifyPiece is due).
  bool IsComplete(PieceIndex p) const;
  // True while some block of p is still missing and p is not had.
  bool NeedsBlock(const BlockRef& b) const;
  // Whether a request for `b` is counted as in flight (e.g. an end-game
  // duplicate on another connection after `b` arrived).
  bool IsOutstanding(const BlockRef& b) const;

  // Verification outcome. ok: p becomes had. !ok: p is reset to missing and
  // put on parole.
  void OnPieceVerified(PieceIndex p, bool ok);
  bool OnParole(PieceIndex p) const { return parole_[p.value()]; }
  // A parole piece whose received blocks a Pick threw away because another
  // peer took it over (see Parole above); `bytes` is what they held.
  struct Discard {
    PieceIndex piece;
    Bytes bytes = 0;
  };
  // The discards made since the last call, oldest first. The caller's
  // record of who supplied these pieces must start over, and the blocks
  // already stored are overwritten by the refetch.
  std::vector<Discard> TakeDiscards() { return std::exchange(discards_, {}); }
  // Whether a block of p that `who` sends with no request for it
  // outstanding (the late answer to one we gave up) may be kept. Always,
  // unless p is on parole: then only from its owner (also one released
  // whose piece nobody has taken over yet), or the attempt would be mixed
  // from several peers again and a second failure would name nobody.
  bool AcceptsLateFrom(PieceIndex p, PeerId who) const;

  bool InEndgame() const;
  // Whether `b` is one of this torrent's blocks (aligned, right length).
  bool IsValidBlock(const BlockRef& b) const;
  uint32_t BlocksIn(PieceIndex p) const;
  BlockRef Block(PieceIndex p, uint32_t i) const;

  // The pieces in progress, one per line, for diagnosing a stalled download:
  // index, per-block state (R received, digit = requests in flight, . none),
  // parole owner.
  std::string DebugString() const;
  // Whether every piece in progress counts its unrequested blocks right
  // (recounted from the block states), carries
  // its parole flag, has every unrequested block below its pick cursor
  // among its holes, and every block below its received prefix received.
  // For tests; O(blocks in progress).
  bool CheckCounts() const;

 private:
  // A started piece's bookkeeping; its blocks' state is in blocks_.
  struct Partial {
    uint32_t received_count = 0;
    // Blocks neither received nor requested (state zero): a pick skips a
    // piece with none without reading its block states, a cold line.
    uint32_t unrequested = 0;
    // parole_ of the piece, copied when it starts (parole_ changes only
    // when a piece ends): a pick reads it here, in the line it reads
    // anyway, not in parole_'s.
    bool parole = false;
    // Parole pieces: whether the piece is `owner`'s. Reset by ForgetOwner:
    // then another peer may take the piece over.
    bool held = false;
    // Parole pieces: takeovers so far (each doubles the next owner's
    // patience; ReleaseSilentOwner).
    uint8_t takeovers = 0;
    // Parole pieces: when `owner` took it (or took it back after a release).
    Time taken_at;
    // Parole pieces: the peer last asked; the blocks received are its.
    std::optional<PeerId> owner;
    // Where a pick resumes its scan for unrequested blocks: every block
    // below `cursor` that is neither received nor requested is in `holes`.
    // Without it a pick rescanned the piece from block 0, quadratic in the
    // blocks per piece (131,072 in a 2 GiB piece of 16 KiB blocks).
    uint32_t cursor = 0;
    // Blocks below `cursor` given back (a request aborted), as a min-heap,
    // so that a pick still takes the lowest unrequested block first. An
    // entry whose block arrived meanwhile (a late answer) is stale and
    // skipped when popped.
    std::vector<uint32_t> holes;
    // Every block below `received_prefix` is received: an end-game pick,
    // which looks for blocks not yet received, starts there.
    uint32_t received_prefix = 0;
  };
  // The state of one block in blocks_: the requests in flight in the low
  // 15 bits, kReceived once it arrived.
  static constexpr uint16_t kReceived = 0x8000;
  static constexpr uint16_t kInFlight = 0x7fff;
  // Index in blocks_ of block i of piece p (every piece but the last has
  // blocks_per_piece_ blocks).
  size_t Slot(PieceIndex p, uint32_t i) const {
    return size_t{p.value()} * blocks_per_piece_ + i;
  }
  size_t Slot(const BlockRef& b) const { return Slot(b.piece, b.offset / config_.block_size); }
  // Whether `who` may be asked for blocks of this partial piece.
  static bool MayTake(const Partial& part, PeerId who) {
    return !part.parole || !part.held || *part.owner == who;
  }
  Partial& StartPiece(PieceIndex p);
  // Block i of p has just become neither received nor requested.
  static void GiveBack(Partial& part, uint32_t i);
  // Forgets the received blocks of parole piece p: they become unrequested.
  void DiscardReceived(PieceIndex p, Partial& part);
  void TakeFrom(Time now, PieceIndex p, Partial& part, PeerId who, size_t n,
                std::vector<BlockRef>& out);
  std::optional<PieceIndex> ChooseNewPiece(const Bitfield& remote, Rng& rng);
  void AddEndgameBlocks(const Bitfield& remote, PeerId who, size_t n,
                        const std::function<bool(const BlockRef&)>& from_peer,
                        std::vector<BlockRef>& out);

  const TorrentInfo& torrent_;
  PeerConfig config_;
  Bitfield have_;
  std::vector<uint32_t> availability_;
  std::vector<bool> parole_;
  uint32_t parole_count_ = 0;  // pieces set in parole_
  FlatMap<uint32_t, Partial> partial_;  // ordered: deterministic scans
  // Every block's state, indexed by Slot(), zero for pieces not in partial_.
  // A block arrival used to follow partial_ to two small heap arrays per
  // piece (requests in flight, received), three cold cache lines before the
  // first useful byte; here it is one line found by arithmetic, and a piece
  // start or finish allocates nothing. Two bytes per block of the torrent
  // (12.5 KiB per peer for 100 MiB in 16 KiB blocks).
  std::vector<uint16_t> blocks_;
  uint32_t blocks_per_piece_ = 0;
  Bitfield started_;                     // pieces present in partial_
  uint64_t unrequested_ = 0;
  std::vector<uint32_t> scratch_;  // candidate list reused across picks
  std::vector<Discard> discards_;  // since the last TakeDiscards
};

}  // namespace swarm::core

#endif  // SWARM_CORE_PIECE_PICKER_H_
