// Translation layer: every message survives a round trip; malformed
// protobufs are rejected with a reason, never crash.
#include "net-real/wire_codec.h"

#include <gtest/gtest.h>

namespace swarm::net {
namespace {

core::Message RoundTrip(const core::Message& m) {
  wire::WireMessage w;
  EncodeMessage(m, &w);
  std::string bytes = w.SerializeAsString();
  wire::WireMessage back;
  EXPECT_TRUE(back.ParseFromString(bytes));
  std::string error;
  auto d = DecodeMessage(&back, &error);
  EXPECT_TRUE(d.has_value()) << error;
  return d ? d->message : core::Message{};
}

TEST(WireCodecTest, ControlMessagesRoundTrip) {
  core::Handshake hs;
  for (size_t i = 0; i < hs.info_hash.size(); ++i) hs.info_hash[i] = uint8_t(i * 7);
  hs.peer_id = core::PeerId(0xfeedfacecafebeefull);
  core::BlockRef b{core::PieceIndex(17), 32768, 16384};
  std::vector<core::Message> all = {
      hs, core::KeepAlive{}, core::Choke{}, core::Unchoke{}, core::Interested{},
      core::NotInterested{}, core::Have{core::PieceIndex(9)},
      core::BitfieldMessage{{0xff, 0x80}}, core::Request{b}, core::Cancel{b}};
  for (const auto& m : all) {
    EXPECT_EQ(RoundTrip(m), m) << core::MessageName(m);
  }
}

TEST(WireCodecTest, PieceCarriesPayload) {
  core::BlockRef b{core::PieceIndex(3), 0, 5};
  wire::WireMessage w;
  EncodePiece(b, "hello", &w);
  std::string error;
  auto d = DecodeMessage(&w, &error);
  ASSERT_TRUE(d.has_value()) << error;
  EXPECT_EQ(d->message, core::Message(core::Piece{b}));
  EXPECT_EQ(d->payload.ToString(), "hello");
}

TEST(WireCodecTest, RejectsMissingOneof) {
  wire::WireMessage w;
  std::string error;
  EXPECT_FALSE(DecodeMessage(&w, &error).has_value());
  EXPECT_NE(error.find("not set"), std::string::npos);
}

TEST(WireCodecTest, RejectsPayloadLengthMismatch) {
  wire::WireMessage w;
  auto* p = w.mutable_piece();
  p->mutable_block()->set_length(10);
  p->set_data("short");
  std::string error;
  EXPECT_FALSE(DecodeMessage(&w, &error).has_value());
  EXPECT_NE(error.find("declares 10"), std::string::npos) << error;
}

TEST(WireCodecTest, RejectsOversizedAndEmptyBlocks) {
  wire::WireMessage w;
  w.mutable_piece()->mutable_block()->set_length(kMaxBlockBytes + 1);
  std::string error;
  EXPECT_FALSE(DecodeMessage(&w, &error).has_value());
  w.mutable_piece()->mutable_block()->set_length(0);
  EXPECT_FALSE(DecodeMessage(&w, &error).has_value());
}

TEST(WireCodecTest, RejectsPieceWithoutBlock) {
  wire::WireMessage w;
  w.mutable_piece()->set_data("x");
  std::string error;
  EXPECT_FALSE(DecodeMessage(&w, &error).has_value());
}

TEST(WireCodecTest, RejectsShortInfoHash) {
  wire::WireMessage w;
  w.mutable_handshake()->set_info_hash("too short");
  std::string error;
  EXPECT_FALSE(DecodeMessage(&w, &error).has_value());
  EXPECT_NE(error.find("32 bytes"), std::string::npos);
}

TEST(WireCodecTest, GarbageBytesDoNotCrash) {
  // Random byte strings either fail to parse or decode to something; both
  // are fine, neither may crash.
  uint64_t x = 12345;
  for (int i = 0; i < 2000; ++i) {
    std::string bytes;
    for (int j = 0; j < 40; ++j) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      bytes.push_back(static_cast<char>(x >> 56));
    }
    wire::WireMessage w;
    if (!w.ParseFromString(bytes)) continue;
    std::string error;
    (void)DecodeMessage(&w, &error);
  }
}

// Splits `bytes` into parts of `chunk` bytes, as the transport's receive
// buffers would.
Payload Chunked(const std::string& bytes, size_t chunk) {
  auto owner = std::make_shared<const std::string>(bytes);
  std::vector<std::string_view> parts;
  for (size_t i = 0; i < owner->size(); i += chunk) {
    parts.push_back(std::string_view(*owner).substr(i, chunk));
  }
  return Payload(owner, parts);
}

TEST(WireCodecTest, PieceFrameIsExactlyTheProtobufEncoding) {
  for (uint32_t length : {1u, 5u, 127u, 128u, 16384u, 131072u, kMaxBlockBytes}) {
    for (core::BlockRef b : {core::BlockRef{core::PieceIndex(0), 0, length},
                             core::BlockRef{core::PieceIndex(70000), 1u << 20, length}}) {
      std::string data(length, 'a');
      data[length - 1] = 'z';
      wire::WireMessage w;
      EncodePiece(b, data, &w);
      WireFrame f = EncodePieceFrame(b, Payload(data));
      EXPECT_EQ(f.head + f.body.ToString(), w.SerializeAsString()) << length;
    }
  }
}

TEST(WireCodecTest, PieceFrameDecodesInPlaceFromManyParts) {
  core::BlockRef b{core::PieceIndex(3), 16384, 1000};
  std::string data(1000, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = char(i * 31);
  WireFrame f = EncodePieceFrame(b, Payload(data));
  std::string bytes = f.head + f.body.ToString();
  for (size_t chunk : {1u, 3u, 7u, 64u, 4096u}) {
    Payload in = Chunked(bytes, chunk);
    std::string error;
    auto d = DecodeFrame(in, &error);
    ASSERT_TRUE(d.has_value()) << error;
    EXPECT_EQ(d->message, core::Message(core::Piece{b}));
    EXPECT_EQ(d->payload.ToString(), data) << chunk;
    // In place: the payload shares the received buffers.
    EXPECT_EQ(d->payload.owner(), in.owner());
  }
}

TEST(WireCodecTest, FramesOfOtherLayoutsGoThroughProtobuf) {
  // Data before block: valid protobuf, not EncodePieceFrame's layout.
  core::BlockRef b{core::PieceIndex(2), 0, 3};
  wire::Piece p;
  p.set_data("abc");
  std::string bytes = p.SerializeAsString();
  wire::Piece block_only;
  block_only.mutable_block()->set_piece(2);
  block_only.mutable_block()->set_length(3);
  bytes += block_only.SerializeAsString();
  std::string outer;
  outer.push_back(char((10 << 3) | 2));
  outer.push_back(char(bytes.size()));
  outer += bytes;
  std::string error;
  auto d = DecodeFrame(Chunked(outer, 2), &error);
  ASSERT_TRUE(d.has_value()) << error;
  EXPECT_EQ(d->message, core::Message(core::Piece{b}));
  EXPECT_EQ(d->payload.ToString(), "abc");
  // Control messages too.
  WireFrame have = EncodeFrame(core::Have{core::PieceIndex(9)});
  d = DecodeFrame(Payload(have.head), &error);
  ASSERT_TRUE(d.has_value()) << error;
  EXPECT_EQ(d->message, core::Message(core::Have{core::PieceIndex(9)}));
}

TEST(WireCodecTest, FramesWithWrongLengthsAreRejected) {
  core::BlockRef b{core::PieceIndex(1), 0, 8};
  WireFrame f = EncodePieceFrame(b, Payload(std::string(8, 'x')));
  std::string bytes = f.head + f.body.ToString();
  std::string error;
  // One byte short and one byte too many: not a WireMessage, or a Piece
  // whose data does not match its declared length.
  EXPECT_FALSE(DecodeFrame(Payload(bytes.substr(0, bytes.size() - 1)), &error).has_value());
  EXPECT_FALSE(DecodeFrame(Payload(bytes + "x"), &error).has_value());
  // Declared block length differs from the data carried.
  WireFrame lie = EncodePieceFrame(core::BlockRef{core::PieceIndex(1), 0, 8},
                                   Payload(std::string(8, 'x')));
  std::string lied = lie.head + lie.body.ToString();
  lied[lied.size() - 8 - 1 - 1 - 1] = 9;  // BlockRef.length 8 -> 9
  EXPECT_FALSE(DecodeFrame(Payload(lied), &error).has_value());
  EXPECT_NE(error.find("declares 9"), std::string::npos) << error;
  EXPECT_FALSE(DecodeFrame(Payload(std::string("\xff\xff\xff")), &error).has_value());
}

TEST(WireCodecTest, GarbageFramesDoNotCrash) {
  uint64_t x = 777;
  for (int i = 0; i < 2000; ++i) {
    std::string bytes;
    if (i % 2 == 0) bytes.push_back(char((10 << 3) | 2));  // often look like a Piece
    for (int j = 0; j < 40; ++j) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      bytes.push_back(static_cast<char>(x >> 56));
    }
    std::string error;
    (void)DecodeFrame(Chunked(bytes, 1 + i % 5), &error);
  }
}

}  // namespace
}  // namespace swarm::net
