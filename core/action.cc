#include "core/action.h"

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
  }
  return "unknown";
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
      return true;
    default:
      return false;
  }
}

}  // namespace swarm::core
