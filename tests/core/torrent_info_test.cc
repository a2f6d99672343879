#include "core/torrent_info.h"

#include <gtest/gtest.h>

namespace swarm::core {
namespace {

TEST(Sha256Test, KnownVector) {
  const std::string abc = "abc";
  auto d = Sha256(std::span(reinterpret_cast<const uint8_t*>(abc.data()), abc.size()));
  EXPECT_EQ(ToHex(d),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(TorrentInfoTest, FromDataSplitsPiecesWithShortLast) {
  std::vector<uint8_t> data(2500);
  for (size_t i = 0; i < data.size(); ++i) data[i] = uint8_t(i * 7);
  TorrentInfo t = TorrentInfo::FromData("f.bin", data, 1024);
  EXPECT_EQ(t.piece_count(), 3u);
  EXPECT_EQ(t.PieceSize(PieceIndex(0)), 1024);
  EXPECT_EQ(t.PieceSize(PieceIndex(2)), 452);
  EXPECT_EQ(t.piece_hash(PieceIndex(2)),
            Sha256(std::span(data).subspan(2048, 452)));
}

TEST(TorrentInfoTest, InfoHashDependsOnEveryField) {
  std::vector<uint8_t> data(4096, 1);
  TorrentInfo a = TorrentInfo::FromData("a", data, 1024);
  TorrentInfo b = TorrentInfo::FromData("b", data, 1024);
  TorrentInfo c = TorrentInfo::FromData("a", data, 2048);
  data[5] = 2;
  TorrentInfo d = TorrentInfo::FromData("a", data, 1024);
  EXPECT_NE(a.info_hash(), b.info_hash());
  EXPECT_NE(a.info_hash(), c.info_hash());
  EXPECT_NE(a.info_hash(), d.info_hash());
  auto again = TorrentInfo::FromHashes("a", 4096, 1024, a.piece_hashes());
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->info_hash(), a.info_hash());
}

TEST(TorrentInfoTest, FromHashesRejectsWrongCount) {
  std::vector<Sha256Digest> two(2);
  EXPECT_FALSE(TorrentInfo::FromHashes("x", 3000, 1024, two).has_value());
  EXPECT_FALSE(TorrentInfo::FromHashes("x", 0, 1024, {}).has_value());
}

// Metadata comes from the network: a piece count that only matches the
// hash list modulo 2^32 must not make a torrent whose pieces cover a
// fraction of its length (or none of it).
TEST(TorrentInfoTest, FromHashesRejectsAPieceCountBeyond32Bits) {
  const Bytes four_g = Bytes{1} << 32;
  EXPECT_FALSE(TorrentInfo::FromHashes("x", four_g, 1, {}).has_value());
  EXPECT_FALSE(TorrentInfo::FromHashes("x", four_g * 16384, 16384, {}).has_value());
  std::vector<Sha256Digest> one(1);
  EXPECT_FALSE(TorrentInfo::FromHashes("x", four_g + 1, 1, one).has_value());
  EXPECT_TRUE(TorrentInfo::FromHashes("x", 1, 1, one).has_value());
}

TEST(TorrentInfoTest, SyntheticIsDeterministic) {
  TorrentInfo a = TorrentInfo::Synthetic("sim", 100 * kMiB, 256 * kKiB);
  TorrentInfo b = TorrentInfo::Synthetic("sim", 100 * kMiB, 256 * kKiB);
  EXPECT_EQ(a.piece_count(), 400u);
  EXPECT_EQ(a.info_hash(), b.info_hash());
}

}  // namespace
}  // namespace swarm::core
