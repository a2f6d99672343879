#include "core/action.h"

#include "core/overloaded.h"

namespace swarm::core {

std::string_view DisconnectReasonName(DisconnectReason r) {
  switch (r) {
    case DisconnectReason::kShutdown: return "shutdown";
    case DisconnectReason::kWrongInfoHash: return "wrong_info_hash";
    case DisconnectReason::kSelfConnection: return "self_connection";
    case DisconnectReason::kDuplicateConnection: return "duplicate_connection";
    case DisconnectReason::kBanned: return "banned";
    case DisconnectReason::kTooManyConnections: return "too_many_connections";
    case DisconnectReason::kMessageBeforeHandshake: return "message_before_handshake";
    case DisconnectReason::kUnexpectedHandshake: return "unexpected_handshake";
    case DisconnectReason::kBadBitfield: return "bad_bitfield";
    case DisconnectReason::kIndexOutOfRange: return "index_out_of_range";
    case DisconnectReason::kBadLength: return "bad_length";
    case DisconnectReason::kUnrequestedBlock: return "unrequested_block";
    case DisconnectReason::kRequestForMissingPiece: return "request_for_missing_piece";
    case DisconnectReason::kTooManyRequests: return "too_many_requests";
    case DisconnectReason::kHashFailure: return "hash_failure";
    case DisconnectReason::kInactive: return "inactive";
    case DisconnectReason::kNotUseful: return "not_useful";
    case DisconnectReason::kIdle: return "idle";
    case DisconnectReason::kUnusedUnchoke: return "unused_unchoke";
    case DisconnectReason::kWrongPeer: return "wrong_peer";
    case DisconnectReason::kBadHandshake: return "bad_handshake";
    case DisconnectReason::kUploadStalled: return "upload_stalled";
  }
  return "unknown";
}

namespace {
std::string Conn(ConnectionId c) { return "c" + std::to_string(c.value()); }
std::string Block(const BlockRef& b) {
  return std::to_string(b.piece.value()) + "/" + std::to_string(b.offset) + "+" +
         std::to_string(b.length);
}
}  // namespace

std::string ToString(const Action& a) {
  return std::visit(
      Overloaded{
          [](const SendMessage& x) { return "send " + Conn(x.conn) + " " + ToString(x.message); },
          [](const SendBlock& x) { return "send_block " + Conn(x.conn) + " " + Block(x.block); },
          [](const StoreBlock& x) { return "store " + Conn(x.conn) + " " + Block(x.block); },
          [](const VerifyPiece& x) { return "verify " + std::to_string(x.piece.value()); },
          [](const Connect& x) {
            return "connect peer=" + std::to_string(x.address.id.value()) +
                   (x.address.endpoint.empty() ? "" : " " + x.address.endpoint);
          },
          [](const Disconnect& x) {
            return "disconnect " + Conn(x.conn) + " " + std::string(DisconnectReasonName(x.reason));
          },
          [](const Announce& x) {
            return "announce " + std::string(AnnounceEventName(x.event)) +
                   " up=" + std::to_string(x.uploaded) + " down=" + std::to_string(x.downloaded) +
                   " left=" + std::to_string(x.left) + " numwant=" + std::to_string(x.numwant);
          },
          [](const Completed&) { return std::string("completed"); },
      },
      a);
}

bool IsProtocolViolation(DisconnectReason r) {
  switch (r) {
    case DisconnectReason::kWrongInfoHash:
    case DisconnectReason::kMessageBeforeHandshake:
    case DisconnectReason::kUnexpectedHandshake:
    case DisconnectReason::kBadBitfield:
    case DisconnectReason::kIndexOutOfRange:
    case DisconnectReason::kBadLength:
    case DisconnectReason::kUnrequestedBlock:
    case DisconnectReason::kRequestForMissingPiece:
    case DisconnectReason::kTooManyRequests:
    case DisconnectReason::kHashFailure:
    case DisconnectReason::kBadHandshake:
      return true;
    default:
      return false;
  }
}

bool WorthRedial(DisconnectReason r) { return r == DisconnectReason::kInactive; }

}  // namespace swarm::core
