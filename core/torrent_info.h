// TorrentInfo: what is shared — a file's name, length, piece length and the
// SHA-256 of every piece — and its identity, the info-hash.
//
// The info-hash is SHA-256 over a canonical binary encoding (see
// CanonicalEncoding), so two peers that built the same TorrentInfo agree on it
// and a handshake can check it. Pieces are `piece_length` bytes except the
// last, which holds the remainder.
//
// Thread-compatible value type.
#ifndef SWARM_CORE_TORRENT_INFO_H_
#define SWARM_CORE_TORRENT_INFO_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/sha256.h"
#include "core/types.h"

namespace swarm::core {

using InfoHash = Sha256Digest;

inline constexpr Bytes kDefaultPieceLength = 256 * kKiB;

class TorrentInfo {
 public:
  TorrentInfo() = default;

  // Hashes `data` piece by piece. REQUIRES: piece_length > 0, !data.empty().
  static TorrentInfo FromData(std::string name, std::span<const uint8_t> data,
                              Bytes piece_length);
  // Builds from known piece hashes (e.g. hashed while streaming a large file,
  // or received from a tracker). Returns nullopt if the hash count does not
  // match length and piece_length.
  static std::optional<TorrentInfo> FromHashes(std::string name, Bytes length,
                                               Bytes piece_length,
                                               std::vector<Sha256Digest> hashes);
  // For the simulator: no real content; piece hashes are derived from the
  // name and index so the info-hash is still well defined.
  static TorrentInfo Synthetic(std::string name, Bytes length,
                               Bytes piece_length);

  const std::string& name() const { return name_; }
  Bytes length() const { return length_; }
  Bytes piece_length() const { return piece_length_; }
  uint32_t piece_count() const { return static_cast<uint32_t>(hashes_.size()); }
  const std::vector<Sha256Digest>& piece_hashes() const { return hashes_; }
  const Sha256Digest& piece_hash(PieceIndex p) const;
  const InfoHash& info_hash() const { return info_hash_; }

  // Size of piece p in bytes (the last piece may be short).
  Bytes PieceSize(PieceIndex p) const;
  // Byte offset of piece p within the file.
  Bytes PieceOffset(PieceIndex p) const { return Bytes(p.value()) * piece_length_; }

  // Name, length, piece length and hashes in a fixed binary layout:
  // u32 name length, name bytes, u64 length, u64 piece length, u32 count,
  // count x 32 hash bytes; integers big-endian.
  std::vector<uint8_t> CanonicalEncoding() const;

 private:
  void ComputeInfoHash();

  std::string name_;
  Bytes length_ = 0;
  Bytes piece_length_ = 0;
  std::vector<Sha256Digest> hashes_;
  InfoHash info_hash_{};
};

}  // namespace swarm::core

#endif  // SWARM_CORE_TORRENT_INFO_H_
