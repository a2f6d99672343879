#include "net-real/torrent_meta.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/sha256.h"

namespace swarm::net {

void ToProto(const core::TorrentInfo& info, wire::TorrentMeta* out) {
  out->set_name(info.name());
  out->set_length(static_cast<uint64_t>(info.length()));
  out->set_piece_length(static_cast<uint64_t>(info.piece_length()));
  const auto& hashes = info.piece_hashes();
  static_assert(sizeof(core::Sha256Digest) == 32);  // no padding: one block
  out->set_piece_hashes(hashes.data(), hashes.size() * sizeof(core::Sha256Digest));
}

std::optional<core::TorrentInfo> FromProto(const wire::TorrentMeta& meta, std::string* why) {
  auto refuse = [why](std::string reason) -> std::optional<core::TorrentInfo> {
    if (why) *why = std::move(reason);
    return std::nullopt;
  };
  constexpr uint64_t kMaxLength = uint64_t{1} << 50;
  constexpr uint64_t kMaxPieceLength = uint64_t{1} << 30;
  if (meta.length() == 0) return refuse("length 0");
  if (meta.length() > kMaxLength) {
    return refuse("length " + std::to_string(meta.length()) + " (at most " +
                  std::to_string(kMaxLength) + ")");
  }
  if (meta.piece_length() == 0) return refuse("piece length 0");
  if (meta.piece_length() > kMaxPieceLength) {
    return refuse("piece length " + std::to_string(meta.piece_length()) + " (at most " +
                  std::to_string(kMaxPieceLength) + ")");
  }
  // Both bounded above, so this cannot overflow. A torrent counts its pieces
  // in 32 bits: a count past that is refused for what it is, not as hashes
  // missing that no list could supply.
  const uint64_t expected = (meta.length() - 1) / meta.piece_length() + 1;
  if (expected > UINT32_MAX) {
    return refuse(std::to_string(meta.length()) + " bytes in pieces of " +
                  std::to_string(meta.piece_length()) + " make " + std::to_string(expected) +
                  " pieces (at most " + std::to_string(UINT32_MAX) + ")");
  }
  const std::string& all = meta.piece_hashes();
  constexpr size_t kDigest = sizeof(core::Sha256Digest);
  if (all.size() % kDigest != 0) {
    return refuse("piece hashes of " + std::to_string(all.size()) +
                  " bytes, not a whole number of SHA-256 digests (32 bytes each)");
  }
  const size_t count = all.size() / kDigest;
  std::vector<core::Sha256Digest> hashes(count);
  if (count > 0) std::memcpy(hashes.data(), all.data(), all.size());
  auto info = core::TorrentInfo::FromHashes(meta.name(), static_cast<core::Bytes>(meta.length()),
                                            static_cast<core::Bytes>(meta.piece_length()),
                                            std::move(hashes));
  if (!info) {
    return refuse(std::to_string(count) + " piece hashes for " + std::to_string(meta.length()) +
                  " bytes in pieces of " + std::to_string(meta.piece_length()) + " (" +
                  std::to_string(expected) + " expected)");
  }
  return info;
}

namespace {

// Reads until `buf` is full or the file ends; -1 with errno on a read error.
ssize_t ReadFull(int fd, uint8_t* buf, size_t size) {
  size_t got = 0;
  while (got < size) {
    const ssize_t n = ::read(fd, buf + got, size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  return static_cast<ssize_t>(got);
}

}  // namespace

std::optional<core::TorrentInfo> HashFile(const std::string& path,
                                          const std::string& name,
                                          core::Bytes piece_length,
                                          HashError* error,
                                          const std::function<bool()>& stop) {
  using Kind = HashError::Kind;
  auto fail = [error](Kind kind, std::string message) {
    *error = HashError{kind, std::move(message)};
    return std::nullopt;
  };
  // POSIX read rather than a stream: a failed read must say why (EIO from a
  // failing disk, say), and iostreams keep errno to themselves.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(Kind::kReadError, "cannot open " + path + ": " + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  std::vector<core::Sha256Digest> hashes;
  std::vector<uint8_t> buf(static_cast<size_t>(piece_length));
  core::Bytes total = 0;
  for (;;) {
    if (stop && stop()) return fail(Kind::kStopped, "interrupted while hashing " + path);
    const ssize_t got = ReadFull(fd, buf.data(), buf.size());
    if (got < 0) {
      return fail(Kind::kReadError, "cannot read " + path + " at byte " +
                                        std::to_string(total) + ": " + std::strerror(errno));
    }
    if (got == 0) break;
    hashes.push_back(core::Sha256(std::span<const uint8_t>(buf.data(), size_t(got))));
    total += got;
    if (static_cast<size_t>(got) < buf.size()) break;
  }
  if (total == 0) return fail(Kind::kEmpty, path + " is empty: nothing to share");
  auto info = core::TorrentInfo::FromHashes(name, total, piece_length, std::move(hashes));
  if (!info) return fail(Kind::kInternal, "internal: hash count mismatch for " + path);
  return info;
}

}  // namespace swarm::net
