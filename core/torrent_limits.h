// The largest torrent a peer takes on, the same in the simulator and in real
// swarms, and the check against it.
//
// A peer's bookkeeping grows with the torrent: a few bytes per piece
// (availability, bitfields, the piece's hash) and, in its PiecePicker, two
// bytes per block of the whole file, held or not. At these bounds that is
// already about 400 MB and 512 MiB. Beyond them a malformed or hostile
// torrent (a tracker's answer claiming a petabyte file, say) would make a
// peer fail to allocate, or take the machine's memory. So torrent metadata
// is checked against them where it enters: a scenario file (`sim`), a
// tracker's answer (`swarm get`) and a file to share (`swarm share`); a
// PiecePicker CHECKs them.
#ifndef SWARM_CORE_TORRENT_LIMITS_H_
#define SWARM_CORE_TORRENT_LIMITS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "core/types.h"

namespace swarm::core {

inline constexpr uint64_t kMaxPieces = 10'000'000;
// 2^28 blocks: 512 MiB of block state per peer, a 4 TiB file in BEP 3's
// 16 KiB blocks (32 TiB in `swarm`'s default 128 KiB ones).
inline constexpr uint64_t kMaxBlocks = uint64_t{1} << 28;
// 2 GiB, the largest any edge allows (a scenario file; a tracker's metadata
// stops at 1 GiB, `swarm share` at 64 MiB): the picker keeps a block's
// offset in its piece in 32 bits.
inline constexpr Bytes kMaxPieceLength = Bytes{2} * 1024 * 1024 * 1024;

// Pieces of a file of `length` bytes cut into pieces of `piece_length` (the
// last may be short). REQUIRES: both positive.
uint64_t PieceCount(Bytes length, Bytes piece_length);
// Blocks of at most `block_size` bytes in that file: each piece is cut into
// blocks, and a piece's last block may be short. REQUIRES: all positive.
uint64_t BlockCount(Bytes length, Bytes piece_length, Bytes block_size);

// What is over kMaxPieceLength, kMaxPieces or kMaxBlocks in such a
// torrent, for a peer using blocks of `block_size`, e.g. "too many blocks: 1TiB in blocks of 1KiB
// makes 1073741824 (at most 268435456)"; nullopt if neither is.
// REQUIRES: all positive.
std::optional<std::string> TorrentSizeProblem(Bytes length, Bytes piece_length,
                                              Bytes block_size);

}  // namespace swarm::core

#endif  // SWARM_CORE_TORRENT_LIMITS_H_
