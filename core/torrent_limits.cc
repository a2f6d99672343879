#include "core/torrent_limits.h"

#include "core/check.h"
#include "core/units.h"

namespace swarm::core {

uint64_t PieceCount(Bytes length, Bytes piece_length) {
  SWARM_CHECK(length > 0 && piece_length > 0);
  return static_cast<uint64_t>((length - 1) / piece_length) + 1;
}

uint64_t BlockCount(Bytes length, Bytes piece_length, Bytes block_size) {
  SWARM_CHECK(length > 0 && piece_length > 0 && block_size > 0);
  auto blocks_in = [block_size](Bytes piece) {
    return static_cast<uint64_t>((piece - 1) / block_size) + 1;
  };
  // Whole pieces, then the short last one. No overflow: every block holds
  // at least a byte, so there are at most `length` blocks.
  const uint64_t whole = static_cast<uint64_t>(length / piece_length);
  const Bytes rest = length % piece_length;
  return whole * blocks_in(piece_length) + (rest > 0 ? blocks_in(rest) : 0);
}

std::optional<std::string> TorrentSizeProblem(Bytes length, Bytes piece_length,
                                              Bytes block_size) {
  if (piece_length > kMaxPieceLength) {
    return "pieces too large: " + FormatBytes(piece_length) + " (at most " +
           FormatBytes(kMaxPieceLength) + ")";
  }
  if (const uint64_t pieces = PieceCount(length, piece_length); pieces > kMaxPieces) {
    return "too many pieces: " + FormatBytes(length) + " in pieces of " +
           FormatBytes(piece_length) + " makes " + std::to_string(pieces) + " (at most " +
           std::to_string(kMaxPieces) + ")";
  }
  if (const uint64_t blocks = BlockCount(length, piece_length, block_size);
      blocks > kMaxBlocks) {
    return "too many blocks: " + FormatBytes(length) + " in blocks of " +
           FormatBytes(block_size) + " makes " + std::to_string(blocks) + " (at most " +
           std::to_string(kMaxBlocks) + ")";
  }
  return std::nullopt;
}

}  // namespace swarm::core
