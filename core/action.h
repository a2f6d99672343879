// Actions: everything a core::Peer asks its driver to do. The driver drains
// them with Peer::TakeActions() after every input and carries them out in
// order.
#ifndef SWARM_CORE_ACTION_H_
#define SWARM_CORE_ACTION_H_

#include <string>
#include <string_view>
#include <variant>

#include "core/announce.h"
#include "core/message.h"
#include "core/types.h"

namespace swarm::core {

enum class DisconnectReason : uint8_t {
  kShutdown,               // we are leaving (OnStop)
  kWrongInfoHash,          // handshake for another torrent
  kSelfConnection,         // handshake carried our own peer id
  kDuplicateConnection,    // already connected to that peer id
  kBanned,                 // the peer id is banned for sending bad data
  kTooManyConnections,     // a connection (inbound, or our dial answered
                           // late) over max_connections
  kMessageBeforeHandshake, // anything but a handshake came first
  kUnexpectedHandshake,    // a second handshake
  kBadBitfield,            // wrong size, spare bits set, or sent twice/late
  kIndexOutOfRange,        // piece index or block range outside the torrent
  kBadLength,              // block length zero or above max_request_length
  kUnrequestedBlock,       // a Piece we never asked this peer for
  kRequestForMissingPiece, // asked us for a piece we do not have
  kTooManyRequests,        // request queue above max_queued_requests
  kHashFailure,            // sent data that failed verification
  kInactive,               // nothing received for inactivity_timeout
  kNotUseful,              // both sides are seeds
  kIdle,                   // neither side interested for idle_timeout
  kUnusedUnchoke,          // left our unchoke unused (unused_unchoke_timeout)
                           // and its connection slot was wanted
  kUploadStalled,          // a block we send it has not left for
                           // upload_stall_timeout: it reads nothing
  // Given by the real network's driver, whose authentication carries the
  // handshake (net-real/peer_auth.h), when it ends a dial before the core
  // sees the connection (Peer::OnConnectFailed):
  kWrongPeer,              // the dialed address answered with another peer's
                           // id (the tracker's listing was stale)
  kBadHandshake,           // a malformed handshake, or a proof of id that
                           // fails (key, nonce or signature)
};
std::string_view DisconnectReasonName(DisconnectReason r);
// True when the reason is the remote peer breaking the protocol.
bool IsProtocolViolation(DisconnectReason r);
// Whether a dial that we ended for `r` before its handshake is worth another
// try (PeerConfig::dial_attempts). Only kInactive is: the remote accepted
// and then said nothing, which is what a busy or briefly unreachable peer
// does, as with a dial that times out. Everything else we close a dial for
// is not: a remote that broke the protocol (wrong info-hash, a message
// before the handshake, a failed proof), one that is ourselves, banned, or
// another peer than the one listed will answer the same again; a duplicate
// means we already have it; and kShutdown (we are leaving),
// kTooManyConnections (we are full) and our other reasons are no failure of
// the remote's. Such a peer is forgotten at once, and may be listed again
// by the tracker (unless banned, or at an address that was ourselves).
// A dial that fails without a reason of ours (refused, unreachable, timed
// out, or closed by the remote before its handshake, as a full peer does)
// is always retried.
bool WorthRedial(DisconnectReason r);

enum class Direction : uint8_t { kOutbound, kInbound };

// Send a control message (anything but a Piece) on a connection.
struct SendMessage {
  ConnectionId conn;
  Message message;
  bool operator==(const SendMessage&) const = default;
};
// Read this block of a verified piece and send it as a Piece message. When
// its bytes have left (real: write completed; sim: flow finished) the driver
// calls Peer::OnBlockSent. The core keeps at most
// PeerConfig::uploads_in_flight of these outstanding per connection.
struct SendBlock {
  ConnectionId conn;
  BlockRef block;
  bool operator==(const SendBlock&) const = default;
};
// Keep the payload that arrived with the Piece message just delivered on
// `conn`: write it at the block's place. Emitted only for accepted blocks;
// a Piece that yields no StoreBlock must be dropped by the driver.
struct StoreBlock {
  ConnectionId conn;
  BlockRef block;
  bool operator==(const StoreBlock&) const = default;
};
// All blocks of the piece are stored: hash it and call OnPieceVerified.
struct VerifyPiece {
  PieceIndex piece;
  bool operator==(const VerifyPiece&) const = default;
};
// Open a connection; answer with OnConnected(kOutbound) or OnConnectFailed.
struct Connect {
  PeerAddress address;
  bool operator==(const Connect&) const = default;
};
// Close the connection. The core has already forgotten it; the driver need
// not (but may) call OnDisconnected for it.
struct Disconnect {
  ConnectionId conn;
  DisconnectReason reason;
  bool operator==(const Disconnect&) const = default;
};
// Send an announce to the tracker; answer with OnTrackerResponse (or nothing
// if the tracker is unreachable: the core retries at its next interval).
struct Announce {
  AnnounceEvent event = AnnounceEvent::kNone;
  Bytes uploaded = 0;
  Bytes downloaded = 0;
  Bytes left = 0;
  uint32_t numwant = 0;
  bool operator==(const Announce&) const = default;
};
// Every piece is verified. Emitted once, when the peer becomes a seed by
// downloading (not when it starts as one).
struct Completed {
  bool operator==(const Completed&) const = default;
};

using Action = std::variant<SendMessage, SendBlock, StoreBlock, VerifyPiece,
                            Connect, Disconnect, Announce, Completed>;

// One line for logs, traces and test failures, e.g.
// "send c3 request 12/16384+16384" or "disconnect c3 bad_bitfield".
std::string ToString(const Action& a);

}  // namespace swarm::core

#endif  // SWARM_CORE_ACTION_H_
