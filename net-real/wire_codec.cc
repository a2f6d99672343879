#include "net-real/wire_codec.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "core/check.h"
#include "core/overloaded.h"
#include "google/protobuf/io/coded_stream.h"

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

namespace {

using google::protobuf::io::CodedInputStream;
using google::protobuf::io::CodedOutputStream;

// Protobuf wire format (https://protobuf.dev/programming-guides/encoding/):
// a length-delimited field is tag (field << 3 | 2), varint length, bytes.
// The varints are read and written with protobuf's own coded streams.
constexpr uint8_t kPieceTag = (10 << 3) | 2;  // WireMessage.piece
constexpr uint8_t kBlockTag = (1 << 3) | 2;   // Piece.block
constexpr uint8_t kDataTag = (2 << 3) | 2;    // Piece.data
// Longest header EncodePieceFrame writes: three tags, three varints of at
// most 5 bytes, a BlockRef of at most 18 bytes.
constexpr size_t kMaxPieceHead = 3 + 3 * 5 + 18;

// Reads the length of a length-delimited field as protobuf's parser does
// (parse_context.h, ReadSize): a varint of at most 5 bytes whose value fits
// an int32. CodedInputStream::ReadVarint32 alone takes up to 10 bytes and
// drops the bits above 32, and so would accept lengths protobuf refuses
// (e.g. 8 written in 6 bytes, or 8 + 2^32).
bool ReadLength(CodedInputStream* in, uint32_t* length) {
  const int start = in->CurrentPosition();
  uint64_t v = 0;
  if (!in->ReadVarint64(&v) || in->CurrentPosition() - start > 5 || v > INT32_MAX) return false;
  *length = static_cast<uint32_t>(v);
  return true;
}

// The fast path: a Piece in EncodePieceFrame's layout whose declared length
// matches the bytes carried. Anything else returns nullopt and is decoded
// (and, if need be, rejected with a reason) by protobuf and DecodeMessage.
std::optional<Decoded> DecodePieceInPlace(const Payload& bytes) {
  uint8_t head[kMaxPieceHead];
  const size_t got = bytes.CopyPrefix(reinterpret_cast<char*>(head), sizeof head);
  CodedInputStream in(head, static_cast<int>(got));
  auto ends_frame = [&](uint32_t len) {  // the field's bytes run to the end
    return static_cast<size_t>(in.CurrentPosition()) + len == bytes.size();
  };
  uint32_t piece_len = 0, block_len = 0, data_len = 0;
  if (in.ReadTag() != kPieceTag || !ReadLength(&in, &piece_len) || !ends_frame(piece_len) ||
      in.ReadTag() != kBlockTag || !ReadLength(&in, &block_len) || block_len > got) {
    return std::nullopt;
  }
  const uint8_t* block_bytes = head + in.CurrentPosition();
  if (!in.Skip(static_cast<int>(block_len)) || in.ReadTag() != kDataTag ||
      !ReadLength(&in, &data_len) || !ends_frame(data_len)) {
    return std::nullopt;
  }
  wire::BlockRef ref;
  if (!ref.ParseFromArray(block_bytes, static_cast<int>(block_len))) return std::nullopt;
  core::BlockRef b = GetBlock(ref);
  if (b.length == 0 || b.length > kMaxBlockBytes || b.length != data_len) return std::nullopt;
  Decoded d;
  d.message = core::Piece{b};
  d.payload = bytes.Suffix(static_cast<size_t>(in.CurrentPosition()));
  return d;
}

}  // namespace

WireFrame EncodeFrame(const core::Message& m) {
  wire::WireMessage w;
  EncodeMessage(m, &w);
  return WireFrame{w.SerializeAsString(), Payload()};
}

WireFrame EncodePieceFrame(const core::BlockRef& block, Payload payload) {
  SWARM_CHECK(payload.size() == block.length);
  wire::BlockRef ref;
  SetBlock(block, &ref);
  const std::string ref_bytes = ref.SerializeAsString();
  const auto ref_len = static_cast<uint32_t>(ref_bytes.size());
  const auto n = static_cast<uint32_t>(payload.size());
  const uint32_t piece_len = 1 + CodedOutputStream::VarintSize32(ref_len) + ref_len + 1 +
                             CodedOutputStream::VarintSize32(n) + n;
  uint8_t head[kMaxPieceHead];
  uint8_t* p = head;
  *p++ = kPieceTag;
  p = CodedOutputStream::WriteVarint32ToArray(piece_len, p);
  *p++ = kBlockTag;
  p = CodedOutputStream::WriteVarint32ToArray(ref_len, p);
  p = std::copy(ref_bytes.begin(), ref_bytes.end(), p);
  *p++ = kDataTag;
  p = CodedOutputStream::WriteVarint32ToArray(n, p);
  WireFrame f;
  f.head.assign(reinterpret_cast<const char*>(head), static_cast<size_t>(p - head));
  f.body = std::move(payload);
  return f;
}

std::optional<Decoded> DecodeFrame(const Payload& bytes, std::string* error) {
  if (auto d = DecodePieceInPlace(bytes)) return d;
  wire::WireMessage m;
  if (!m.ParseFromString(bytes.ToString())) {
    *error = "not a WireMessage (protobuf parse failed)";
    return std::nullopt;
  }
  return DecodeMessage(&m, error);
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
      d.payload = Payload(std::move(*p->mutable_data()));
      return d;
    }
    case K::kProof:
      *error = "proof outside the handshake";
      return std::nullopt;
    case K::KIND_NOT_SET:
      break;
  }
  *error = "message kind not set (or unknown)";
  return std::nullopt;
}

void EncodeAuth(const AuthMessage& m, wire::WireMessage* out) {
  out->Clear();
  std::visit(Overloaded{
                 [&](const AuthHello& h) {
                   auto* w = out->mutable_handshake();
                   w->set_info_hash(h.info_hash.data(), h.info_hash.size());
                   w->set_peer_id(h.peer_id.value());
                   w->set_public_key(h.public_key);
                   w->set_nonce(h.nonce);
                 },
                 [&](const AuthProof& p) { out->mutable_proof()->set_signature(p.signature); },
             },
             m);
}

WireFrame EncodeAuthFrame(const AuthMessage& m) {
  wire::WireMessage w;
  EncodeAuth(m, &w);
  return WireFrame{w.SerializeAsString(), Payload()};
}

std::optional<AuthMessage> DecodeAuthFrame(const Payload& bytes, std::string* error) {
  if (bytes.size() > kMaxAuthMessageBytes) {
    *error = "handshake-phase message of " + std::to_string(bytes.size()) +
             " bytes (at most " + std::to_string(kMaxAuthMessageBytes) + ")";
    return std::nullopt;
  }
  wire::WireMessage m;
  if (!m.ParseFromString(bytes.ToString())) {
    *error = "not a WireMessage (protobuf parse failed)";
    return std::nullopt;
  }
  return DecodeAuthMessage(m, error);
}

std::optional<AuthMessage> DecodeAuthMessage(const wire::WireMessage& in, std::string* error) {
  if (in.has_proof()) {
    if (in.proof().signature().size() != kSignatureBytes) {
      *error = "proof signature is not " + std::to_string(kSignatureBytes) + " bytes";
      return std::nullopt;
    }
    return AuthProof{in.proof().signature()};
  }
  if (!in.has_handshake()) {
    *error = "expected a handshake or a proof, got " +
             (in.kind_case() == wire::WireMessage::KIND_NOT_SET
                  ? std::string("an empty message")
                  : in.GetDescriptor()->FindFieldByNumber(in.kind_case())->name());
    return std::nullopt;
  }
  const wire::Handshake& h = in.handshake();
  AuthHello out;
  if (h.info_hash().size() != out.info_hash.size()) {
    *error = "handshake info_hash is not 32 bytes";
    return std::nullopt;
  }
  if (h.public_key().size() != kPublicKeyBytes) {
    *error = "handshake public_key is not " + std::to_string(kPublicKeyBytes) + " bytes";
    return std::nullopt;
  }
  if (h.nonce().size() != kNonceBytes) {
    *error = "handshake nonce is not " + std::to_string(kNonceBytes) + " bytes";
    return std::nullopt;
  }
  std::copy(h.info_hash().begin(), h.info_hash().end(), out.info_hash.begin());
  out.peer_id = core::PeerId(h.peer_id());
  out.public_key = h.public_key();
  out.nonce = h.nonce();
  return out;
}

}  // namespace swarm::net
