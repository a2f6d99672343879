// Translation between the protobuf wire (proto/peer.proto) and core::Message.
//
// Decoding validates the *shape* of a message only — a oneof that is set, a
// 32-byte info-hash, a Piece whose data is exactly block.length bytes and at
// most kMaxBlockBytes — and never its meaning (index ranges, whether a block
// was requested: that is the core's job). A message that fails decoding is a
// remote protocol violation: the driver drops the connection.
//
// Stateless functions; thread-safe.
#ifndef SWARM_NET_WIRE_CODEC_H_
#define SWARM_NET_WIRE_CODEC_H_

#include <optional>
#include <string>
#include <string_view>

#include "core/message.h"
#include "proto/peer.pb.h"

namespace swarm::net {

// Largest block payload we carry (the limit; the core's own
// max_request_length, 128 KiB by default, is usually far lower).
inline constexpr uint32_t kMaxBlockBytes = 1024 * 1024;
// Largest encoded message either end accepts: one block plus headroom for
// the envelope and a bitfield of a very large torrent.
inline constexpr int kMaxWireMessageBytes = kMaxBlockBytes + 64 * 1024;

// A decoded message and, for a Piece, its payload.
struct Decoded {
  core::Message message;
  std::string payload;  // empty unless message is a Piece
};

// Encodes a control message (anything but a Piece).
void EncodeMessage(const core::Message& m, wire::WireMessage* out);
// Encodes a Piece with its payload. REQUIRES: payload.size() == block.length.
void EncodePiece(const core::BlockRef& block, std::string payload,
                 wire::WireMessage* out);

// Decodes `in`, moving a Piece's payload out of it. On failure returns
// nullopt and sets *error to a short reason for the log.
std::optional<Decoded> DecodeMessage(wire::WireMessage* in, std::string* error);

}  // namespace swarm::net

#endif  // SWARM_NET_WIRE_CODEC_H_
