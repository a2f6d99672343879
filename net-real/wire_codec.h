// Translation between the protobuf wire (proto/peer.proto) and core::Message.
//
// The authentication exchange that opens every stream (a Handshake with a
// public key and nonce, then a Proof; see peer_auth.h) has its own
// functions, EncodeAuth and DecodeAuthFrame; DecodeFrame, for what follows,
// refuses a Proof and hands a Handshake to the core (which drops a
// connection that sends a second one).
//
// Decoding validates the *shape* of a message only — a oneof that is set, a
// 32-byte info-hash, a Piece whose data is exactly block.length bytes and at
// most kMaxBlockBytes — and never its meaning (index ranges, whether a block
// was requested: that is the core's job). A message that fails decoding is a
// remote protocol violation: the driver drops the connection.
//
// Messages travel as serialized WireMessage bytes (WireFrame out, Payload
// in) so that a Piece's payload is never copied by the codec: EncodePieceFrame
// writes the few header bytes a protobuf serializer would and leaves the
// payload in place; DecodeFrame recognises that layout and hands back the
// payload as a view into the received buffers. Any other layout (another
// encoder's field order, unknown fields) goes through protobuf parsing, so
// every valid WireMessage is accepted and all checks stay in DecodeMessage.
//
// Stateless functions; thread-safe.
#ifndef SWARM_NET_WIRE_CODEC_H_
#define SWARM_NET_WIRE_CODEC_H_

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "core/message.h"
#include "net-real/payload.h"
#include "net-real/peer_auth.h"
#include "proto/peer.pb.h"

namespace swarm::net {

// Largest block payload we carry (the limit; the core's own
// max_request_length, 128 KiB by default, is usually far lower).
inline constexpr uint32_t kMaxBlockBytes = 1024 * 1024;
// Largest encoded message either end accepts: one block plus headroom for
// the envelope and a bitfield of a very large torrent.
inline constexpr int kMaxWireMessageBytes = kMaxBlockBytes + 64 * 1024;

// Largest message of the authentication exchange either end accepts (a
// Handshake is about 120 bytes, a Proof about 70): the first messages of a
// stream are from a peer not yet known, so they get a tight cap of their
// own, under the stream's kMaxWireMessageBytes.
inline constexpr size_t kMaxAuthMessageBytes = 256;

// A decoded message and, for a Piece, its payload.
struct Decoded {
  core::Message message;
  Payload payload;  // empty unless message is a Piece
};

// A serialized WireMessage: `head` followed by `body` (a Piece's payload,
// shared, not copied; empty for other messages).
struct WireFrame {
  std::string head;
  Payload body;
  size_t size() const { return head.size() + body.size(); }
};

// Encodes a control message (anything but a Piece).
void EncodeMessage(const core::Message& m, wire::WireMessage* out);
// Encodes a Piece with its payload. REQUIRES: payload.size() == block.length.
void EncodePiece(const core::BlockRef& block, std::string payload,
                 wire::WireMessage* out);

// Decodes `in`, moving a Piece's payload out of it. On failure returns
// nullopt and sets *error to a short reason for the log.
std::optional<Decoded> DecodeMessage(wire::WireMessage* in, std::string* error);

// The wire bytes of a control message (anything but a Piece).
WireFrame EncodeFrame(const core::Message& m);
// The wire bytes of a Piece, byte for byte what protobuf would produce, with
// the payload shared. REQUIRES: payload.size() == block.length.
WireFrame EncodePieceFrame(const core::BlockRef& block, Payload payload);
// Decodes the serialized bytes of one WireMessage. A Piece's payload comes
// back as a view sharing `bytes`' owner. Same checks and errors as
// DecodeMessage, plus "not a WireMessage" for bytes protobuf cannot parse.
std::optional<Decoded> DecodeFrame(const Payload& bytes, std::string* error);

// The two messages that open every stream in each direction (peer_auth.h):
// a Handshake (AuthHello), then a Proof.
using AuthMessage = std::variant<AuthHello, AuthProof>;

void EncodeAuth(const AuthMessage& m, wire::WireMessage* out);
WireFrame EncodeAuthFrame(const AuthMessage& m);
// Decodes a message of the authentication exchange: a Handshake whose
// info-hash, public key and nonce have their exact lengths, or a Proof with
// a signature of kSignatureBytes; at most kMaxAuthMessageBytes in all.
// Anything else: nullopt and *error.
std::optional<AuthMessage> DecodeAuthFrame(const Payload& bytes, std::string* error);
std::optional<AuthMessage> DecodeAuthMessage(const wire::WireMessage& in, std::string* error);

}  // namespace swarm::net

#endif  // SWARM_NET_WIRE_CODEC_H_
