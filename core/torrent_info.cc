#include "core/torrent_info.h"

#include <algorithm>

#include "core/check.h"

namespace swarm::core {
namespace {

void PutU32(std::vector<uint8_t>& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(v >> s));
}
void PutU64(std::vector<uint8_t>& out, uint64_t v) {
  for (int s = 56; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(v >> s));
}

uint32_t PieceCountFor(Bytes length, Bytes piece_length) {
  return static_cast<uint32_t>((length + piece_length - 1) / piece_length);
}

}  // namespace

TorrentInfo TorrentInfo::FromData(std::string name,
                                  std::span<const uint8_t> data,
                                  Bytes piece_length) {
  SWARM_CHECK(piece_length > 0 && !data.empty());
  TorrentInfo t;
  t.name_ = std::move(name);
  t.length_ = static_cast<Bytes>(data.size());
  t.piece_length_ = piece_length;
  const uint32_t n = PieceCountFor(t.length_, piece_length);
  t.hashes_.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    const size_t begin = size_t(i) * size_t(piece_length);
    const size_t len = std::min<size_t>(piece_length, data.size() - begin);
    t.hashes_.push_back(Sha256(data.subspan(begin, len)));
  }
  t.ComputeInfoHash();
  return t;
}

std::optional<TorrentInfo> TorrentInfo::FromHashes(
    std::string name, Bytes length, Bytes piece_length,
    std::vector<Sha256Digest> hashes) {
  if (length <= 0 || piece_length <= 0) return std::nullopt;
  // Counted in 64 bits: metadata from a tracker or a publisher is hostile
  // input, and a count that wraps in 32 bits (e.g. 2^32 pieces "matching"
  // an empty hash list) would leave most of the file covered by no hash.
  const Bytes count = (length - 1) / piece_length + 1;
  if (count > Bytes{UINT32_MAX} || hashes.size() != static_cast<uint64_t>(count)) {
    return std::nullopt;
  }
  TorrentInfo t;
  t.name_ = std::move(name);
  t.length_ = length;
  t.piece_length_ = piece_length;
  t.hashes_ = std::move(hashes);
  t.ComputeInfoHash();
  return t;
}

TorrentInfo TorrentInfo::Synthetic(std::string name, Bytes length,
                                   Bytes piece_length) {
  SWARM_CHECK(length > 0 && piece_length > 0);
  const uint32_t n = PieceCountFor(length, piece_length);
  std::vector<Sha256Digest> hashes;
  hashes.reserve(n);
  std::vector<uint8_t> seed(name.begin(), name.end());
  seed.resize(name.size() + 4);
  for (uint32_t i = 0; i < n; ++i) {
    for (int b = 0; b < 4; ++b) seed[name.size() + b] = uint8_t(i >> (8 * b));
    hashes.push_back(Sha256(seed));
  }
  return *FromHashes(std::move(name), length, piece_length, std::move(hashes));
}

const Sha256Digest& TorrentInfo::piece_hash(PieceIndex p) const {
  SWARM_CHECK(p.value() < hashes_.size());
  return hashes_[p.value()];
}

Bytes TorrentInfo::PieceSize(PieceIndex p) const {
  SWARM_CHECK(p.value() < piece_count());
  const Bytes begin = PieceOffset(p);
  return std::min(piece_length_, length_ - begin);
}

std::vector<uint8_t> TorrentInfo::CanonicalEncoding() const {
  std::vector<uint8_t> out;
  out.reserve(4 + name_.size() + 20 + hashes_.size() * 32);
  PutU32(out, static_cast<uint32_t>(name_.size()));
  out.insert(out.end(), name_.begin(), name_.end());
  PutU64(out, static_cast<uint64_t>(length_));
  PutU64(out, static_cast<uint64_t>(piece_length_));
  PutU32(out, static_cast<uint32_t>(hashes_.size()));
  for (const auto& h : hashes_) out.insert(out.end(), h.begin(), h.end());
  return out;
}

void TorrentInfo::ComputeInfoHash() { info_hash_ = Sha256(CanonicalEncoding()); }

}  // namespace swarm::core
