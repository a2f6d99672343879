// The bounds on a torrent's size that the simulator and `swarm` share.
#include "core/torrent_limits.h"

#include <cstdint>
#include <limits>

#include <gtest/gtest.h>

#include "core/piece_picker.h"

namespace swarm::core {
namespace {

TEST(TorrentLimitsTest, BlocksAreCountedPieceByPiece) {
  // 100 KiB in pieces of 40 KiB (the last 20 KiB) and blocks of 16 KiB: each
  // piece ends in a short block, 3 + 3 + 2.
  EXPECT_EQ(PieceCount(100 * kKiB, 40 * kKiB), 3u);
  EXPECT_EQ(BlockCount(100 * kKiB, 40 * kKiB, 16 * kKiB), 8u);
  EXPECT_EQ(BlockCount(1, 40 * kKiB, 16 * kKiB), 1u);
  EXPECT_EQ(BlockCount(64 * kKiB, 32 * kKiB, 16 * kKiB), 4u);
  // The largest length there is does not overflow the count.
  const Bytes most = std::numeric_limits<Bytes>::max();
  EXPECT_EQ(BlockCount(most, 2, 1), static_cast<uint64_t>(most));
  EXPECT_EQ(BlockCount(most, kGiB, 16 * kKiB), (static_cast<uint64_t>(most) >> 14) + 1);
}

TEST(TorrentLimitsTest, UpToTheBoundsATorrentIsTakenBeyondThemRefused) {
  const Bytes tib = 1024 * kGiB;
  // kMaxBlocks blocks exactly: 4 TiB in 16 KiB blocks.
  EXPECT_EQ(TorrentSizeProblem(4 * tib, kMiB, 16 * kKiB), std::nullopt);
  EXPECT_EQ(TorrentSizeProblem(4 * tib + 1, kMiB, 16 * kKiB),
            "too many blocks: 4398046511105B in blocks of 16KiB makes 268435457 "
            "(at most 268435456)");
  // kMaxPieces pieces exactly.
  EXPECT_EQ(TorrentSizeProblem(10'000'000 * kKiB, kKiB, kKiB), std::nullopt);
  EXPECT_EQ(TorrentSizeProblem(10'000'000 * kKiB + 1, kKiB, kKiB),
            "too many pieces: 10240000001B in pieces of 1KiB makes 10000001 (at most 10000000)");
  // What a tracker's metadata may claim (a petabyte in gigabyte pieces:
  // 2^20 hashes) is refused, not allocated.
  EXPECT_EQ(TorrentSizeProblem(1024 * tib, kGiB, 128 * kKiB),
            "too many blocks: 1048576GiB in blocks of 128KiB makes 8589934592 (at most 268435456)");
  // A block's offset in its piece is 32 bits: 2 GiB pieces at most.
  EXPECT_EQ(TorrentSizeProblem(2 * kGiB, 2 * kGiB, 16 * kKiB), std::nullopt);
  EXPECT_EQ(TorrentSizeProblem(8 * kGiB, 4 * kGiB, 16 * kKiB),
            "pieces too large: 4GiB (at most 2GiB)");
}

// A picker beyond the bounds is our own bug (the edges refuse such
// torrents): it aborts, rather than failing to allocate, or taking the
// machine's memory.
TEST(TorrentLimitsDeathTest, APickerBeyondTheBoundsIsABug) {
  const TorrentInfo t = TorrentInfo::Synthetic("big", 8 * 1024 * kGiB, kGiB);  // 2^29 blocks
  const PeerConfig config;  // 16 KiB blocks
  EXPECT_DEATH({ PiecePicker picker(t, config); }, "CHECK failed");
  const TorrentInfo huge_pieces = TorrentInfo::Synthetic("huge", 8 * kGiB, 4 * kGiB);
  EXPECT_DEATH({ PiecePicker picker(huge_pieces, config); }, "CHECK failed");
}

}  // namespace
}  // namespace swarm::core
