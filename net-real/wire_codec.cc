#include "net-real/wire_codec.h"
#include "core/overloaded.h"

#include <algorithm>
#include <utility>

#include "core/check.h"

namespace swarm::net {
namespace {

using core::Overloaded;

void SetBlock(const core::BlockRef& b, wire::BlockRef* out) {
  out->set_piece(b.piece.value());
  out->set_offset(b.offset);
  out->set_length(b.length);
}

core::BlockRef GetBlock(const wire::BlockRef& b) {
  return core::BlockRef{core::PieceIndex(b.piece()), b.offset(), b.length()};
}

std::optional<core::Message> DecodeHandshake(const wire::Handshake& h,
                                             std::string* error) {
  core::Handshake out;
  if (h.info_hash().size() != out.info_hash.size()) {
    *error = "handshake info_hash is not 32 bytes";
    return std::nullopt;
  }
  std::copy(h.info_hash().begin(), h.info_hash().end(), out.info_hash.begin());
  out.peer_id = core::PeerId(h.peer_id());
  return out;
}

}  // namespace

void EncodeMessage(const core::Message& m, wire::WireMessage* out) {
  out->Clear();
  std::visit(
      Overloaded{
          [&](const core::Handshake& h) {
            auto* w = out->mutable_handshake();
            w->set_info_hash(h.info_hash.data(), h.info_hash.size());
            w->set_peer_id(h.peer_id.value());
          },
          [&](const core::KeepAlive&) { out->mutable_keep_alive(); },
          [&](const core::Choke&) { out->mutable_choke(); },
          [&](const core::Unchoke&) { out->mutable_unchoke(); },
          [&](const core::Interested&) { out->mutable_interested(); },
          [&](const core::NotInterested&) { out->mutable_not_interested(); },
          [&](const core::Have& h) { out->mutable_have()->set_piece(h.piece.value()); },
          [&](const core::BitfieldMessage& b) {
            out->mutable_bitfield()->set_bits(b.bits.data(), b.bits.size());
          },
          [&](const core::Request& r) { SetBlock(r.block, out->mutable_request()); },
          [&](const core::Cancel& c) { SetBlock(c.block, out->mutable_cancel()); },
          [&](const core::Piece&) {
            SWARM_CHECK(false && "a Piece is encoded with EncodePiece");
          },
      },
      m);
}

void EncodePiece(const core::BlockRef& block, std::string payload,
                 wire::WireMessage* out) {
  SWARM_CHECK(payload.size() == block.length);
  out->Clear();
  auto* p = out->mutable_piece();
  SetBlock(block, p->mutable_block());
  p->set_data(std::move(payload));
}

std::optional<Decoded> DecodeMessage(wire::WireMessage* in, std::string* error) {
  using K = wire::WireMessage::KindCase;
  Decoded d;
  switch (in->kind_case()) {
    case K::kHandshake: {
      auto h = DecodeHandshake(in->handshake(), error);
      if (!h) return std::nullopt;
      d.message = *h;
      return d;
    }
    case K::kKeepAlive: d.message = core::KeepAlive{}; return d;
    case K::kChoke: d.message = core::Choke{}; return d;
    case K::kUnchoke: d.message = core::Unchoke{}; return d;
    case K::kInterested: d.message = core::Interested{}; return d;
    case K::kNotInterested: d.message = core::NotInterested{}; return d;
    case K::kHave: d.message = core::Have{core::PieceIndex(in->have().piece())}; return d;
    case K::kBitfield: {
      const std::string& bits = in->bitfield().bits();
      d.message = core::BitfieldMessage{std::vector<uint8_t>(bits.begin(), bits.end())};
      return d;
    }
    case K::kRequest: d.message = core::Request{GetBlock(in->request())}; return d;
    case K::kCancel: d.message = core::Cancel{GetBlock(in->cancel())}; return d;
    case K::kPiece: {
      wire::Piece* p = in->mutable_piece();
      if (!p->has_block()) {
        *error = "piece without block";
        return std::nullopt;
      }
      core::BlockRef b = GetBlock(p->block());
      if (b.length == 0 || b.length > kMaxBlockBytes) {
        *error = "piece length " + std::to_string(b.length) + " out of bounds";
        return std::nullopt;
      }
      if (p->data().size() != b.length) {
        *error = "piece carries " + std::to_string(p->data().size()) +
                 " bytes, declares " + std::to_string(b.length);
        return std::nullopt;
      }
      d.message = core::Piece{b};
      d.payload = std::move(*p->mutable_data());
      return d;
    }
    case K::KIND_NOT_SET:
      break;
  }
  *error = "message kind not set (or unknown)";
  return std::nullopt;
}

}  // namespace swarm::net
