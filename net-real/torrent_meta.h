// TorrentInfo <-> proto (tracker.proto's TorrentMeta), and hashing a file
// from disk into a TorrentInfo without loading it whole.
#ifndef SWARM_NET_TORRENT_META_H_
#define SWARM_NET_TORRENT_META_H_

#include <functional>
#include <optional>
#include <string>

#include "core/torrent_info.h"
#include "proto/tracker.pb.h"

namespace swarm::net {

void ToProto(const core::TorrentInfo& info, wire::TorrentMeta* out);
// nullopt if the hashes are not 32 bytes each or do not match the length.
std::optional<core::TorrentInfo> FromProto(const wire::TorrentMeta& meta);

// Streams `path` through SHA-256 piece by piece. `name` is what the torrent
// will be called (usually the file's base name). `stop`, if given, is asked
// between pieces; when it says true hashing ends with nullopt and an empty
// *error.
std::optional<core::TorrentInfo> HashFile(const std::string& path,
                                          const std::string& name,
                                          core::Bytes piece_length,
                                          std::string* error,
                                          const std::function<bool()>& stop = {});

}  // namespace swarm::net

#endif  // SWARM_NET_TORRENT_META_H_
