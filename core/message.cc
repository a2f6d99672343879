#include "core/message.h"

#include "core/overloaded.h"

namespace swarm::core {

std::string_view MessageName(const Message& m) {
  return std::visit(
      Overloaded{
          [](const Handshake&) { return "handshake"; },
          [](const KeepAlive&) { return "keep_alive"; },
          [](const Choke&) { return "choke"; },
          [](const Unchoke&) { return "unchoke"; },
          [](const Interested&) { return "interested"; },
          [](const NotInterested&) { return "not_interested"; },
          [](const Have&) { return "have"; },
          [](const BitfieldMessage&) { return "bitfield"; },
          [](const Request&) { return "request"; },
          [](const Piece&) { return "piece"; },
          [](const Cancel&) { return "cancel"; },
      },
      m);
}

namespace {
std::string BlockString(const BlockRef& b) {
  return std::to_string(b.piece.value()) + "/" + std::to_string(b.offset) + "+" +
         std::to_string(b.length);
}
}  // namespace

std::string ToString(const Message& m) {
  std::string name(MessageName(m));
  return std::visit(
      Overloaded{
          [&](const Handshake& h) {
            return name + " peer=" + std::to_string(h.peer_id.value()) + " info=" +
                   ToHex(h.info_hash).substr(0, 8);
          },
          [&](const Have& h) { return name + " " + std::to_string(h.piece.value()); },
          [&](const BitfieldMessage& b) {
            return name + " " + std::to_string(b.bits.size()) + "B";
          },
          [&](const Request& r) { return name + " " + BlockString(r.block); },
          [&](const Piece& p) { return name + " " + BlockString(p.block); },
          [&](const Cancel& c) { return name + " " + BlockString(c.block); },
          [&](const auto&) { return name; },
      },
      m);
}

Bytes WireSize(const Message& m) {
  // BEP 3: <len:4><id:1><payload>; keep-alive is just the 4-byte length. The
  // BitTorrent handshake is 68 bytes; ours carries a 32-byte SHA-256
  // info-hash and an 8-byte peer id, so it is 1 + 19 + 8 + 32 + 8 = 68 too.
  return std::visit(
      Overloaded{
          [](const Handshake&) -> Bytes { return 68; },
          [](const KeepAlive&) -> Bytes { return 4; },
          [](const Have&) -> Bytes { return 9; },
          [](const BitfieldMessage& b) -> Bytes { return 5 + Bytes(b.bits.size()); },
          [](const Request&) -> Bytes { return 17; },
          [](const Cancel&) -> Bytes { return 17; },
          [](const Piece& p) -> Bytes { return 13 + Bytes(p.block.length); },
          [](const auto&) -> Bytes { return 5; },
      },
      m);
}

}  // namespace swarm::core
