#include "net-real/torrent_meta.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#include "core/sha256.h"

namespace swarm::net {

void ToProto(const core::TorrentInfo& info, wire::TorrentMeta* out) {
  out->set_name(info.name());
  out->set_length(static_cast<uint64_t>(info.length()));
  out->set_piece_length(static_cast<uint64_t>(info.piece_length()));
  out->clear_piece_hashes();
  for (const auto& h : info.piece_hashes()) {
    out->add_piece_hashes(h.data(), h.size());
  }
}

std::optional<core::TorrentInfo> FromProto(const wire::TorrentMeta& meta) {
  if (meta.length() == 0 || meta.piece_length() == 0 ||
      meta.length() > (uint64_t{1} << 50) || meta.piece_length() > (uint64_t{1} << 30)) {
    return std::nullopt;
  }
  std::vector<core::Sha256Digest> hashes;
  for (const std::string& h : meta.piece_hashes()) {
    core::Sha256Digest d;
    if (h.size() != d.size()) return std::nullopt;
    std::copy(h.begin(), h.end(), d.begin());
    hashes.push_back(d);
  }
  return core::TorrentInfo::FromHashes(meta.name(), static_cast<core::Bytes>(meta.length()),
                                       static_cast<core::Bytes>(meta.piece_length()),
                                       std::move(hashes));
}

std::optional<core::TorrentInfo> HashFile(const std::string& path,
                                          const std::string& name,
                                          core::Bytes piece_length,
                                          std::string* error,
                                          const std::function<bool()>& stop) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot open " + path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  std::vector<core::Sha256Digest> hashes;
  std::vector<uint8_t> buf(static_cast<size_t>(piece_length));
  core::Bytes total = 0;
  while (in) {
    if (stop && stop()) {
      error->clear();
      return std::nullopt;
    }
    in.read(reinterpret_cast<char*>(buf.data()), piece_length);
    std::streamsize got = in.gcount();
    if (got <= 0) break;
    hashes.push_back(core::Sha256(std::span<const uint8_t>(buf.data(), size_t(got))));
    total += got;
  }
  if (in.bad()) {
    *error = "read error on " + path;
    return std::nullopt;
  }
  if (total == 0) {
    *error = path + " is empty: nothing to share";
    return std::nullopt;
  }
  auto info = core::TorrentInfo::FromHashes(name, total, piece_length, std::move(hashes));
  if (!info) *error = "internal: hash count mismatch for " + path;
  return info;
}

}  // namespace swarm::net
