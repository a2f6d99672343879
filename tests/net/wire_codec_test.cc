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
  EXPECT_EQ(d->payload, "hello");
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

}  // namespace
}  // namespace swarm::net
