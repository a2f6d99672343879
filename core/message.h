// Wire messages between two peers (BEP 3 vocabulary), as plain structs.
//
// The core never sees bytes of file content: a Piece message names the block
// it carries and the driver holds the payload (see Action::StoreBlock). Each
// driver translates these structs to its own transport (protobuf on gRPC, an
// event in the simulator) and back, without interpreting them.
#ifndef SWARM_CORE_MESSAGE_H_
#define SWARM_CORE_MESSAGE_H_

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/torrent_info.h"
#include "core/types.h"

namespace swarm::core {

// A block: `length` bytes at `offset` within piece `piece`.
struct BlockRef {
  PieceIndex piece;
  uint32_t offset = 0;
  uint32_t length = 0;
  auto operator<=>(const BlockRef&) const = default;
};

// First message on every connection, in both directions.
struct Handshake {
  InfoHash info_hash{};
  PeerId peer_id;
  bool operator==(const Handshake&) const = default;
};
struct KeepAlive { bool operator==(const KeepAlive&) const = default; };
struct Choke { bool operator==(const Choke&) const = default; };
struct Unchoke { bool operator==(const Unchoke&) const = default; };
struct Interested { bool operator==(const Interested&) const = default; };
struct NotInterested { bool operator==(const NotInterested&) const = default; };
struct Have {
  PieceIndex piece;
  bool operator==(const Have&) const = default;
};
// BEP 3 wire form; validated against the torrent's piece count on receipt.
struct BitfieldMessage {
  std::vector<uint8_t> bits;
  bool operator==(const BitfieldMessage&) const = default;
};
struct Request {
  BlockRef block;
  bool operator==(const Request&) const = default;
};
// The block's bytes travel beside the message, owned by the driver.
struct Piece {
  BlockRef block;
  bool operator==(const Piece&) const = default;
};
struct Cancel {
  BlockRef block;
  bool operator==(const Cancel&) const = default;
};

using Message = std::variant<Handshake, KeepAlive, Choke, Unchoke, Interested,
                             NotInterested, Have, BitfieldMessage, Request,
                             Piece, Cancel>;

// "handshake", "keep_alive", "choke", ... (for logs and traces).
std::string_view MessageName(const Message& m);

// One line, e.g. "have 12", "request 3/16384+16384", "bitfield 0110".
std::string ToString(const Message& m);

// Size of the message on a BEP 3 wire, payload included (4-byte length
// prefix, 1-byte id, fields). The simulator charges this many bytes.
Bytes WireSize(const Message& m);

}  // namespace swarm::core

#endif  // SWARM_CORE_MESSAGE_H_
