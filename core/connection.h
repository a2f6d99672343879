// Connection: a Peer's view of one neighbour — handshake state, the four
// choke/interest flags of BEP 3, the neighbour's pieces, our requests to it
// and its requests to us, and transfer rates both ways. Plain data owned and
// mutated only by core::Peer.
#ifndef SWARM_CORE_CONNECTION_H_
#define SWARM_CORE_CONNECTION_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "core/action.h"
#include "core/bitfield.h"
#include "core/message.h"
#include "core/rate_meter.h"
#include "core/small_vector.h"
#include "core/types.h"

namespace swarm::core {

struct OutstandingRequest {
  BlockRef block;
  Time sent;
};

// Requests kept inside a Connection, each way, before its queue moves to
// the heap: the default request pipeline (PeerConfig::request_pipeline).
inline constexpr size_t kInlineRequests = 5;

struct Connection {
  // Grouped in 64-byte runs by who reads them: a simulated swarm touches
  // thousands of other connections between two messages on this one, so
  // each cache line a message or a rechoke touches is a likely miss. The
  // first run is everything a rechoke reads (it visits every connection),
  // the second what every message reads or writes, the third what Have and
  // Piece need, the fourth the upload side. The neighbour's bitfield and
  // the two request queues are inline (up to a size), so a message's
  // handler finds them in the lines of its run, not in heap blocks of
  // their own. (Not alignas(64): at 5000 peers
  // the padding added 7% to peak memory and nothing measurable to speed.)

  // --- rechoke
  RateMeter download;  // bytes from the neighbour, for the choker

  // Handshake and ordering state.
  bool handshake_received = false;
  bool got_message_after_handshake = false;

  // BEP 3 flags; every connection starts choked and not interested.
  bool am_choking = true;
  bool am_interested = false;
  bool peer_choking = true;
  bool peer_interested = false;
  bool optimistic = false;  // unchoked through the optimistic slot
  bool snubbed = false;     // our requests went unanswered
  // We unchoked it, it stayed interested and asked nothing for
  // unused_unchoke_timeout; cleared by its next Request while unchoked
  // or a block from it. Since `waiting_since`.
  bool ignores_unchoke = false;
  // It has said Interested at least once. A super-seed reads it: a
  // neighbour shown a piece it lacks says Interested within a round trip,
  // so one that has not within a housekeeping interval of connecting is
  // taken for another seed (a super-seed hides its pieces too), which will
  // not pass a piece on.
  bool ever_interested = false;

  Time connected_at;  // every rechoke reads it (new peers' optimistic odds)

  // --- every message
  ConnectionId id;
  Time last_received;
  Time last_sent;
  Time last_block;
  // Pieces the neighbour has and we lack; we are interested iff > 0.
  uint32_t interesting = 0;
  uint32_t uploads_in_flight = 0;
  std::optional<PeerId> remote;  // set by a valid handshake

  // --- Have, Piece
  // Inline up to Bitfield::kInlineBits pieces: a Have reads these lines
  // anyway, and the bits cost no further line.
  Bitfield remote_have;
  // Our requests to the neighbour, oldest first; a pipeline's worth inline
  // (a block arrival reads them, and a Have asks the size when unchoked).
  SmallVector<OutstandingRequest, kInlineRequests> requests;

  // --- uploads: a Request and a finished upload read these
  // The last sign that it uses the upload slot we gave it: our Unchoke (or
  // its Interested while unchoked), its last Request, the last block we
  // sent it. Read only while it holds a slot with no request of its
  // pending (unused_unchoke_timeout), written on every Request and block
  // sent.
  Time slot_used_at;
  // The neighbour's requests to us not yet handed to the driver, oldest
  // first.
  SmallVector<BlockRef, kInlineRequests> upload_queue;
  RateMeter upload;  // bytes to the neighbour
  // Block bytes sent to and received from the neighbour in all; strict
  // tit-for-tat reads them.
  Bytes uploaded = 0;
  Bytes downloaded = 0;

  // --- colder state
  // Requests we gave up on (choke, timeout, cancel) whose blocks may still
  // arrive; bounded, oldest dropped first (counted in stale_forgotten for
  // a while). A vector, not a deque: an empty std::deque already allocates
  // ~600 bytes, which at 10^5-10^6 simulated connections dominated memory.
  std::vector<BlockRef> stale;
  // Weighted uploads (propshare, bittyrant): share and stride-scheduling
  // pass; the connection with the lowest pass is served next.
  double upload_weight = 1;
  double upload_pass = 0;
  RateMeter announced;  // piece bytes the neighbour announced (Have);
                        // kept for BitTyrant only
  Direction direction = Direction::kInbound;
  // Accepted while we were full and kept over max_connections because it
  // may be one of a crossing pair, two peers dialing each other at the same
  // instant (Peer::OnConnected, Peer::TrimOverLimit).
  bool over_limit = false;
  // Stale requests pushed out of `stale` by newer ones and not answered
  // since: so many unknown blocks may still come as their late answers,
  // and are discarded rather than taken as unrequested (see HandlePiece).
  // Counted by stale epoch (Peer::RotateStaleEpoch), as those pushed out
  // in the current epoch and those pushed out in the one before; older
  // ones have expired. Each count saturates (a neighbour would have to
  // make us forget 65535 requests within one epoch, a gigabyte of 16 KiB
  // blocks asked of it).
  uint16_t stale_forgotten = 0;
  uint16_t stale_forgotten_old = 0;
  // PeerConfig::request_queue_time: the requests to keep in flight at the
  // rate last observed; 0 while off or before the first block. 16 bits fit
  // the padding here (a wider field made every Connection 8 bytes larger);
  // deeper than 65535 requests is never asked.
  uint16_t adaptive_pipeline = 0;
  // When the last of am_interested and peer_interested went down
  // (connected_at until one goes up). Only the idle_timeout check in
  // housekeeping reads it, and only once both flags are down.
  Time interest_ended;
  std::optional<PeerId> dialed;  // outbound: whom we meant to reach
  // Since when we wait on the neighbour, for one of two things that never
  // hold together (a marked neighbour has nothing queued or in flight, and
  // its next Request clears the mark before it is queued; CheckInvariants):
  //  - while ignores_unchoke: to use our unchoke; set when marked;
  //  - while uploads_in_flight > 0 (and upload_stall_timeout is on): for
  //    a block of ours to leave; the last OnBlockSent, or Time::Never()
  //    from the SendBlock that found none in flight until housekeeping
  //    first sees it. One field for both keeps Connection at 632 bytes.
  Time waiting_since;

  // Super-seeding: the one piece revealed to this neighbour, and whether it
  // announced having fetched it.
  std::optional<PieceIndex> super_offer;

  bool HasOutstanding(const BlockRef& b) const {
    for (const auto& r : requests) {
      if (r.block == b) return true;
    }
    return false;
  }
};

}  // namespace swarm::core

#endif  // SWARM_CORE_CONNECTION_H_
