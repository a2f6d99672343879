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
// nullopt if the hashes are not a whole number of 32-byte digests or do not
// match the length, or the length or piece length is 0 or out of bounds, or
// the two make more pieces than a 32-bit count holds; then *why (if given)
// says which, e.g. "3 piece hashes for 1048576 bytes in pieces of 262144 (4
// expected)".
std::optional<core::TorrentInfo> FromProto(const wire::TorrentMeta& meta,
                                           std::string* why = nullptr);

// Why HashFile gave no TorrentInfo. The kinds map to different exit codes
// in `swarm share`: a stop request is an interruption, an empty file is the
// user's input, a failed open or read is the machine's (message names the
// file and the OS error).
struct HashError {
  enum class Kind { kNone, kStopped, kEmpty, kReadError, kInternal };
  Kind kind = Kind::kNone;
  std::string message;
};

// Streams `path` through SHA-256 piece by piece. `name` is what the torrent
// will be called (usually the file's base name). `stop`, if given, is asked
// between pieces; when it says true hashing ends with nullopt and kStopped.
std::optional<core::TorrentInfo> HashFile(const std::string& path,
                                          const std::string& name,
                                          core::Bytes piece_length,
                                          HashError* error,
                                          const std::function<bool()>& stop = {});

}  // namespace swarm::net

#endif  // SWARM_NET_TORRENT_META_H_
